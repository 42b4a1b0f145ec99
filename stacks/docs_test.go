package stacks_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"gitlab.com/camps-ch/infra/internal/configdoc"
	"gitlab.com/camps-ch/infra/stacks"
)

// docTypes are what the configuration reference is generated from.
var docTypes = configdoc.Types{
	Config: reflect.TypeFor[stacks.Config](), Secret: reflect.TypeFor[stacks.Secret](), Preset: stacks.PhaseDefault,
}

// TestGeneratedFilesAreCurrent fails when docs/configuration.md or a
// description in Pulumi.yaml says something other than the config types'
// doc comments and presets: run make docs.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	markdown, project, err := configdoc.Generate("..", docTypes)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]byte{configdoc.MarkdownFile: markdown, configdoc.ProjectFile: project} {
		got, err := os.ReadFile("../" + file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make docs", file)
		}
	}
}

// TestEveryPathIsDocumented: the walk reaches nested fields, lists and
// secrets, with their types.
func TestEveryPathIsDocumented(t *testing.T) {
	fields, err := configdoc.Fields(".", docTypes)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]configdoc.Field{}
	for _, f := range fields {
		byPath[f.Path] = f
	}
	for path, typ := range map[string]string{
		"phase":                                   "integer",
		"cluster.pools":                           "list of objects",
		"cluster.pools[].labels":                  "map of strings",
		"namespaces[].quota.pods":                 "integer",
		"registryToken":                           "secret string",
		"security.oidc.issuerUrl":                 "string",
		"slo.availability":                        "number",
		"platform.monitoring.alertRoutes.warning": "list of strings",
	} {
		f, ok := byPath[path]
		if !ok || f.Type != typ || f.Doc == "" {
			t.Errorf("%s: %+v, want type %s with a doc", path, f, typ)
		}
	}
	if !byPath["registryToken"].Secret || byPath["registry"].Secret {
		t.Error("secret keys are not marked as such")
	}
	if got := byPath["cluster.pools[].maxInstances"].Default; got != "`1` in phase 1, `3` in phase 2" {
		t.Errorf("the pools' maximum preset renders as %q", got)
	}
	if got := byPath["namespaces[].quota.pods"].Default; got != "`30` on one node, `100` on several" {
		t.Errorf("the quota's pods preset renders as %q", got)
	}
}
