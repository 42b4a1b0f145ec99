package overlay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMergeStackFile: the overlay merges maps key by key and replaces
// anything else; what it does not name stays as checked in.
func TestMergeStackFile(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.yaml"), filepath.Join(dir, "out.yaml")
	in := "config:\n  camps-infra:phase: 1\n  camps-infra:edge:\n    zone: camps.ch\n    records:\n      - name: uat.camps.ch\n"
	if err := os.WriteFile(src, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	overlay := map[string]any{
		"camps-infra:edge":     map[string]any{"records": []any{}},
		"camps-infra:platform": map[string]any{"install": false},
	}
	if err := MergeStackFile(src, dst, overlay); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"camps-infra:phase: 1", "zone: camps.ch", "records: []", "install: false"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("merged file lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "uat.camps.ch") {
		t.Errorf("the overlay's list did not replace the file's:\n%s", b)
	}
}
