package stacks_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/stacks"
)

// configPaths lists every configuration path the program reads, from the
// json tags of the config types: cluster.pools[].zone and so on.
func configPaths(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice {
			prefix += "[]"
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		p := prefix + "." + tag
		out = append(out, p)
		out = append(out, configPaths(p, t.Field(i).Type)...)
	}
	return out
}

// TestReadmeDocumentsEverything fails when a configuration key, a nested
// field or an output is missing from README.md.
func TestReadmeDocumentsEverything(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	types := map[string]reflect.Type{
		stacks.KeyCluster:    reflect.TypeFor[stacks.Cluster](),
		stacks.KeyInfomaniak: reflect.TypeFor[stacks.Infomaniak](),
		stacks.KeyPlatform:   reflect.TypeFor[stacks.Platform](),
		stacks.KeyNamespaces: reflect.TypeFor[[]stacks.Namespace](),
		stacks.KeyRegistry:   reflect.TypeFor[stacks.Registry](),
		stacks.KeySecurity:   reflect.TypeFor[stacks.SecurityConfig](),
	}
	paths := 0
	for _, key := range stacks.Keys {
		want := []string{key}
		if typ, ok := types[key]; ok {
			want = configPaths(key, typ)
		}
		for _, p := range want {
			paths++
			if !strings.Contains(readme, "| `"+p+"` |") {
				t.Errorf("README.md does not document config %s", p)
			}
		}
	}
	if paths < 30 {
		t.Errorf("found %d config paths; the walk is broken", paths)
	}
	for _, f := range contract.Fields() {
		if !strings.Contains(readme, "| `"+f.Name+"` |") {
			t.Errorf("README.md does not document output %s", f.Name)
		}
	}
}
