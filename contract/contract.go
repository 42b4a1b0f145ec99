// Package contract is the outputs contract of a camps-infra stack: the name,
// Go type, secrecy and meaning of every stack output. Stacks export through
// it and consumer programs read a StackReference through it, with types
// instead of strings. outputs.schema.json is generated from it
// (go run ./contract/gen) and a test fails when the two drift.
package contract

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Outputs are the outputs of one stack. The struct tags are the contract:
// `output` is the output's name, `secret` marks outputs that are always
// exported as secrets, `desc` documents it.
type Outputs struct {
	// Phase is the architecture phase the stack is deployed at (1 or 2).
	Phase pulumi.IntOutput `output:"phase" desc:"Architecture phase the stack is deployed at: 1 or 2."`
	// ClusterMode is "create" when the stack owns its cluster, "attach" otherwise.
	ClusterMode pulumi.StringOutput `output:"clusterMode" desc:"create when this stack owns its cluster, attach when it uses one made elsewhere."`
	// ClusterName is the name of the cluster the stack deploys to.
	ClusterName pulumi.StringOutput `output:"clusterName" desc:"Name of the Kubernetes cluster the stack deploys to."`
	// ClusterOwner is the stack that owns the cluster; empty when the
	// cluster was made outside Pulumi.
	ClusterOwner pulumi.StringOutput `output:"clusterOwner" desc:"Fully qualified name of the stack that owns the cluster; empty for a cluster made outside Pulumi."`
	// Region is the Infomaniak region of the cluster, e.g. dc4-a.
	Region pulumi.StringOutput `output:"region" desc:"Infomaniak region of the cluster, e.g. dc4-a."`
	// Kubeconfig is the admin kubeconfig of the cluster, for automation only.
	Kubeconfig pulumi.StringOutput `output:"kubeconfig" secret:"true" desc:"Admin kubeconfig of the cluster, for automation only (CI and attaching stacks), never for people."`
	// PlatformInstalled tells whether this stack installs the in-cluster platform.
	PlatformInstalled pulumi.BoolOutput `output:"platformInstalled" desc:"Whether this stack installs the in-cluster platform (ingress, cert-manager, Longhorn, monitoring)."`
	// Namespaces are the application namespaces this stack manages.
	Namespaces pulumi.StringArrayOutput `output:"namespaces" desc:"Application namespaces this stack manages."`
	// IngressIP is the reserved address of the cluster's ingress load balancer.
	IngressIP pulumi.StringOutput `output:"ingressIp" desc:"Reserved floating IP of the cluster's ingress load balancer, which DNS points at; empty when none is reserved."`
	// GrafanaURL is the Grafana of the cluster's platform.
	GrafanaURL pulumi.StringOutput `output:"grafanaUrl" desc:"Address of the Grafana of the cluster's platform; empty when no stack of this project installs it."`
	// GrafanaAdminPassword is Grafana's generated admin password.
	GrafanaAdminPassword pulumi.StringOutput `output:"grafanaAdminPassword" secret:"true" desc:"Generated admin password of that Grafana, for break-glass access; empty when there is none."`
}

// Field describes one output of the contract.
type Field struct {
	// Name is the output's name.
	Name string
	// GoName is the field of Outputs.
	GoName string
	// JSONType is the JSON Schema type of the value.
	JSONType string
	// Items is the JSON Schema type of array elements.
	Items string
	// Secret is true when the output is always secret.
	Secret bool
	// Description documents the output.
	Description string
}

// Fields lists the contract's outputs in declaration order.
func Fields() []Field {
	t := reflect.TypeFor[Outputs]()
	fields := make([]Field, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		jt, items := jsonType(f.Type)
		fields = append(fields, Field{
			Name:        f.Tag.Get("output"),
			GoName:      f.Name,
			JSONType:    jt,
			Items:       items,
			Secret:      f.Tag.Get("secret") == "true",
			Description: f.Tag.Get("desc"),
		})
	}
	return fields
}

