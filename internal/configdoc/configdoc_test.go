package configdoc

import (
	"strings"
	"testing"
)

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
