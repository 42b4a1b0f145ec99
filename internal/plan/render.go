package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

// Redacted stands for a secret value in every rendering.
const Redacted = "[secret]"

// Text writes the component tree with resource counts and key properties,
// the outputs and the critical path.
func Text(w io.Writer, stack string, g *Graph, outputs resource.PropertyMap, budget fmt.Stringer) error {
	managed := 0
	for _, r := range g.resources {
		if r.Custom {
			managed++
		}
	}
	fmt.Fprintf(w, "stack %s: %d resources (%d managed or read, %d components)\n\n",
		stack, len(g.resources), managed, len(g.resources)-managed)
	var walk func(r *recorder.Resource, depth int)
	walk = func(r *recorder.Resource, depth int) {
		indent := strings.Repeat("  ", depth)
		line := indent + Label(r)
		if !r.Custom {
			line += fmt.Sprintf(" (%d resources)", len(g.Descendants(r.URN)))
		}
		if props := KeyProperties(r); len(props) > 0 {
			line += "  " + strings.Join(props, " ")
		}
		if r.Protect {
			line += "  [protected]"
		}
		if r.Read {
			line += "  [read]"
		}
		fmt.Fprintln(w, line)
		for _, c := range g.Children(r.URN) {
			walk(c, depth+1)
		}
	}
	for _, r := range g.Roots() {
		walk(r, 0)
	}
	fmt.Fprintln(w, "\noutputs:")
	for _, k := range slices.Sorted(maps.Keys(outputs)) {
		b, _ := json.Marshal(Plain(outputs[k]))
		fmt.Fprintf(w, "  %s = %s\n", k, b)
	}
	if budget != nil {
		fmt.Fprintf(w, "\n%s\n", budget)
	}
	path := g.CriticalPath()
	fmt.Fprintf(w, "\ncritical path: %d steps\n", len(path))
	for i, r := range path {
		fmt.Fprintf(w, "  %d. %s\n", i+1, Label(r))
	}
	return nil
}

// Document is the machine-readable plan.
type Document struct {
	Stack        string         `json:"stack"`
	Resources    []Resource     `json:"resources"`
	Outputs      map[string]any `json:"outputs"`
	CriticalPath []string       `json:"criticalPath"`
	// Budget is the platform's capacity budget, when the stack installs it.
	Budget any `json:"budget,omitempty"`
}

// Resource is one resource of the machine-readable plan.
type Resource struct {
	URN          string         `json:"urn"`
	Type         string         `json:"type"`
	Name         string         `json:"name"`
	Parent       string         `json:"parent,omitempty"`
	Custom       bool           `json:"custom"`
	Read         bool           `json:"read,omitempty"`
	Provider     string         `json:"provider,omitempty"`
	Protect      bool           `json:"protect,omitempty"`
	Dependencies []string       `json:"dependencies,omitempty"`
	Inputs       map[string]any `json:"inputs"`
	SecretInputs []string       `json:"secretInputs,omitempty"`
}

// JSON writes every resource with its inputs, secrets redacted.
func JSON(w io.Writer, stack string, g *Graph, outputs resource.PropertyMap, budget any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewDocument(stack, g, outputs, budget))
}

// NewDocument is the machine-readable plan of g.
func NewDocument(stack string, g *Graph, outputs resource.PropertyMap, budget any) Document {
	doc := Document{Stack: stack, Outputs: map[string]any{}, CriticalPath: []string{}, Budget: budget}
	for _, r := range g.Resources() {
		doc.Resources = append(doc.Resources, Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Custom: r.Custom, Read: r.Read,
			Provider: r.ProviderURN(), Protect: r.Protect, Dependencies: r.Dependencies,
			Inputs:       Plain(resource.NewProperty(r.Inputs)).(map[string]any),
			SecretInputs: r.SecretPaths(),
		})
	}
	for k, v := range outputs {
		doc.Outputs[string(k)] = Plain(v)
	}
	for _, r := range g.CriticalPath() {
		doc.CriticalPath = append(doc.CriticalPath, r.URN)
	}
	return doc
}

// Plain turns a property value into plain JSON-able Go values; secrets
// become Redacted and unknowns "[unknown]".
func Plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return Redacted
	case v.IsComputed() || v.IsOutput() && !v.OutputValue().Known:
		return "[unknown]"
	case v.IsOutput():
		if v.OutputValue().Secret {
			return Redacted
		}
		return Plain(v.OutputValue().Element)
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = Plain(e)
		}
		return m
	case v.IsArray():
		a := []any{}
		for _, e := range v.ArrayValue() {
			a = append(a, Plain(e))
		}
		return a
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsNull():
		return nil
	case v.IsAsset() || v.IsArchive():
		return "[asset]"
	}
	return v.V
}

// Mermaid draws the top-level components and resources and the
// dependencies between them, in deployment order (A --> B: A first).
func Mermaid(w io.Writer, g *Graph) error {
	ids := map[string]string{}
	fmt.Fprintln(w, "graph LR")
	for i, r := range g.Roots() {
		ids[r.URN] = fmt.Sprintf("n%d", i)
		shape := `["%s"]`
		if !r.Custom {
			shape = `[["%s"]]`
		}
		label := Label(r)
		if !r.Custom {
			label += fmt.Sprintf(" (%d)", len(g.Descendants(r.URN)))
		}
		fmt.Fprintf(w, "  %s"+shape+"\n", ids[r.URN], strings.ReplaceAll(label, `"`, "'"))
	}
	edges := map[[2]string]bool{}
	for _, r := range g.Resources() {
		to := g.Top(r)
		for _, d := range g.Waits(r) {
			from := g.Top(d)
			if from.URN != to.URN {
				edges[[2]string{ids[from.URN], ids[to.URN]}] = true
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(edges), func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
	for _, e := range keys {
		fmt.Fprintf(w, "  %s --> %s\n", e[0], e[1])
	}
	return nil
}