func jsonType(t reflect.Type) (typ, items string) {
	switch t {
	case reflect.TypeFor[pulumi.IntOutput]():
		return "integer", ""
	case reflect.TypeFor[pulumi.StringOutput]():
		return "string", ""
	case reflect.TypeFor[pulumi.BoolOutput]():
		return "boolean", ""
	case reflect.TypeFor[pulumi.StringArrayOutput]():
		return "array", "string"
	}
	// Only reachable when a field of a new type is added to Outputs; the
	// contract test covers every field.
	panic(fmt.Sprintf("contract: output type %v has no JSON type", t))
}

// ByName returns the outputs by contract name; unset ones are absent.
func (o Outputs) ByName() map[string]pulumi.Output {
	v := reflect.ValueOf(o)
	m := map[string]pulumi.Output{}
	for i, f := range Fields() {
		if out, ok := v.Field(i).Interface().(pulumi.Output); ok && !v.Field(i).IsZero() {
			m[f.Name] = out
		}
	}
	return m
}

// Export exports every output of o under its contract name; secret outputs
// are wrapped as secrets. An unset field is an error: the contract is whole.
func Export(ctx *pulumi.Context, o Outputs) error {
	byName := o.ByName()
	var missing []string
	for _, f := range Fields() {
		out, ok := byName[f.Name]
		if !ok {
			missing = append(missing, f.Name)
			continue
		}
		if f.Secret {
			out = pulumi.ToSecret(out)
		}
		ctx.Export(f.Name, out)
	}
	if len(missing) > 0 {
		return fmt.Errorf("contract: outputs not set: %s", strings.Join(missing, ", "))
	}
	return nil
}

// Read reads the outputs of another stack through a StackReference, typed.
// Secret outputs stay secret. An output that is missing or of the wrong
// type fails the deployment with a message naming it, instead of a panic.
func Read(ref *pulumi.StackReference) Outputs {
	var o Outputs
	v := reflect.ValueOf(&o).Elem()
	for i, f := range Fields() {
		raw := ref.GetOutput(pulumi.String(f.Name))
		fail := func(got any) error {
			return fmt.Errorf("contract: stack output %s is %T, want %s (is the referenced stack deployed with this contract?)", f.Name, got, f.JSONType)
		}
		var out pulumi.Output
		switch f.JSONType {
		case "integer":
			out = raw.ApplyT(func(x any) (int, error) {
				n, ok := x.(float64)
				if !ok || n != float64(int(n)) {
					return 0, fail(x)
				}
				return int(n), nil
			}).(pulumi.IntOutput)
		case "boolean":
			out = raw.ApplyT(func(x any) (bool, error) {
				b, ok := x.(bool)
				if !ok {
					return false, fail(x)
				}
				return b, nil
			}).(pulumi.BoolOutput)
		case "array":
			out = raw.ApplyT(func(x any) ([]string, error) {
				list, ok := x.([]any)
				if !ok {
					return nil, fail(x)
				}
				strs := make([]string, len(list))
				for j, e := range list {
					if strs[j], ok = e.(string); !ok {
						return nil, fail(x)
					}
				}
				return strs, nil
			}).(pulumi.StringArrayOutput)
		default:
			out = raw.ApplyT(func(x any) (string, error) {
				str, ok := x.(string)
				if !ok {
					return "", fail(x)
				}
				return str, nil
			}).(pulumi.StringOutput)
		}
		if f.Secret {
			out = pulumi.ToSecret(out)
		}
		v.Field(i).Set(reflect.ValueOf(out))
	}
	return o
}

// SchemaID is the $id of the outputs' JSON Schema.
const SchemaID = "https://gitlab.com/camps-ch/infra/contract/outputs.schema.json"

// Schema renders the JSON Schema of a stack's outputs, generated from
// Outputs. Secret outputs carry "x-secret": true.
func Schema() ([]byte, error) {
	props := map[string]any{}
	required := []string{}
	for _, f := range Fields() {
		p := map[string]any{"type": f.JSONType, "description": f.Description}
		if f.Items != "" {
			p["items"] = map[string]any{"type": f.Items}
		}
		if f.Secret {
			p["x-secret"] = true
		}
		props[f.Name] = p
		required = append(required, f.Name)
	}
	b, err := json.MarshalIndent(map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  SchemaID,
		"title":                "camps-infra stack outputs",
		"description":          "The outputs every camps-infra stack exports; generated from contract.Outputs by go run ./contract/gen.",
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
