package plan

import (
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Changes are what moving a stack from one plan to another does to its
// resources, as `pulumi up` would: resources are matched by URN.
type Changes struct {
	// Create are in the new plan only.
	Create []Resource
	// Delete are in the old plan only.
	Delete []Resource
	// Replace are in both, but their provider is replaced: a Kubernetes
	// provider pointed at another cluster (its inputs or what they come
	// from changed) recreates everything it manages there.
	Replace []Resource
	// Update are in both with other inputs: the top-level keys that differ.
	Update map[string][]string
	// Same counts the resources in both, unchanged.
	Same int
}

// Compare is what going from the plan before to the plan after changes.
// Secret inputs are redacted in both, so a change of a secret alone is not
// seen. Components are left out: they hold nothing.
func Compare(before, after Document) Changes {
	old := map[string]Resource{}
	for _, r := range before.Resources {
		if r.Custom {
			old[r.URN] = r
		}
	}
	c := Changes{Update: map[string][]string{}}
	replacedProvider := map[string]bool{}
	seen := map[string]bool{}
	for _, r := range after.Resources {
		if !r.Custom {
			continue
		}
		seen[r.URN] = true
		o, ok := old[r.URN]
		if !ok {
			c.Create = append(c.Create, r)
			continue
		}
		if strings.HasPrefix(r.Type, "pulumi:providers:") && (!reflect.DeepEqual(o.Inputs, r.Inputs) || !slices.Equal(o.Dependencies, r.Dependencies)) {
			replacedProvider[r.URN] = true
		}
	}
	for _, r := range after.Resources {
		o, ok := old[r.URN]
		if !r.Custom || !ok {
			continue
		}
		switch {
		case replacedProvider[r.Provider] || o.Provider != r.Provider && !strings.HasPrefix(r.Type, "pulumi:providers:"):
			c.Replace = append(c.Replace, r)
		case !reflect.DeepEqual(o.Inputs, r.Inputs):
			var keys []string
			for _, k := range slices.Sorted(maps.Keys(union(o.Inputs, r.Inputs))) {
				if !reflect.DeepEqual(o.Inputs[k], r.Inputs[k]) {
					keys = append(keys, k)
				}
			}
			c.Update[r.URN] = keys
		default:
			c.Same++
		}
	}
	for _, r := range before.Resources {
		if r.Custom && !seen[r.URN] {
			c.Delete = append(c.Delete, r)
		}
	}
	return c
}

func union(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, b)
	return out
}

// Forget is doc without the resources at urns and everything that depends
// on them or descends from them, as `pulumi state delete --force
// --target-dependents` leaves a stack's state: the resources keep running
// where they are, in nobody's state.
func Forget(doc Document, urns []string) Document {
	gone := map[string]bool{}
	for _, u := range urns {
		gone[u] = true
	}
	for changed := true; changed; {
		changed = false
		for _, r := range doc.Resources {
			if gone[r.URN] {
				continue
			}
			if gone[r.Parent] || slices.ContainsFunc(r.Dependencies, func(d string) bool { return gone[d] }) {
				gone[r.URN], changed = true, true
			}
		}
	}
	out := doc
	out.Resources = slices.DeleteFunc(slices.Clone(doc.Resources), func(r Resource) bool { return gone[r.URN] })
	return out
}

// Components are the components whose resources the change deletes or
// replaces, by URN, with how many: what a state would forget to leave
// them running where they are.
func (c Changes) Components(before Document) map[string]int {
	parent := map[string]string{}
	for _, r := range before.Resources {
		parent[r.URN] = r.Parent
	}
	out := map[string]int{}
	for _, r := range slices.Concat(c.Delete, c.Replace) {
		top := r.URN
		for p := parent[top]; p != "" && !strings.Contains(p, "::pulumi:pulumi:Stack::"); p = parent[p] {
			top = p
		}
		if top != r.URN {
			out[top]++
		}
	}
	return out
}

// Blocked are the protected resources the change would delete or
// replace: `pulumi up` stops at the first of them.
func (c Changes) Blocked() []Resource {
	var out []Resource
	for _, r := range slices.Concat(c.Delete, c.Replace) {
		if r.Protect {
			out = append(out, r)
		}
	}
	return out
}

// Text writes the changes, protected resources marked, and the components
// of before whose resources they delete or replace.
func (c Changes) Text(w io.Writer, before Document) {
	fmt.Fprintf(w, "%d to create, %d to update, %d to replace, %d to delete, %d unchanged\n",
		len(c.Create), len(c.Update), len(c.Replace), len(c.Delete), c.Same)
	list := func(title string, rs []Resource) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		for _, r := range rs {
			mark := ""
			if r.Protect {
				mark = "  [protected]"
			}
			fmt.Fprintf(w, "  %s %s%s\n", r.Type, r.Name, mark)
		}
	}
	list("delete", c.Delete)
	list("replace (its provider is replaced)", c.Replace)
	if len(c.Update) > 0 {
		fmt.Fprintln(w, "update:")
		for _, urn := range slices.Sorted(maps.Keys(c.Update)) {
			fmt.Fprintf(w, "  %s: %s\n", urnName(urn), strings.Join(c.Update[urn], ", "))
		}
	}
	list("create", c.Create)
	if comps := c.Components(before); len(comps) > 0 {
		fmt.Fprintln(w, "deleted or replaced, by component (to leave them where they run, forget these first: -forget <urn> rehearses it):")
		for _, urn := range slices.Sorted(maps.Keys(comps)) {
			fmt.Fprintf(w, "  %s (%d)\n", urn, comps[urn])
		}
	}
	if b := c.Blocked(); len(b) > 0 {
		fmt.Fprintf(w, "blocked: %d protected resource(s) would be deleted or replaced; `pulumi up` stops unless the state forgets them first (pulumi state delete --force --target-dependents <urn>) or they are unprotected:\n", len(b))
		for _, r := range b {
			fmt.Fprintf(w, "  %s\n", r.URN)
		}
	}
}

// urnName is a URN's type and name.
func urnName(urn string) string {
	parts := strings.Split(urn, "::")
	if len(parts) < 2 {
		return urn
	}
	typ := parts[len(parts)-2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	return typ + " " + parts[len(parts)-1]
}
