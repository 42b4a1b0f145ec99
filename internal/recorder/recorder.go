// Package recorder is the one recording monitor of this project: a
// pulumi.MockResourceMonitor that captures every resource the program
// registers (type, name, URN, parent, dependencies, provider, protect,
// inputs and which of them are secret) so that tests and the offline plan
// can query it.
package recorder

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one registered (or read) resource, as the engine would see it.
type Resource struct {
	// Type is the type token, e.g. kubernetes:core/v1:Namespace.
	Type string
	// Name is the logical name.
	Name string
	// URN is the resource's URN, computed as the engine does.
	URN string
	// Parent is the parent's URN; empty for children of the stack.
	Parent string
	// Custom is false for component resources.
	Custom bool
	// Read is true for resources read rather than managed (StackReference).
	Read bool
	// Provider is the provider reference "<urn>::<id>"; empty means the
	// ambient default provider.
	Provider string
	// Protect is the protect option.
	Protect bool
	// RetainOnDelete is the retainOnDelete option: Pulumi forgets the
	// resource instead of deleting it.
	RetainOnDelete bool
	// Dependencies are the URNs the resource depends on (explicit
	// DependsOn and the resources its inputs come from).
	Dependencies []string
	// Inputs are the resource's inputs, secrets kept as secret values.
	Inputs resource.PropertyMap
	// Aliases are the alias URNs or specs given to the resource.
	Aliases []string
	// AdditionalSecretOutputs lists outputs the program asked to keep secret.
	AdditionalSecretOutputs []string
	// ReplaceOnChanges are the input paths whose change replaces the
	// resource; DeleteBeforeReplace deletes it before its replacement.
	ReplaceOnChanges    []string
	DeleteBeforeReplace bool
	// Computed are the outputs the mock computed beyond the inputs (what
	// a provider or controller fills in, such as a token).
	Computed resource.PropertyMap
}

// IsProvider tells whether the resource is a provider instance.
func (r *Resource) IsProvider() bool { return strings.HasPrefix(r.Type, "pulumi:providers:") }

// ProviderURN is the URN part of Provider ("<urn>::<id>"), or "".
func (r *Resource) ProviderURN() string {
	if i := strings.LastIndex(r.Provider, "::"); i > 0 {
		return r.Provider[:i]
	}
	return ""
}

// lookup walks a property path through objects, arrays and secrets. It
// returns the value (secrets unwrapped), whether it or an ancestor is
// secret, and whether it exists.
func (r *Resource) lookup(path string) (resource.PropertyValue, bool, bool) {
	p, err := resource.ParsePropertyPath(path)
	if err != nil {
		return resource.PropertyValue{}, false, false
	}
	v, secret := resource.NewProperty(r.Inputs), false
	for _, key := range p {
		for v.IsSecret() {
			v, secret = v.SecretValue().Element, true
		}
		switch k := key.(type) {
		case string:
			if !v.IsObject() {
				return resource.PropertyValue{}, false, false
			}
			e, ok := v.ObjectValue()[resource.PropertyKey(k)]
			if !ok {
				return resource.PropertyValue{}, false, false
			}
			v = e
		case int:
			if !v.IsArray() || k < 0 || k >= len(v.ArrayValue()) {
				return resource.PropertyValue{}, false, false
			}
			v = v.ArrayValue()[k]
		}
	}
	for v.IsSecret() {
		v, secret = v.SecretValue().Element, true
	}
	return v, secret, true
}

// Input returns the input at a property path such as
// `metadata.labels["pod-security.kubernetes.io/enforce"]`, secrets unwrapped.
func (r *Resource) Input(path string) (resource.PropertyValue, bool) {
	v, _, ok := r.lookup(path)
	return v, ok
}

