package recorder

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

func TestInputsAndSecrets(t *testing.T) {
	r := &Resource{Inputs: resource.PropertyMap{
		"metadata": resource.NewProperty(resource.PropertyMap{
			"name":   resource.NewProperty("uat"),
			"labels": resource.NewProperty(resource.PropertyMap{"pod-security.kubernetes.io/enforce": resource.NewProperty("restricted")}),
		}),
		"stringData": resource.MakeSecret(resource.NewProperty(resource.PropertyMap{".dockerconfigjson": resource.NewProperty("{}")})),
		"list":       resource.NewProperty([]resource.PropertyValue{resource.NewProperty("a"), resource.MakeSecret(resource.NewProperty("b"))}),
	}}
	tests := []struct {
		path   string
		value  string
		secret bool
	}{
		{"metadata.name", "uat", false},
		{`metadata.labels["pod-security.kubernetes.io/enforce"]`, "restricted", false},
		{`stringData[".dockerconfigjson"]`, "{}", true},
		{"list[0]", "a", false},
		{"list[1]", "b", true},
		{"missing", "", false},
	}
	for _, tt := range tests {
		if got := r.String(tt.path); got != tt.value {
			t.Errorf("String(%s) = %q, want %q", tt.path, got, tt.value)
		}
		if got := r.IsSecret(tt.path); got != tt.secret {
			t.Errorf("IsSecret(%s) = %v, want %v", tt.path, got, tt.secret)
		}
	}
	if got, want := r.SecretPaths(), []string{"list[1]", "stringData"}; !slices.Equal(got, want) {
		t.Errorf("SecretPaths = %v, want %v", got, want)
	}
}

func TestProviderURN(t *testing.T) {
	r := &Resource{Provider: "urn:pulumi:s::p::pulumi:providers:kubernetes::k8s::abc-id"}
	if got := r.ProviderURN(); got != "urn:pulumi:s::p::pulumi:providers:kubernetes::k8s" {
		t.Errorf("ProviderURN = %q", got)
	}
	if (&Resource{}).ProviderURN() != "" {
		t.Error("no provider should give no URN")
	}
}

func TestMismatches(t *testing.T) {
	r := &Resource{Inputs: resource.NewPropertyMapFromMap(map[string]any{
		"metadata": map[string]any{"name": "a", "labels": map[string]any{"x": "1"}},
	})}
	if got := r.Mismatches(map[string]string{"metadata.name": "a", `metadata.labels["x"]`: "1"}); len(got) != 0 {
		t.Errorf("matching inputs: %v", got)
	}
	got := r.Mismatches(map[string]string{"metadata.name": "b", "metadata.namespace": "uat"})
	want := []string{`metadata.name = "a", want "b"`, `metadata.namespace = "", want "uat"`}
	if !slices.Equal(got, want) {
		t.Errorf("mismatches %q, want %q", got, want)
	}
}

func TestReveal(t *testing.T) {
	v := resource.NewProperty(resource.PropertyMap{
		"plain":  resource.NewProperty("a"),
		"secret": resource.MakeSecret(resource.NewProperty(resource.PropertyMap{"token": resource.NewProperty("t")})),
		"list":   resource.NewProperty([]resource.PropertyValue{resource.MakeSecret(resource.NewProperty(1.0))}),
	})
	got := fmt.Sprint(Reveal(v))
	if want := "map[list:[1] plain:a secret:map[token:t]]"; got != want {
		t.Errorf("Reveal = %s, want %s", got, want)
	}
}
