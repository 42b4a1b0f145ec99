package stacks_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/stacks"
)

// TestProjectFile checks Pulumi.yaml against Pulumi's own project schema
// and against the keys the program reads.
func TestProjectFile(t *testing.T) {
	proj, err := workspace.LoadProject("../Pulumi.yaml") // validates against project.json
	if err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	if proj.Name != stacks.Project || proj.Runtime.Name() != "go" {
		t.Errorf("project %s runtime %s, want %s on go", proj.Name, proj.Runtime.Name(), stacks.Project)
	}
	declared := slices.Sorted(maps.Keys(proj.Config))
	if want := slices.Sorted(slices.Values(stacks.Keys)); !slices.Equal(declared, want) {
		t.Errorf("Pulumi.yaml declares %v, the program reads %v", declared, want)
	}
	for key, c := range proj.Config {
		if c.Type == nil || strings.TrimSpace(c.Description) == "" || c.Default == nil {
			t.Errorf("config %s lacks a type, a description or a default", key)
		}
		// The CLI writes a default into the stack's config as a plain
		// value, then refuses it for a key marked secret
		// (pulumi/pulumi#21865): every preview would stop before the
		// program runs. The program refuses plain-text secrets itself.
		if c.Secret {
			t.Errorf("config %s is marked secret in Pulumi.yaml: with its default the CLI refuses every stack (pulumi/pulumi#21865); the program checks secrecy", key)
		}
		if slices.Contains(stacks.SecretKeys, key) && !strings.Contains(c.Description, "secret") {
			t.Errorf("config %s: its description does not say it is a secret", key)
		}
	}
}

// TestStackFiles checks that the checked-in stack files set only declared
// keys, with values of the declared type, and no secret in plain text.
func TestStackFiles(t *testing.T) {
	proj, err := workspace.LoadProject("../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../Pulumi.*.yaml")
	if len(files) < 3 {
		t.Fatalf("stack files %v: want uat, prod and dr", files)
	}
	for _, f := range files {
		stack := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var file struct {
			Config map[string]any `yaml:"config"`
		}
		if err := yaml.Unmarshal(b, &file); err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		if got := file.Config["pulumi:disable-default-providers"]; fmt.Sprint(got) != "[kubernetes infomaniak random openstack cloudflare]" {
			t.Errorf("%s: pulumi:disable-default-providers = %v, want kubernetes, infomaniak, random, openstack and cloudflare", stack, got)
		}
		for full, v := range file.Config {
			if strings.HasPrefix(full, "pulumi:") {
				continue
			}
			key, ok := strings.CutPrefix(full, stacks.Project+":")
			c, declared := proj.Config[key]
			if !ok || !declared {
				t.Errorf("%s: %s is not declared in Pulumi.yaml", stack, full)
				continue
			}
			if secure, isMap := v.(map[string]any); slices.Contains(stacks.SecretKeys, key) && (!isMap || secure["secure"] == nil) {
				t.Errorf("%s: secret %s is in plain text", stack, full)
				continue
			}
			if !slices.Contains(stacks.SecretKeys, key) && !workspace.ValidateConfigValue(c.TypeName(), c.Items, v) {
				t.Errorf("%s: %s is not of type %s", stack, full, c.TypeName())
			}
		}
	}
}

// TestKeyConstantsAreConfigTags: the constants code names keys by are the
// config tags that Load reads (the tags are the keys' one source).
func TestKeyConstantsAreConfigTags(t *testing.T) {
	for _, k := range []string{
		stacks.KeyPhase, stacks.KeyCluster, stacks.KeyInfomaniak, stacks.KeyInfomaniakToken, stacks.KeyKubeconfig,
		stacks.KeyPlatform, stacks.KeyNamespaces, stacks.KeyRegistry, stacks.KeyRegistryToken, stacks.KeyCloudflare,
		stacks.KeyDNSToken, stacks.KeyReceivers, stacks.KeyHeartbeat, stacks.KeyEdge, stacks.KeyOpenStack, stacks.KeyOpenStackSecret,
		stacks.KeyCloudflareToken, stacks.KeySLO, stacks.KeyData, stacks.KeySecurity, stacks.KeyOIDCClientID,
	} {
		if !slices.Contains(stacks.Keys, k) {
			t.Errorf("constant %q is not the config tag of a Config field", k)
		}
	}
	if len(stacks.Keys) != 21 || len(stacks.SecretKeys) != 8 {
		t.Errorf("%d keys, %d secret: a key was added without its constant here", len(stacks.Keys), len(stacks.SecretKeys))
	}
}
