// Package stackrun runs the real program of a stack offline: it loads
// Pulumi.yaml and Pulumi.<stack>.yaml as written (project defaults applied,
// secure values replaced by test values), runs stacks.Program under
// pulumi.WithMocks with the recording monitor, and returns what was
// registered and exported. Tests and cmd/plan share it.
package stackrun

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/stacks"
)

// Organization is the organization the mocks run under.
const Organization = "organization"

// Options say which stack to run and what to change for this run only.
type Options struct {
	// Dir is the project directory holding Pulumi.yaml. Default ".".
	Dir string
	// Stack is the stack whose Pulumi.<stack>.yaml is loaded.
	Stack string
	// Set overrides configuration values (full keys such as
	// camps-infra:phase; structured values as JSON). Keys the project
	// declares secret stay secret.
	Set map[string]string
	// Secrets stands in for what an operator sets with `pulumi config
	// set` and is therefore not in the checked-in stack files (full key →
	// test value): secret where the project declares the key secret,
	// plain otherwise (oidcClientId). They also apply to the stacks this
	// one references.
	Secrets map[string]string
	// Plain sets values as plain text even where the project declares the
	// key secret, as an operator who forgot --secret would (tests).
	Plain map[string]string
}

// OperatorValues are test stand-ins for what each stack's operator sets
// before the first `pulumi up` (see README.md, Real use): the secrets and
// the OIDC application's ID. The offline plan and the stack tests use
// them.
func OperatorValues() map[string]string {
	return map[string]string{
		stacks.FullKey(stacks.KeyRegistryToken): "test-registry-token",
		stacks.FullKey(stacks.KeyDNSToken):      "test-cloudflare-dns-token",
		stacks.FullKey(stacks.KeyOIDCClientID):  "test-gitlab-application-id",
	}
}

// Result is what one offline run registered and exported.
type Result struct {
	// Stack is the stack's name.
	Stack string
	// Config is the configuration the program saw (secrets as test values).
	Config map[string]string
	// SecretKeys are the configuration keys that were secret.
	SecretKeys []string
	// Recorder holds every registered resource.
	Recorder *recorder.Recorder
	// Outputs are the stack's exported outputs, secrets kept secret.
	Outputs resource.PropertyMap
	// Deployment is what the program used and exported; nil when it failed.
	Deployment *stacks.Deployment
}

// Project is the parsed Pulumi.yaml: the project's name and config schema.
type Project struct {
	Name   string                  `yaml:"name"`
	Config map[string]ConfigSchema `yaml:"config"`
}

// ConfigSchema is the declaration of one configuration key in Pulumi.yaml.
type ConfigSchema struct {
	Type        string         `yaml:"type"`
	Items       map[string]any `yaml:"items"`
	Description string         `yaml:"description"`
	Default     any            `yaml:"default"`
	Secret      bool           `yaml:"secret"`
}

// LoadProject reads Pulumi.yaml of dir.
func LoadProject(dir string) (*Project, error) {
	b, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	var p Project
	if err := yaml.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("project: Pulumi.yaml: %w", err)
	}
	if p.Name == "" {
		return nil, errors.New("project: Pulumi.yaml has no name")
	}
	return &p, nil
}

// StackConfig reads Pulumi.<stack>.yaml of dir: the raw values by full key,
// and which keys were secure. Secure values are replaced by test values.
func StackConfig(dir, stack string) (map[string]string, map[string]bool, error) {
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		return nil, nil, fmt.Errorf("stack %s: %s: %w", stack, filepath.Base(path), err)
	}
	values, secret := map[string]string{}, map[string]bool{}
	for key, v := range file.Config {
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			values[key], secret[key] = "test-secret-"+key, true
			continue
		}
		s, err := raw(v)
		if err != nil {
			return nil, nil, fmt.Errorf("stack %s: %s: %w", stack, key, err)
		}
		values[key] = s
	}
	return values, secret, nil
}

