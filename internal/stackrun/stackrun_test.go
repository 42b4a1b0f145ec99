package stackrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStackConfigReplacesSecureValues(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "Pulumi.dev.yaml", `config:
  camps-infra:phase: 2
  camps-infra:registryToken:
    secure: AAABAHxyz
  camps-infra:cluster:
    pools: [{zone: az-1, minInstances: 2}]
`)
	values, secret, err := StackConfig(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if values["camps-infra:phase"] != "2" {
		t.Errorf("phase = %q", values["camps-infra:phase"])
	}
	if v := values["camps-infra:registryToken"]; !secret["camps-infra:registryToken"] || strings.Contains(v, "AAAB") {
		t.Errorf("secure value = %q secret=%v, want a test value, secret", v, secret["camps-infra:registryToken"])
	}
	if got := values["camps-infra:cluster"]; got != `{"pools":[{"minInstances":2,"zone":"az-1"}]}` {
		t.Errorf("cluster = %s", got)
	}
}

func TestRunAppliesProjectDefaultsAndReportsReferences(t *testing.T) {
	dir := t.TempDir()
	project, err := os.ReadFile("../../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "Pulumi.yaml", string(project))
	write(t, dir, "Pulumi.a.yaml", "config:\n  camps-infra:cluster:\n    attachStack: missing\n")
	res, err := Run(Options{Dir: dir, Stack: "a"})
	if err == nil || !strings.Contains(err.Error(), "stack reference organization/camps-infra/missing") {
		t.Fatalf("err = %v, want the missing referenced stack named", err)
	}
	if res.Config["camps-infra:phase"] != "1" || res.Config["camps-infra:namespaces"] != "[]" {
		t.Errorf("project defaults not applied: %v", res.Config)
	}
}
