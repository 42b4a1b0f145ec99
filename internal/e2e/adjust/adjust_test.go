package adjust_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/internal/e2e/adjust"
)

// The engine hands a stack transform the inputs as they travel: maps of
// plain values. Mocks do not run stack transforms, so the transform is
// called directly with inputs of that form.
func transform(t *testing.T, typ string, props pulumi.Map) pulumi.Map {
	t.Helper()
	res := adjust.Transform("/charts")(context.Background(), &pulumi.ResourceTransformArgs{Custom: true, Type: typ, Name: "r", Props: props})
	if res == nil {
		return nil
	}
	return res.Props
}

func TestTransform(t *testing.T) {
	tests := []struct {
		name  string
		typ   string
		props pulumi.Map
		want  pulumi.Map
	}{
		{"an OCI release takes the local chart, waits for nothing and runs no hooks", helm.ReleaseType,
			pulumi.Map{"chart": pulumi.String("oci://ghcr.io/nginx/charts/nginx-ingress"), "version": pulumi.String("2.6.4"), "atomic": pulumi.Bool(true)},
			pulumi.Map{"chart": pulumi.String("/charts/nginx-ingress"), "version": pulumi.String("2.6.4"), "atomic": pulumi.Bool(false),
				"skipAwait": pulumi.Bool(true), "disableWebhooks": pulumi.Bool(true)}},
		{"a repository release drops the repository", helm.ReleaseType,
			pulumi.Map{"chart": pulumi.String("longhorn"), "repositoryOpts": pulumi.Map{"repo": pulumi.String("https://charts.longhorn.io")}},
			pulumi.Map{"chart": pulumi.String("/charts/longhorn"), "atomic": pulumi.Bool(false), "skipAwait": pulumi.Bool(true), "disableWebhooks": pulumi.Bool(true)}},
		{"an Ingress skips the readiness wait and keeps its annotations", "kubernetes:networking.k8s.io/v1:Ingress",
			pulumi.Map{"metadata": pulumi.Map{"name": pulumi.String("sink"), "annotations": pulumi.Map{"a": pulumi.String("b")}}},
			pulumi.Map{"metadata": pulumi.Map{"name": pulumi.String("sink"), "annotations": pulumi.Map{"a": pulumi.String("b"), "pulumi.com/skipAwait": pulumi.String("true")}}}},
		{"an Ingress without annotations", "kubernetes:networking.k8s.io/v1:Ingress",
			pulumi.Map{"metadata": pulumi.Map{"name": pulumi.String("sink")}},
			pulumi.Map{"metadata": pulumi.Map{"name": pulumi.String("sink"), "annotations": pulumi.Map{"pulumi.com/skipAwait": pulumi.String("true")}}}},
		{"a Deployment skips the rollout wait", "kubernetes:apps/v1:Deployment",
			pulumi.Map{"metadata": pulumi.Map{"name": pulumi.String("postgres-canary")}},
			pulumi.Map{"metadata": pulumi.Map{"name": pulumi.String("postgres-canary"), "annotations": pulumi.Map{"pulumi.com/skipAwait": pulumi.String("true")}}}},
		{"anything else is left alone", "kubernetes:core/v1:Secret", pulumi.Map{"type": pulumi.String("Opaque")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transform(t, tt.typ, tt.props); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestCharts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "Chart.yaml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("cert-manager", "apiVersion: v2\nname: cert-manager\nversion: v1.21.1\n")
	write("longhorn", "apiVersion: v2\nname: longhorn\nversion: 1.11.0\n")
	problems := adjust.Charts(dir, []helm.Chart{
		{Name: "cert-manager", Version: "v1.21.1"}, {Name: "longhorn", Version: "1.12.1"}, {Name: "vector", Version: "0.56.0"},
	})
	got := strings.Join(problems, "\n")
	for _, want := range []string{"longhorn: the directory holds longhorn 1.11.0; the program pins longhorn 1.12.1", "vector 0.56.0:"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
	if len(problems) != 2 {
		t.Errorf("problems = %q, want 2", problems)
	}
}

func TestCopyChartsPointsSchemasAtLocalDefinitions(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "charts")
	schema := `{"properties":{"minAvailable":{"$ref":"https://raw.githubusercontent.com/nginxinc/kubernetes-json-schema/master/v1.36.1/_definitions.json#/definitions/io.k8s.api.policy.v1.PodDisruptionBudgetSpec/properties/minAvailable"},"x":{"$ref":"https://json-schema.org/draft/2019-09/schema"}}}`
	if err := os.MkdirAll(filepath.Join(src, "nginx-ingress"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "nginx-ingress", "values.schema.json"), []byte(schema), 0o600); err != nil {
		t.Fatal(err)
	}
	rewritten, err := adjust.CopyCharts(src, dst, "/work/defs.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dst, "nginx-ingress", "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"file:///work/defs.json#/definitions/io.k8s.api.policy.v1.PodDisruptionBudgetSpec/properties/minAvailable"`; !strings.Contains(string(b), want) ||
		!strings.Contains(string(b), "https://json-schema.org/draft/2019-09/schema") || len(rewritten) != 1 {
		t.Errorf("rewritten %v: %s", rewritten, b)
	}
}
