package contract_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

// TestSchemaIsGenerated fails when outputs.schema.json and the Outputs
// struct drift: regenerate with go run ./contract/gen.
func TestSchemaIsGenerated(t *testing.T) {
	want, err := contract.Schema()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("outputs.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("outputs.schema.json is stale: run go run ./contract/gen")
	}
}

// TestMarkdownIsGenerated fails when docs/outputs.md and the Outputs
// struct drift: regenerate with make schema.
func TestMarkdownIsGenerated(t *testing.T) {
	got, err := os.ReadFile("../docs/outputs.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, contract.Markdown()) {
		t.Error("docs/outputs.md is stale: run make schema")
	}
}

func TestFieldsAreWhole(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range contract.Fields() {
		if f.Name == "" || f.Description == "" || f.JSONType == "" || seen[f.Name] {
			t.Errorf("field %s: name %q, description %q, type %q (or duplicate)", f.GoName, f.Name, f.Description, f.JSONType)
		}
		seen[f.Name] = true
	}
	for _, name := range []string{"adminKubeconfig", "deployerKubeconfigs", "grafanaAdminPassword"} {
		if !secret(name) {
			t.Errorf("output %s is not declared secret", name)
		}
	}
	for _, f := range contract.Fields() {
		if f.Audience != contract.Consumers && f.Audience != contract.Operators {
			t.Errorf("output %s is for %q, want %s or %s", f.Name, f.Audience, contract.Consumers, contract.Operators)
		}
	}
}

func secret(name string) bool {
	for _, f := range contract.Fields() {
		if f.Name == name {
			return f.Secret
		}
	}
	return false
}

// TestStackOutputsMatchSchema validates what every stack exports offline
// against the checked-in schema.
func TestStackOutputsMatchSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("outputs.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []stackrun.Options{
		{Stack: "uat"}, {Stack: "prod"}, {Stack: "prod", Set: map[string]string{"camps-infra:phase": "2"}},
	} {
		opts.Dir, opts.Secrets = "..", stackrun.OperatorValues()
		res, err := stackrun.Run(opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(recorder.Reveal(resource.NewProperty(res.Outputs)))
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("stack %s %v: outputs do not match the schema: %v", opts.Stack, opts.Set, err)
		}
	}
}

// TestReadIsTyped reads a stack reference through the contract: values
// arrive typed, and secret outputs stay secret even when the referenced
// stack did not mark them; a consumer gets no operators' output.
func TestReadIsTyped(t *testing.T) {
	outputs := resource.PropertyMap{
		"phase":                resource.NewProperty(2.0),
		"clusterMode":          resource.NewProperty("create"),
		"clusterName":          resource.NewProperty("camps-prod"),
		"clusterOwner":         resource.NewProperty("org/camps-infra/prod"),
		"region":               resource.NewProperty("dc4-a"),
		"adminKubeconfig":      resource.NewProperty("apiVersion: v1"),
		"deployerKubeconfigs":  resource.NewProperty(resource.PropertyMap{"production": resource.NewProperty("kind: Config")}),
		"oidcKubeconfig":       resource.NewProperty("kind: Config"),
		"platformInstalled":    resource.NewProperty(true),
		"namespaces":           resource.NewProperty([]resource.PropertyValue{resource.NewProperty("production")}),
		"ingressIp":            resource.NewProperty("203.0.113.7"),
		"databaseHost":         resource.NewProperty("postgres-pooler-rw"),
		"grafanaUrl":           resource.NewProperty("https://grafana.camps.ch"),
		"grafanaAdminPassword": resource.MakeSecret(resource.NewProperty("pw")),
	}
	read := func(read func(*pulumi.StackReference) contract.Outputs) map[string]string {
		rec := recorder.New("consumer", "test", func(r *recorder.Resource) resource.PropertyMap {
			return resource.PropertyMap{"outputs": resource.NewProperty(outputs)}
		})
		got := map[string]string{}
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			ref, err := pulumi.NewStackReference(ctx, "org/camps-infra/prod", nil)
			if err != nil {
				return err
			}
			for name, out := range read(ref).ByName() {
				r, err := internals.UnsafeAwaitOutput(ctx.Context(), out)
				if err != nil {
					return err
				}
				got[name] = fmt.Sprintf("%T %v secret=%v", r.Value, r.Value, r.Secret)
			}
			return nil
		}, pulumi.WithMocks("consumer", "test", rec))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := map[string]string{
		"phase":                "int 2 secret=false",
		"clusterMode":          "string create secret=false",
		"clusterName":          "string camps-prod secret=false",
		"clusterOwner":         "string org/camps-infra/prod secret=false",
		"region":               "string dc4-a secret=false",
		"adminKubeconfig":      "string apiVersion: v1 secret=true",
		"deployerKubeconfigs":  "map[string]string map[production:kind: Config] secret=true",
		"oidcKubeconfig":       "string kind: Config secret=false",
		"platformInstalled":    "bool true secret=false",
		"namespaces":           "[]string [production] secret=false",
		"ingressIp":            "string 203.0.113.7 secret=false",
		"databaseHost":         "string postgres-pooler-rw secret=false",
		"grafanaUrl":           "string https://grafana.camps.ch secret=false",
		"grafanaAdminPassword": "string pw secret=true",
	}
	got := read(contract.ReadAsOperator)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("ReadAsOperator: %s = %q, want %q", k, got[k], w)
		}
	}
	consumer := read(contract.Read)
	for _, f := range contract.Fields() {
		switch _, has := consumer[f.Name]; {
		case f.Audience == contract.Operators && has:
			t.Errorf("Read: a consumer gets operators' output %s", f.Name)
		case f.Audience == contract.Consumers && consumer[f.Name] != want[f.Name]:
			t.Errorf("Read: %s = %q, want %q", f.Name, consumer[f.Name], want[f.Name])
		}
	}
}

func TestExportRefusesAPartialContract(t *testing.T) {
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		return contract.Export(ctx, contract.Outputs{Phase: pulumi.Int(1).ToIntOutput()})
	}, pulumi.WithMocks("p", "s", rec))
	if err == nil || !strings.Contains(err.Error(), "outputs not set: clusterMode, clusterName") {
		t.Errorf("err = %v, want the missing outputs named", err)
	}
}

// TestReadReportsMissingOutputs references a stack deployed before an
// output existed: the deployment fails naming the output, without a panic.
func TestReadReportsMissingOutputs(t *testing.T) {
	rec := recorder.New("consumer", "test", func(r *recorder.Resource) resource.PropertyMap {
		return resource.PropertyMap{"outputs": resource.NewProperty(resource.PropertyMap{
			"phase": resource.NewProperty("one"),
		})}
	})
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		ref, err := pulumi.NewStackReference(ctx, "org/camps-infra/old", nil)
		if err != nil {
			return err
		}
		o := contract.Read(ref)
		_, err = internals.UnsafeAwaitOutput(ctx.Context(), o.PlatformInstalled)
		if err == nil {
			return nil
		}
		_, perr := internals.UnsafeAwaitOutput(ctx.Context(), o.Phase)
		return fmt.Errorf("%w; %w", err, perr)
	}, pulumi.WithMocks("consumer", "test", rec))
	for _, want := range []string{
		"stack output platformInstalled is <nil>, want boolean",
		"stack output phase is string, want integer",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}
