// Package overlay merges the end-to-end run's overlay (e2e/config.yaml)
// into a copy of a stack file: maps key by key, anything else replaced.
package overlay

import (
	"fmt"
	"maps"
	"os"
	"slices"

	"gopkg.in/yaml.v3"
)

// MergeStackFile writes the stack file src with overlay's keys merged in
// (maps merged key by key, anything else replaced) to dst.
func MergeStackFile(src, dst string, overlay map[string]any) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var file map[string]any
	if err := yaml.Unmarshal(b, &file); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	config, _ := file["config"].(map[string]any)
	if config == nil {
		config = map[string]any{}
	}
	for _, k := range slices.Sorted(maps.Keys(overlay)) {
		config[k] = merge(config[k], overlay[k])
	}
	file["config"] = config
	out, err := yaml.Marshal(file)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, out, 0o600)
}

func merge(base, over any) any {
	bm, ok1 := base.(map[string]any)
	om, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		return over
	}
	out := maps.Clone(bm)
	for k, v := range om {
		out[k] = merge(bm[k], v)
	}
	return out
}
