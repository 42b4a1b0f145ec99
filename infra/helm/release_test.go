package helm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

func tags(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("pulumi"), ",")
		out[name] = true
	}
	return out
}

// sdkTags reads the pulumi tags of a struct type in a file of the SDK's
// helm/v3 package from its source in the module cache: compiling that
// package would compile the whole Kubernetes SDK (every API group, through
// kubernetes/yaml) into every go test ./..., for this one check.
func sdkTags(t *testing.T, file, typeName string) map[string]bool {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/pulumi/pulumi-kubernetes/sdk/v4").Output()
	if err != nil || len(dir) == 0 {
		t.Fatalf("the Kubernetes SDK's module directory: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(dir)), "go/kubernetes/helm/v3", file)
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok || ts.Name.Name != typeName {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, field := range st.Fields.List {
				if field.Tag == nil {
					continue
				}
				tag, _ := strconv.Unquote(field.Tag.Value)
				name, _, _ := strings.Cut(reflect.StructTag(tag).Get("pulumi"), ",")
				out[name] = true
			}
		}
	}
	if len(out) < 10 && typeName == "releaseArgs" || len(out) == 0 {
		t.Fatalf("%s: found %d properties of %s; the SDK's source changed shape", path, len(out), typeName)
	}
	return out
}

// TestPropertiesMatchTheSDK keeps the wrapper's wire names in step with
// the SDK's Release arguments, read from the SDK's source (the program
// never imports helm/v3).
func TestPropertiesMatchTheSDK(t *testing.T) {
	sdk := sdkTags(t, "release.go", "releaseArgs")
	for name := range tags(reflect.TypeFor[releaseState]()) {
		if !sdk[name] {
			t.Errorf("property %q is not in the SDK's ReleaseArgs", name)
		}
	}
	sdkRepo := sdkTags(t, "pulumiTypes.go", "RepositoryOpts")
	for name := range tags(reflect.TypeFor[repositoryOpts]()) {
		if !sdkRepo[name] {
			t.Errorf("repositoryOpts property %q is not in the SDK's RepositoryOpts", name)
		}
	}
}

func TestChartRef(t *testing.T) {
	tests := []struct {
		chart     Chart
		wantChart string
		wantRepo  string
	}{
		{Chart{Name: "cert-manager", Repository: "https://charts.jetstack.io"}, "cert-manager", "https://charts.jetstack.io"},
		{Chart{Name: "nginx-ingress", Repository: "oci://ghcr.io/nginx/charts/"}, "oci://ghcr.io/nginx/charts/nginx-ingress", ""},
		{Chart{Name: "./charts/longhorn"}, "./charts/longhorn", ""},
	}
	for _, tt := range tests {
		c, r := tt.chart.Ref()
		if c != tt.wantChart || r != tt.wantRepo {
			t.Errorf("%+v.Ref() = %q, %q; want %q, %q", tt.chart, c, r, tt.wantChart, tt.wantRepo)
		}
	}
}

func TestNewRelease(t *testing.T) {
	type values struct {
		Replicas int    `json:"replicaCount"`
		Skip     string `json:"skip,omitempty"`
	}
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		v, err := Values(values{Replicas: 2})
		if err != nil {
			return err
		}
		_, err = NewRelease(ctx, "r", &ReleaseArgs{
			Chart: Chart{Name: "longhorn", Version: "1.12.1", Repository: "https://charts.longhorn.io"},
			Name:  "longhorn", Namespace: pulumi.String("longhorn-system"), Values: v,
		})
		return err
	}, pulumi.WithMocks("p", "s", rec))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rec.Find(ReleaseType, "r")
	for _, m := range r.Mismatches(map[string]string{
		"chart": "longhorn", "version": "1.12.1", "repositoryOpts.repo": "https://charts.longhorn.io",
		"name": "longhorn", "namespace": "longhorn-system", "compat": "true",
	}) {
		t.Error(m)
	}
	for path, want := range map[string]bool{"atomic": true, "cleanupOnFail": true} {
		if v, _ := r.Input(path); v.BoolValue() != want {
			t.Errorf("%s = %v, want %v", path, v, want)
		}
	}
	if v, _ := r.Input("values.replicaCount"); v.NumberValue() != 2 {
		t.Errorf("values = %v", r.Inputs["values"])
	}
	if _, ok := r.Input("values.skip"); ok {
		t.Error("an omitempty value reached Helm")
	}
	if v, _ := r.Input("timeout"); v.NumberValue() != DefaultTimeout {
		t.Errorf("timeout = %v", v)
	}
}

func TestNewReleaseRefusesUnpinnedCharts(t *testing.T) {
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewRelease(ctx, "r", &ReleaseArgs{Chart: Chart{Name: "x"}, Name: "x", Namespace: pulumi.String("x")})
		return err
	}, pulumi.WithMocks("p", "s", rec))
	if err == nil || !strings.Contains(err.Error(), "pinned version") || rec.Len() != 0 {
		t.Errorf("err = %v, %d resources", err, rec.Len())
	}
}
