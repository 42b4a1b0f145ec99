package plan

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

func urn(name string) string { return "urn:pulumi:s::p::t::" + name }

func res(name string, custom bool, parent string, deps ...string) *recorder.Resource {
	r := &recorder.Resource{Type: "t", Name: name, URN: urn(name), Custom: custom}
	if parent != "" {
		r.Parent = urn(parent)
	}
	for _, d := range deps {
		r.Dependencies = append(r.Dependencies, urn(d))
	}
	return r
}

func names(rs []*recorder.Resource) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return strings.Join(out, ",")
}

func TestCriticalPath(t *testing.T) {
	tests := []struct {
		name      string
		resources []*recorder.Resource
		want      string
	}{
		{"independent resources", []*recorder.Resource{res("a", true, ""), res("b", true, "")}, "a"},
		{"a chain", []*recorder.Resource{res("a", true, ""), res("b", true, "", "a"), res("c", true, "", "b")}, "a,b,c"},
		{"longest branch wins", []*recorder.Resource{
			res("a", true, ""), res("b", true, "", "a"), res("c", true, "", "b"), res("x", true, "", "a"),
		}, "a,b,c"},
		{"a dependency on a component waits for its children", []*recorder.Resource{
			res("comp", false, ""), res("a", true, "comp"), res("b", true, "comp", "a"), res("c", true, "", "comp"),
		}, "a,b,c"},
		{"a provider is waited for", func() []*recorder.Resource {
			p := res("provider", true, "")
			r := res("r", true, "")
			r.Provider = p.URN + "::id"
			return []*recorder.Resource{p, r}
		}(), "provider,r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(NewGraph(tt.resources).CriticalPath()); got != tt.want {
				t.Errorf("critical path = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPlainRedactsSecrets(t *testing.T) {
	v := resource.NewProperty(resource.PropertyMap{
		"public": resource.NewProperty("x"),
		"token":  resource.MakeSecret(resource.NewProperty("hunter2")),
		"nested": resource.NewProperty([]resource.PropertyValue{resource.MakeSecret(resource.NewProperty(1.0))}),
		"later":  resource.MakeComputed(resource.NewProperty("")),
	})
	got := Plain(v).(map[string]any)
	if got["public"] != "x" || got["token"] != Redacted || got["nested"].([]any)[0] != Redacted || got["later"] != "[unknown]" {
		t.Errorf("Plain = %v", got)
	}
}

func TestMermaidEdgesFollowDependencies(t *testing.T) {
	g := NewGraph([]*recorder.Resource{
		res("cluster", false, ""), res("k8s", true, "cluster"),
		res("app", false, ""), res("ns", true, "app", "k8s"),
	})
	var b strings.Builder
	if err := Mermaid(&b, g); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "n1 --> n0") && !strings.Contains(b.String(), "n0 --> n1") {
		t.Fatalf("no edge:\n%s", b.String())
	}
	// app (n0 after sorting by URN) depends on cluster (n1).
	if !strings.Contains(b.String(), "n1 --> n0") {
		t.Errorf("edge points the wrong way:\n%s", b.String())
	}
}