// raw renders a YAML value as Pulumi hands it to a program: scalars as
// text, objects and lists as JSON.
func raw(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case int:
		return strconv.Itoa(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Run runs the program of opts.Stack offline and records it.
func Run(opts Options) (*Result, error) {
	return (&runner{cache: map[string]*Result{}}).run(opts, 0)
}

type runner struct {
	mu    sync.Mutex
	cache map[string]*Result
}

func (r *runner) run(opts Options, depth int) (*Result, error) {
	if depth > 3 {
		return nil, fmt.Errorf("stack %s: stack references nest too deep", opts.Stack)
	}
	if opts.Dir == "" {
		opts.Dir = "."
	}
	proj, values, secret, err := configValues(opts)
	if err != nil {
		return nil, err
	}
	res := &Result{Stack: opts.Stack, Config: values, SecretKeys: slices.Sorted(maps.Keys(secret))}
	var refErr error
	var refMu sync.Mutex
	res.Recorder = recorder.New(proj.Name, opts.Stack, func(rr *recorder.Resource) resource.PropertyMap {
		if rr.Type != "pulumi:pulumi:StackReference" {
			return computed(rr)
		}
		name := rr.String("name")
		parts := strings.Split(name, "/")
		ref, err := r.reference(Options{Dir: opts.Dir, Stack: parts[len(parts)-1], Secrets: opts.Secrets}, depth)
		if err != nil {
			refMu.Lock()
			refErr = errors.Join(refErr, fmt.Errorf("stack reference %s: %w", name, err))
			refMu.Unlock()
			return resource.PropertyMap{"outputs": resource.NewProperty(resource.PropertyMap{})}
		}
		return resource.PropertyMap{"outputs": resource.NewProperty(ref.Outputs)}
	})

	res.Recorder.Invokes = invoke

	program := func(ctx *pulumi.Context) error {
		d, err := stacks.Program(ctx)
		if err != nil {
			return err
		}
		res.Deployment = d
		res.Outputs, err = await(ctx, d.Outputs)
		return err
	}
	err = pulumi.RunErr(program,
		pulumi.WithMocksWithOrganization(Organization, proj.Name, opts.Stack, res.Recorder),
		func(info *pulumi.RunInfo) {
			info.Config = values
			info.ConfigSecretKeys = res.SecretKeys
		})
	if err = errors.Join(err, refErr); err != nil {
		return res, err
	}
	return res, nil
}

// configValues are the configuration the program of opts.Stack sees: its
// stack file, the project's defaults, then opts' secrets, overrides and
// plain values; and which keys are secret.
func configValues(opts Options) (*Project, map[string]string, map[string]bool, error) {
	proj, err := LoadProject(opts.Dir)
	if err != nil {
		return nil, nil, nil, err
	}
	values, secret, err := StackConfig(opts.Dir, opts.Stack)
	if err != nil {
		return nil, nil, nil, err
	}
	for key, schema := range proj.Config {
		full := proj.Name + ":" + key
		if _, set := values[full]; !set && schema.Default != nil {
			if values[full], err = raw(schema.Default); err != nil {
				return nil, nil, nil, fmt.Errorf("project: default of %s: %w", key, err)
			}
		}
	}
	for key, v := range opts.Secrets {
		values[key] = v
		secret[key] = slices.Contains(stacks.SecretKeys, strings.TrimPrefix(key, proj.Name+":"))
		if !secret[key] {
			delete(secret, key)
		}
	}
	for key, v := range opts.Set {
		values[key] = v
		if slices.Contains(stacks.SecretKeys, strings.TrimPrefix(key, proj.Name+":")) {
			secret[key] = true
		}
	}
	for key, v := range opts.Plain {
		values[key] = v
		delete(secret, key)
	}
	return proj, values, secret, nil
}

// LoadConfig loads, presets and validates the configuration of
// opts.Stack as the program would, without running it.
func LoadConfig(opts Options) (*stacks.Config, error) {
	if opts.Dir == "" {
		opts.Dir = "."
	}
	_, values, secret, err := configValues(opts)
	if err != nil {
		return nil, err
	}
	return stacks.Load(stacks.MapSource{Values: values, Secrets: secret}, opts.Stack)
}

// Sets collects repeated -set KEY=VALUE flags, keys with their namespace.
type Sets map[string]string

// String implements flag.Value.
func (s Sets) String() string { return fmt.Sprint(map[string]string(s)) }

// Set implements flag.Value.
func (s Sets) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", kv)
	}
	if !strings.Contains(k, ":") {
		return fmt.Errorf("%q: name the key with its namespace, e.g. camps-infra:phase", k)
	}
	s[k] = v
	return nil
}

// reference runs a referenced stack once per runner.
func (r *runner) reference(opts Options, depth int) (*Result, error) {
	r.mu.Lock()
	cached, ok := r.cache[opts.Stack]
	r.mu.Unlock()
	if ok {
		return cached, nil
	}
	res, err := r.run(opts, depth+1)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cache[opts.Stack] = res
	r.mu.Unlock()
	return res, nil
}

// await resolves the exported outputs into the property map a
// StackReference to this stack would see.
func await(ctx *pulumi.Context, out contract.Outputs) (resource.PropertyMap, error) {
	pm := resource.PropertyMap{}
	byName := out.ByName()
	for _, f := range contract.Fields() {
		got, err := internals.UnsafeAwaitOutput(ctx.Context(), byName[f.Name])
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", f.Name, err)
		}
		pv := resource.NewPropertyValue(got.Value)
		if got.Secret || f.Secret {
			pv = resource.MakeSecret(pv)
		}
		pm[resource.PropertyKey(f.Name)] = pv
	}
	return pm, nil
}
