package security

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

// TestOpenBaoConfigParses: the server configuration is valid HCL with the
// blocks and attributes HA Raft over TLS needs.
func TestOpenBaoConfigParses(t *testing.T) {
	for _, replicas := range []int{3, 5} {
		src := openBaoConfig(replicas, SealShamir)
		f, diags := hclsyntax.ParseConfig([]byte(src), "openbao.hcl", hcl.Pos{Line: 1, Column: 1})
		if diags.HasErrors() {
			t.Fatalf("%d replicas: %v\n%s", replicas, diags, src)
		}
		body := f.Body.(*hclsyntax.Body)
		blocks := map[string]*hclsyntax.Block{}
		for _, b := range body.Blocks {
			blocks[b.Type+" "+strings.Join(b.Labels, " ")] = b
		}
		for _, want := range []string{"listener tcp", "storage raft", "service_registration kubernetes", "telemetry ", "audit file file"} {
			if blocks[want] == nil {
				t.Errorf("%d replicas: no block %q", replicas, want)
			}
		}
		attr := func(b *hclsyntax.Block, name string) string {
			t.Helper()
			if b == nil {
				return ""
			}
			a, ok := b.Body.Attributes[name]
			if !ok {
				return ""
			}
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("%s: %v", name, diags)
			}
			if v.Type().FriendlyName() == "string" {
				return v.AsString()
			}
			return v.GoString()
		}
		listener := blocks["listener tcp"]
		if got := attr(listener, "tls_cert_file"); got != tlsDir+"/tls.crt" {
			t.Errorf("tls_cert_file = %q", got)
		}
		if attr(listener, "tls_disable") != "" {
			t.Error("the listener disables TLS")
		}
		raft := blocks["storage raft"]
		if attr(raft, "path") != "/openbao/data" {
			t.Errorf("raft path %q", attr(raft, "path"))
		}
		joins := 0
		for _, b := range raft.Body.Blocks {
			if b.Type == "retry_join" {
				joins++
				if !strings.HasPrefix(attr(b, "leader_api_addr"), "https://openbao-") || attr(b, "leader_ca_cert_file") != tlsDir+"/ca.crt" {
					t.Errorf("retry_join %q %q", attr(b, "leader_api_addr"), attr(b, "leader_ca_cert_file"))
				}
			}
		}
		if joins != replicas {
			t.Errorf("%d retry_join blocks for %d replicas", joins, replicas)
		}
		var opts *hclsyntax.Block
		if a := blocks["audit file file"]; a != nil {
			for _, b := range a.Body.Blocks {
				if b.Type == "options" {
					opts = b
				}
			}
		}
		if got := attr(opts, "file_path"); got != auditLog {
			t.Errorf("audit file_path %q", got)
		}
	}
}

// TestOpenBaoArgs refuses what Raft cannot do.
func TestOpenBaoArgs(t *testing.T) {
	ok := OpenBaoArgs{Replicas: 3, StorageSize: "10Gi", AuditStorageSize: "10Gi", StorageClass: "longhorn",
		ESONamespace: "external-secrets", ESOServiceAccount: "external-secrets", Seal: SealStatic}
	for _, tc := range []struct {
		name string
		mut  func(a *OpenBaoArgs)
		want string
	}{
		{"valid", func(*OpenBaoArgs) {}, ""},
		{"two voters", func(a *OpenBaoArgs) { a.Replicas = 2 }, "Raft needs 3 or 5 voters"},
		{"no storage class", func(a *OpenBaoArgs) { a.StorageClass = "" }, "storage"},
		{"no reader", func(a *OpenBaoArgs) { a.ESOServiceAccount = "" }, "service account"},
		{"an unknown seal", func(a *OpenBaoArgs) { a.Seal = "awskms" }, `seal "awskms": use one of static, shamir, migrate-to-shamir`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ok
			tc.mut(&a)
			err := a.validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestOpenBaoSeal: the static seal reads the program's key from the
// mounted Secret (disabled while migrating to Shamir); Shamir has none.
func TestOpenBaoSeal(t *testing.T) {
	for _, tc := range []struct {
		seal     string
		disabled string // "" when the seal block is absent
	}{
		{SealStatic, "false"}, {SealMigrateToShamir, "true"}, {SealShamir, ""},
	} {
		t.Run(tc.seal, func(t *testing.T) {
			f, diags := hclsyntax.ParseConfig([]byte(openBaoConfig(3, tc.seal)), "openbao.hcl", hcl.Pos{Line: 1, Column: 1})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var seal *hclsyntax.Block
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type == "seal" {
					if seal != nil || len(b.Labels) != 1 || b.Labels[0] != "static" {
						t.Fatalf("seal blocks %v", b.Labels)
					}
					seal = b
				}
			}
			if tc.disabled == "" {
				if seal != nil {
					t.Error("a seal block with Shamir")
				}
				return
			}
			if seal == nil {
				t.Fatal("no seal block")
			}
			attrs := map[string]string{"disabled": "false"}
			for name, a := range seal.Body.Attributes {
				v, _ := a.Expr.Value(nil)
				attrs[name] = v.AsString()
			}
			if attrs["current_key_id"] != SealKeyID || attrs["current_key"] != "file://"+sealDir+"/key" || attrs["disabled"] != tc.disabled {
				t.Errorf("seal %v, want key %s from %s/key, disabled %s", attrs, SealKeyID, sealDir, tc.disabled)
			}
		})
	}
}

// TestSealKeyIsProtected: with the static seal the program generates a
// 32-byte key, keeps it in the protected Secret the replicas mount
// read-only; with Shamir there is no key.
func TestSealKeyIsProtected(t *testing.T) {
	for _, seal := range Seals {
		t.Run(seal, func(t *testing.T) {
			rec := recorder.New("p", "s", nil)
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewOpenBao(ctx, "openbao", &OpenBaoArgs{Replicas: 3, StorageSize: "2Gi", AuditStorageSize: "2Gi",
					StorageClass: "longhorn-local", ESONamespace: "external-secrets", ESOServiceAccount: "external-secrets", Seal: seal})
				return err
			}, pulumi.WithMocks("p", "s", rec))
			if err != nil {
				t.Fatal(err)
			}
			key, hasKey := rec.Find("random:index/randomBytes:RandomBytes", "openbao-seal-key")
			secret, hasSecret := rec.Find("kubernetes:core/v1:Secret", "openbao-seal")
			release, _ := rec.Find("kubernetes:helm.sh/v3:Release", "openbao")
			mounted := false
			for i := range 5 {
				mounted = mounted || release.String(fmt.Sprintf("values.server.volumes[%d].secret.secretName", i)) == SealSecret
			}
			if seal == SealShamir {
				if hasKey || hasSecret || mounted {
					t.Errorf("Shamir: key %v, Secret %v, mounted %v", hasKey, hasSecret, mounted)
				}
				return
			}
			if !hasKey || !hasSecret || !mounted {
				t.Fatalf("key %v, Secret %v, mounted %v", hasKey, hasSecret, mounted)
			}
			if length, _ := key.Input("length"); !key.Protect || !secret.Protect || !length.IsNumber() || length.NumberValue() != 32 {
				t.Errorf("key protected %v length %v, Secret protected %v", key.Protect, length, secret.Protect)
			}
			if secret.String("metadata.name") != SealSecret || !secret.IsSecret("stringData") {
				t.Errorf("Secret %v", secret.Inputs)
			}
			if !slices.Contains(release.Dependencies, secret.URN) {
				t.Error("the release does not wait for the seal key")
			}
		})
	}
}
