package kube

import (
	"encoding/json"
	"testing"
)

// TestIntOrString: OpenAPI's int-or-string (a string of that format)
// becomes kubernetes-json-schema's one of a string or an integer, so a
// chart's schema accepts minAvailable: 1 as the cluster does.
func TestIntOrString(t *testing.T) {
	var defs map[string]any
	if err := json.Unmarshal([]byte(`{"io.k8s.apimachinery.pkg.util.intstr.IntOrString":{"type":"string","format":"int-or-string"},"x":{"properties":{"p":{"type":"string","format":"int-or-string"},"q":{"type":"string"}}}}`), &defs); err != nil {
		t.Fatal(err)
	}
	intOrString(defs)
	b, _ := json.Marshal(defs)
	want := `{"io.k8s.apimachinery.pkg.util.intstr.IntOrString":{"format":"int-or-string","oneOf":[{"type":"string"},{"type":"integer"}]},"x":{"properties":{"p":{"format":"int-or-string","oneOf":[{"type":"string"},{"type":"integer"}]},"q":{"type":"string"}}}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestNew(t *testing.T) {
	before := []Object{{"namespaces", "", "default"}, {"configmaps", "kube-system", "x"}}
	after := []Object{{"namespaces", "", "default"}, {"namespaces", "", "uat"}, {"configmaps", "kube-system", "x"}}
	if got := New(before, after); len(got) != 1 || got[0].String() != "namespaces/uat" {
		t.Errorf("New = %v", got)
	}
}