// String returns the string input at path, or "" when absent or not a string.
func (r *Resource) String(path string) string {
	v, ok := r.Input(path)
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// Mismatches compares the string inputs at the paths with the wanted
// values and describes each difference as `path = "got", want "want"`,
// sorted by path (none when all match).
func (r *Resource) Mismatches(want map[string]string) []string {
	var out []string
	for path, w := range want {
		if got := r.String(path); got != w {
			out = append(out, fmt.Sprintf("%s = %q, want %q", path, got, w))
		}
	}
	sort.Strings(out)
	return out
}

// IsSecret tells whether the input at path, or one of its ancestors, is secret.
func (r *Resource) IsSecret(path string) bool {
	_, secret, _ := r.lookup(path)
	return secret
}

// SecretPaths lists the property paths of the inputs that are secret.
func (r *Resource) SecretPaths() []string {
	var out []string
	var walk func(prefix string, v resource.PropertyValue)
	walk = func(prefix string, v resource.PropertyValue) {
		switch {
		case v.IsSecret():
			out = append(out, prefix)
		case v.IsObject():
			for k, e := range v.ObjectValue() {
				walk(joinPath(prefix, string(k)), e)
			}
		case v.IsArray():
			for i, e := range v.ArrayValue() {
				walk(fmt.Sprintf("%s[%d]", prefix, i), e)
			}
		}
	}
	for k, v := range r.Inputs {
		walk(joinPath("", string(k)), v)
	}
	slices.Sort(out)
	return out
}

func joinPath(prefix, key string) string {
	simple := key != "" && strings.IndexFunc(key, func(c rune) bool {
		return !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}) < 0
	switch {
	case !simple:
		return fmt.Sprintf("%s[%q]", prefix, key)
	case prefix == "":
		return key
	default:
		return prefix + "." + key
	}
}

// Outputs computes the outputs the mock returns for a new resource, beyond
// its inputs, which are always echoed back.
type Outputs func(r *Resource) resource.PropertyMap

// Recorder is a pulumi.MockResourceMonitor that records every resource.
// It is safe for concurrent use.
type Recorder struct {
	// Invokes answers invokes (data sources) by token; nil answers nothing.
	Invokes func(token string, args resource.PropertyMap) resource.PropertyMap

	project, stack string
	outputs        Outputs

	mu        sync.Mutex
	resources []*Resource
	byURN     map[string]*Resource
	calls     []string
}

// New returns a Recorder for a project and stack. outputs may be nil.
func New(project, stack string, outputs Outputs) *Recorder {
	return &Recorder{project: project, stack: stack, outputs: outputs, byURN: map[string]*Resource{}}
}

var _ pulumi.MockResourceMonitor = (*Recorder)(nil)

// Call records an invoke and answers it through Invokes.
func (m *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, args.Token)
	m.mu.Unlock()
	if m.Invokes != nil {
		if out := m.Invokes(args.Token, args.Args); out != nil {
			return out, nil
		}
	}
	return resource.PropertyMap{}, nil
}

// NewResource records a registration and answers with the inputs plus the
// computed outputs.
func (m *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := &Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs, Provider: args.Provider}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		r.Dependencies = append(r.Dependencies, rpc.GetDependencies()...)
		for _, a := range rpc.GetAliases() {
			r.Aliases = append(r.Aliases, a.String())
		}
		r.AdditionalSecretOutputs = rpc.GetAdditionalSecretOutputs()
		r.ReplaceOnChanges = rpc.GetReplaceOnChanges()
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
	}
	if rpc := args.ReadRPC; rpc != nil {
		r.Read = true
		r.Custom = true
		r.Parent = rpc.GetParent()
		r.Dependencies = append(r.Dependencies, rpc.GetDependencies()...)
	}
	if r.Parent != "" && resource.URN(r.Parent).QualifiedType() == resource.RootStackType {
		r.Parent = ""
	}
	var parentType tokens.Type
	if r.Parent != "" {
		parentType = resource.URN(r.Parent).QualifiedType()
	}
	r.URN = string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType,
		tokens.Type(r.Type), r.Name))
	slices.Sort(r.Dependencies)
	r.Dependencies = slices.Compact(r.Dependencies)

	state := r.Inputs.Copy()
	if m.outputs != nil {
		r.Computed = m.outputs(r)
		for k, v := range r.Computed {
			state[k] = v
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.byURN[r.URN]; dup {
		return "", nil, fmt.Errorf("duplicate resource URN %s", r.URN)
	}
	m.resources = append(m.resources, r)
	m.byURN[r.URN] = r
	id := args.ID
	if id == "" {
		id = r.Name + "-id"
	}
	return id, state, nil
}

// Resources returns every recorded resource in registration order.
func (m *Recorder) Resources() []*Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.resources)
}

// Len is the number of recorded resources.
func (m *Recorder) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.resources)
}

// ByURN returns the resource with that URN.
func (m *Recorder) ByURN(urn string) (*Resource, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.byURN[urn]
	return r, ok
}

// OfType returns the resources of a type token, in registration order.
func (m *Recorder) OfType(typ string) []*Resource {
	var out []*Resource
	for _, r := range m.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the resource of a type and name.
func (m *Recorder) Find(typ, name string) (*Resource, bool) {
	for _, r := range m.Resources() {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return nil, false
}

// Children returns the resources whose parent is urn.
func (m *Recorder) Children(urn string) []*Resource {
	var out []*Resource
	for _, r := range m.Resources() {
		if r.Parent == urn {
			out = append(out, r)
		}
	}
	return out
}

// Calls returns the tokens of the invokes the program made.
func (m *Recorder) Calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

// Reveal turns a property value into plain Go values (maps, slices,
// strings, numbers, bools), secrets revealed: for tests and checks that
// read what the offline plan exports.
func Reveal(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return Reveal(v.SecretValue().Element)
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = Reveal(e)
		}
		return m
	case v.IsArray():
		a := []any{}
		for _, e := range v.ArrayValue() {
			a = append(a, Reveal(e))
		}
		return a
	}
	return v.V
}
