// Package plan renders the offline plan of a stack from the resources the
// recording monitor captured: a component tree, a JSON document for
// machines, a mermaid graph, and the deployment's critical path.
package plan

import (
	"fmt"
	"slices"
	"strings"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

// Graph is the dependency graph of one recorded run.
type Graph struct {
	resources []*recorder.Resource
	byURN     map[string]*recorder.Resource
	children  map[string][]*recorder.Resource
}

// NewGraph indexes recorded resources, given in registration order. The
// program registers independent resources concurrently, so that order
// varies between runs; everything the graph returns is ordered by URN
// where it could otherwise vary.
func NewGraph(resources []*recorder.Resource) *Graph {
	g := &Graph{resources: resources, byURN: map[string]*recorder.Resource{}, children: map[string][]*recorder.Resource{}}
	for _, r := range resources {
		g.byURN[r.URN] = r
		g.children[r.Parent] = append(g.children[r.Parent], r)
	}
	for _, c := range g.children {
		slices.SortFunc(c, byURN)
	}
	return g
}

func byURN(a, b *recorder.Resource) int { return strings.Compare(a.URN, b.URN) }

// Resources returns every resource ordered by URN.
func (g *Graph) Resources() []*recorder.Resource {
	return slices.SortedFunc(slices.Values(g.resources), byURN)
}

// Roots are the resources parented to the stack itself.
func (g *Graph) Roots() []*recorder.Resource { return g.children[""] }

// Children are the direct children of urn.
func (g *Graph) Children(urn string) []*recorder.Resource { return g.children[urn] }

// Descendants returns every resource below urn, depth first.
func (g *Graph) Descendants(urn string) []*recorder.Resource {
	var out []*recorder.Resource
	for _, c := range g.children[urn] {
		out = append(out, c)
		out = append(out, g.Descendants(c.URN)...)
	}
	return out
}

// Waits returns the managed resources r waits for before it can be created:
// its dependencies (a dependency on a component means all of the
// component's managed descendants) and its provider.
func (g *Graph) Waits(r *recorder.Resource) []*recorder.Resource {
	seen := map[string]bool{}
	var out []*recorder.Resource
	add := func(d *recorder.Resource) {
		if d != nil && d.Custom && d.URN != r.URN && !seen[d.URN] {
			seen[d.URN] = true
			out = append(out, d)
		}
	}
	for _, urn := range r.Dependencies {
		d, ok := g.byURN[urn]
		if !ok {
			continue
		}
		if !d.Custom {
			for _, sub := range g.Descendants(d.URN) {
				add(sub)
			}
			continue
		}
		add(d)
	}
	if p := r.ProviderURN(); p != "" {
		add(g.byURN[p])
	}
	return out
}

// CriticalPath is the longest chain of managed resources that must be
// created one after another: its length bounds how parallel a deployment
// can be. Registration order is a topological order (a resource can only
// depend on what was registered before it).
func (g *Graph) CriticalPath() []*recorder.Resource {
	length := map[string]int{}
	prev := map[string]string{}
	var end string
	for _, r := range g.resources {
		if !r.Custom {
			continue
		}
		length[r.URN] = 1
		for _, d := range g.Waits(r) {
			l := length[d.URN] + 1
			if l > length[r.URN] || l == length[r.URN] && d.URN < prev[r.URN] {
				length[r.URN], prev[r.URN] = l, d.URN
			}
		}
		if end == "" || length[r.URN] > length[end] || length[r.URN] == length[end] && r.URN < end {
			end = r.URN
		}
	}
	var path []*recorder.Resource
	for urn := end; urn != ""; urn = prev[urn] {
		path = append(path, g.byURN[urn])
	}
	slices.Reverse(path)
	return path
}

// Top returns the resource's ancestor that is a root (or itself).
func (g *Graph) Top(r *recorder.Resource) *recorder.Resource {
	for r.Parent != "" {
		p, ok := g.byURN[r.Parent]
		if !ok {
			break
		}
		r = p
	}
	return r
}

// Label is a short label of a resource: type and name.
func Label(r *recorder.Resource) string { return r.Type + " " + r.Name }

// keyProperties are the inputs worth showing in the tree, in order.
var keyProperties = []string{
	"metadata.name", "metadata.namespace", "name", "region", "packName", "kubernetesVersion",
	"availabilityZone", "flavor", "minInstances", "maxInstances", "chart", "version", "namespace", "type",
}

// KeyProperties returns "key=value" pairs of the resource's notable scalar inputs.
func KeyProperties(r *recorder.Resource) []string {
	var out []string
	for _, path := range keyProperties {
		v, ok := r.Input(path)
		if !ok || !(v.IsString() || v.IsNumber() || v.IsBool()) {
			continue
		}
		if r.IsSecret(path) {
			out = append(out, path+"=[secret]")
			continue
		}
		s := strings.TrimSpace(fmt.Sprint(v.V))
		if s == "" {
			continue
		}
		out = append(out, path+"="+s)
	}
	return out
}

// Depth is the length of the longest chain of managed resources that ends
// at r (r included).
func (g *Graph) Depth(r *recorder.Resource) int {
	memo := map[string]int{}
	var depth func(r *recorder.Resource) int
	depth = func(r *recorder.Resource) int {
		if d, ok := memo[r.URN]; ok {
			return d
		}
		d := 0
		for _, w := range g.Waits(r) {
			d = max(d, depth(w))
		}
		memo[r.URN] = d + 1
		return d + 1
	}
	return depth(r)
}
