package configdoc

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedFilesAreCurrent fails when docs/configuration.md or a
// description in Pulumi.yaml says something other than the config types'
// doc comments and presets: run make docs.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	markdown, project, err := Generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]byte{MarkdownFile: markdown, ProjectFile: project} {
		got, err := os.ReadFile("../../" + file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make docs", file)
		}
	}
}

// TestEveryPathIsDocumented: the walk reaches nested fields, lists and
// secrets, with their types.
func TestEveryPathIsDocumented(t *testing.T) {
	fields, err := Fields("../../stacks")
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Field{}
	for _, f := range fields {
		byPath[f.Path] = f
	}
	for path, typ := range map[string]string{
		"phase":                                   "integer",
		"cluster.pools":                           "list of objects",
		"cluster.pools[].labels":                  "map of strings",
		"namespaces[].quota.pods":                 "integer",
		"registryToken":                           "secret string",
		"security.oidc.issuerUrl":                 "string",
		"slo.availability":                        "number",
		"platform.monitoring.alertRoutes.warning": "list of strings",
	} {
		f, ok := byPath[path]
		if !ok || f.Type != typ || f.Doc == "" {
			t.Errorf("%s: %+v, want type %s with a doc", path, f, typ)
		}
	}
	if !byPath["registryToken"].Secret || byPath["registry"].Secret {
		t.Error("secret keys are not marked as such")
	}
	if got := byPath["namespaces[].quota.pods"].Default; got != "`30` in phase 1, `100` in phase 2" {
		t.Errorf("the quota's pods preset renders as %q", got)
	}
}

func TestSplitDefault(t *testing.T) {
	tests := []struct{ doc, def, rest string }{
		{"The region. Default: preset.", "preset", "The region."},
		{"Enabled records. Default: true when the stack has hosts. Needs a namespace.", "true when the stack has hosts", "Enabled records. Needs a namespace."},
		{"The host. Default: audit-<stack>.<edge.zone>.", "audit-<stack>.<edge.zone>", "The host."},
		{"No default here.", "", "No default here."},
		{"Mode. Default: attach when set; create otherwise.", "attach when set; create otherwise", "Mode."},
	}
	for _, tt := range tests {
		def, rest := splitDefault(tt.doc)
		if def != tt.def || rest != tt.rest {
			t.Errorf("splitDefault(%q) = %q, %q; want %q, %q", tt.doc, def, rest, tt.def, tt.rest)
		}
	}
}

func TestStripAndWrap(t *testing.T) {
	if got := strip("Phase", "Phase is the architecture phase."); got != "The architecture phase." {
		t.Errorf("strip = %q", got)
	}
	if got := strip("Hosts", "Hosts are probed."); got != "Hosts are probed." {
		t.Errorf("strip kept no subject: %q", got)
	}
	for _, l := range wrap(strings.Repeat("word ", 40), 20) {
		if len(l) > 20 {
			t.Errorf("line %q is longer than 20", l)
		}
	}
}
