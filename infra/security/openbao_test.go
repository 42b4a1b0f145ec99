package security

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestOpenBaoConfigParses: the server configuration is valid HCL with the
// blocks and attributes HA Raft over TLS needs.
func TestOpenBaoConfigParses(t *testing.T) {
	for _, replicas := range []int{3, 5} {
		src := openBaoConfig(replicas)
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
		ESONamespace: "external-secrets", ESOServiceAccount: "external-secrets"}
	for _, tc := range []struct {
		name string
		mut  func(a *OpenBaoArgs)
		want string
	}{
		{"valid", func(*OpenBaoArgs) {}, ""},
		{"two voters", func(a *OpenBaoArgs) { a.Replicas = 2 }, "Raft needs 3 or 5 voters"},
		{"no storage class", func(a *OpenBaoArgs) { a.StorageClass = "" }, "storage"},
		{"no reader", func(a *OpenBaoArgs) { a.ESOServiceAccount = "" }, "service account"},
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
