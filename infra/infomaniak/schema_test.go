package infomaniak

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// providerSchema is the part of provider/schema.json this SDK must match.
type providerSchema struct {
	Config struct {
		Variables map[string]schemaProperty `json:"variables"`
	} `json:"config"`
	Resources map[string]struct {
		InputProperties map[string]schemaProperty `json:"inputProperties"`
		Properties      map[string]schemaProperty `json:"properties"`
	} `json:"resources"`
	Types map[string]struct {
		Properties map[string]schemaProperty `json:"properties"`
	} `json:"types"`
}

type schemaProperty struct {
	Secret bool   `json:"secret"`
	Ref    string `json:"$ref"`
}

func tagsOf(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("pulumi"), ","); tag != "" {
			out = append(out, tag)
		}
	}
	slices.Sort(out)
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSDKMatchesProviderSchema checks that the hand-written SDK and the
// provider agree on type tokens, property names (inputs, nested types,
// outputs, configuration) and which of them are secret.
func TestSDKMatchesProviderSchema(t *testing.T) {
	b, err := os.ReadFile("../../provider/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s providerSchema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	resources := []struct {
		token   string
		inputs  reflect.Type
		outputs reflect.Type
	}{
		{ClusterType, reflect.TypeFor[clusterInputs](), reflect.TypeFor[Cluster]()},
		{InstancePoolType, reflect.TypeFor[instancePoolInputs](), reflect.TypeFor[InstancePool]()},
	}
	for _, r := range resources {
		res, ok := s.Resources[r.token]
		if !ok {
			t.Fatalf("the provider has no resource %s", r.token)
		}
		if got, want := tagsOf(r.inputs), keys(res.InputProperties); !slices.Equal(got, want) {
			t.Errorf("%s inputs: SDK %v, provider %v", r.token, got, want)
		}
		for _, out := range tagsOf(r.outputs) {
			if _, ok := res.Properties[out]; !ok {
				t.Errorf("%s: SDK output %s is not a provider output", r.token, out)
			}
		}
	}
	nested := map[string]reflect.Type{
		"infomaniak:kaas:APIServerArgs": reflect.TypeFor[APIServerArgs](),
		"infomaniak:kaas:OIDCArgs":      reflect.TypeFor[OIDCArgs](),
	}
	for token, typ := range nested {
		if got, want := tagsOf(typ), keys(s.Types[token].Properties); !slices.Equal(got, want) {
			t.Errorf("%s: SDK %v, provider %v", token, got, want)
		}
	}
	if got, want := tagsOf(reflect.TypeFor[providerInputs]()), keys(s.Config.Variables); len(slices.DeleteFunc(got, func(k string) bool {
		return slices.Contains(want, k)
	})) > 0 {
		t.Errorf("provider config: SDK sets %v, which the provider does not declare (%v)", got, want)
	}

	// Secrets: what the provider keeps secret, the SDK registers as secret.
	secrets := map[string]bool{
		"config.token":                     s.Config.Variables["token"].Secret,
		"Cluster.kubeconfig":               s.Resources[ClusterType].Properties["kubeconfig"].Secret,
		"APIServerArgs.auditWebhookConfig": s.Types["infomaniak:kaas:APIServerArgs"].Properties["auditWebhookConfig"].Secret,
		"OIDCArgs.ca":                      s.Types["infomaniak:kaas:OIDCArgs"].Properties["ca"].Secret,
	}
	for k, secret := range secrets {
		if !secret {
			t.Errorf("the provider does not keep %s secret", k)
		}
	}
	var reg secretRegistrations
	if err := pulumi.RunErr(reg.program, pulumi.WithMocks("p", "s", &reg)); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"provider.token", "cluster.apiServer.auditWebhookConfig", "cluster.apiServer.oidc.ca"} {
		if !reg.secret[path] {
			t.Errorf("the SDK does not register %s as a secret", path)
		}
	}
	if !slices.Contains(reg.additionalSecrets, "kubeconfig") {
		t.Error("the SDK does not keep the cluster's kubeconfig output secret")
	}
}
