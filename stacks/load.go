package stacks

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Source is where configuration values come from: the Pulumi context in a
// deployment, a map in tests and fuzzing. Keys are full keys such as
// "camps-infra:cluster"; structured values are JSON.
type Source interface {
	// Get returns the raw value of a key and whether it is set.
	Get(key string) (string, bool)
	// IsSecret tells whether the key was set as a secret.
	IsSecret(key string) bool
}

// contextSource reads configuration from a Pulumi context without logging
// secret values.
type contextSource struct{ ctx *pulumi.Context }

func (s contextSource) Get(key string) (string, bool) { return s.ctx.GetConfig(key) }
func (s contextSource) IsSecret(key string) bool      { return s.ctx.IsConfigSecret(key) }

// MapSource is a Source over a map of full keys to raw values, for tests and
// tools. Keys listed in Secrets count as set with --secret.
type MapSource struct {
	Values  map[string]string
	Secrets map[string]bool
}

// Get implements Source.
func (m MapSource) Get(key string) (string, bool) { v, ok := m.Values[key]; return v, ok }

// IsSecret implements Source.
func (m MapSource) IsSecret(key string) bool { return m.Secrets[key] }

// FullKey is a key with the project namespace, e.g. camps-infra:cluster.
func FullKey(key string) string { return Project + ":" + key }

// Load reads, presets and validates the configuration of a stack. It
// returns every problem at once, each naming its key path, and never
// panics on user input.
func Load(src Source, stack string) (*Config, error) {
	c := &Config{Stack: stack, Phase: 1}
	var probs Problems

	if raw, ok := src.Get(FullKey(KeyPhase)); ok {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		switch _, known := presets[n]; {
		case err != nil:
			probs.add(KeyPhase, "%q is not an integer; use 1 or 2", raw)
		case !known:
			probs.add(KeyPhase, "%d is not a phase; use 1 or 2", n)
		default:
			c.Phase = n
		}
	}
	// Every other key: a secret, or a structured value decoded strictly.
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		key := f.Tag.Get("config")
		switch {
		case key == "" || key == KeyPhase:
		case f.Type == reflect.TypeFor[Secret]():
			v.Field(i).Set(reflect.ValueOf(secret(src, key, &probs)))
		case f.Type.Kind() == reflect.String:
			// A plain string, as `pulumi config set` stores it.
			if raw, ok := src.Get(FullKey(key)); ok {
				v.Field(i).SetString(strings.TrimSpace(raw))
			}
		default:
			decode(src, key, v.Field(i).Addr().Interface(), &probs)
		}
	}

	// With a bad phase, the rest is still checked against phase 1's presets
	// so that every problem is reported at once.
	c.applyPresets()
	probs = append(probs, c.Validate()...)
	if len(probs) > 0 {
		return nil, probs
	}
	return c, nil
}

// decode reads the JSON value of a structured key into dst. A value that
// is not valid JSON is one problem; otherwise every field is checked on
// its own (decodeStrict).
func decode(src Source, key string, dst any, probs *Problems) {
	raw, ok := src.Get(FullKey(key))
	if !ok || strings.TrimSpace(raw) == "" {
		return
	}
	if !json.Valid([]byte(raw)) {
		probs.add(key, "is not valid JSON")
		return
	}
	decodeStrict(key, json.RawMessage(raw), reflect.ValueOf(dst).Elem(), probs)
}

// secret reads a secret key; a value set in plain text is a problem.
func secret(src Source, key string, probs *Problems) Secret {
	raw, ok := src.Get(FullKey(key))
	if !ok || raw == "" {
		return Secret{}
	}
	if !src.IsSecret(FullKey(key)) {
		probs.add(key, "is set in plain text; set it with `pulumi config set --secret %s`", key)
	}
	return NewSecret(raw)
}

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Path is the key path below the project namespace, e.g. cluster.pools[1].zone.
	Path string
	// Message says what is wrong.
	Message string
}

func (p Problem) Error() string { return fmt.Sprintf("%s: %s", FullKey(p.Path), p.Message) }

// Problems is every problem found in a configuration.
type Problems []Problem

func (ps *Problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (ps Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problem", len(ps))
	if len(ps) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range ps {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}
