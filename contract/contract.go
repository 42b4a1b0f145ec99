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
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Audiences: who an output is for.
const (
	// Consumers are other teams, their programs, pipelines and people:
	// they read the contract through Read and get no credential beyond
	// their namespaces'.
	Consumers = "consumers"
	// Operators run this project's stacks (and its attaching stacks):
	// their outputs carry cluster-wide credentials.
	Operators = "operators"
)

// Outputs are the outputs of one stack. The struct tags are the contract:
// `output` is the output's name, `secret` marks outputs that are always
// exported as secrets, `for` names the audience (Consumers or Operators),
// `desc` documents it.
type Outputs struct {
	// Phase is the architecture phase the stack is deployed at (1 or 2).
	Phase pulumi.IntOutput `output:"phase" for:"consumers" desc:"Architecture phase the stack is deployed at: 1 or 2."`
	// ClusterMode is "create" when the stack owns its cluster, "attach" otherwise.
	ClusterMode pulumi.StringOutput `output:"clusterMode" for:"consumers" desc:"create when this stack owns its cluster, attach when it uses one made elsewhere."`
	// ClusterName is the name of the cluster the stack deploys to.
	ClusterName pulumi.StringOutput `output:"clusterName" for:"consumers" desc:"Name of the Kubernetes cluster the stack deploys to."`
	// ClusterOwner is the stack that owns the cluster; empty when the
	// cluster was made outside Pulumi.
	ClusterOwner pulumi.StringOutput `output:"clusterOwner" for:"consumers" desc:"Fully qualified name of the stack that owns the cluster; empty for a cluster made outside Pulumi."`
	// Region is the Infomaniak region of the cluster, e.g. dc4-a.
	Region pulumi.StringOutput `output:"region" for:"consumers" desc:"Infomaniak region of the cluster, e.g. dc4-a."`
	// DeployerKubeconfigs are, by application namespace, kubeconfigs of
	// that namespace's deployer ServiceAccount.
	DeployerKubeconfigs pulumi.StringMapOutput `output:"deployerKubeconfigs" secret:"true" for:"consumers" desc:"By application namespace, a kubeconfig of that namespace's deployer ServiceAccount: it may ship and observe applications in that namespace only (the deployer Role), nothing cluster-wide. For the namespace's CI; rotated by raising namespaces[].deployerTokenGeneration."`
	// OIDCKubeconfig is a kubeconfig for people, who sign in with OIDC.
	OIDCKubeconfig pulumi.StringOutput `output:"oidcKubeconfig" for:"consumers" desc:"A kubeconfig for people: the cluster's server and certificate authority, and a user who signs in with the stack's OIDC issuer (GitLab) through kubelogin, so that the API server knows them by their groups (docs/access.md). It holds no credential. Empty when the stack does not create its cluster (its owner's has it) or has no security.oidc."`
	// PlatformInstalled tells whether this stack installs the in-cluster platform.
	PlatformInstalled pulumi.BoolOutput `output:"platformInstalled" for:"consumers" desc:"Whether this stack installs the in-cluster platform (ingress, cert-manager, Longhorn, monitoring)."`
	// Namespaces are the application namespaces this stack manages.
	Namespaces pulumi.StringArrayOutput `output:"namespaces" for:"consumers" desc:"Application namespaces this stack manages."`
	// IngressIP is the reserved address of the cluster's ingress load balancer.
	IngressIP pulumi.StringOutput `output:"ingressIp" for:"consumers" desc:"Reserved floating IP of the cluster's ingress load balancer, which DNS points at; empty when none is reserved."`
	// DatabaseHost is where each namespace's applications reach their database.
	DatabaseHost pulumi.StringOutput `output:"databaseHost" for:"consumers" desc:"Host the applications of each namespace reach their PostgreSQL database at, in their own namespace: the PgBouncer pooler's Service (transaction mode), or the cluster's read-write Service without a pooler; empty without databases. The credentials are in the Secret postgres-app."`
	// GrafanaURL is the Grafana of the cluster's platform.
	GrafanaURL pulumi.StringOutput `output:"grafanaUrl" for:"consumers" desc:"Address of the Grafana of the cluster's platform; empty when no stack of this project installs it."`
	// GrafanaAdminPassword is Grafana's generated admin password.
	GrafanaAdminPassword pulumi.StringOutput `output:"grafanaAdminPassword" secret:"true" for:"operators" desc:"Generated admin password of the Grafana this stack installs, for break-glass access by its operators; empty when the stack installs none (an attaching stack does not pass on its owner's)."`
	// AdminKubeconfig is the admin kubeconfig of the cluster the stack
	// creates; empty otherwise.
	AdminKubeconfig pulumi.StringOutput `output:"adminKubeconfig" secret:"true" for:"operators" desc:"Admin (cluster-wide) kubeconfig of the cluster this stack creates, for its operators and for this project's stacks that attach to the cluster, never for other teams or people; empty when the stack does not create its cluster (it passes on no other stack's)."`
}

// Field describes one output of the contract.
type Field struct {
	// Name is the output's name.
	Name string
	// GoName is the field of Outputs.
	GoName string
	// JSONType is the JSON Schema type of the value.
	JSONType string
	// Items is the JSON Schema type of array elements and object values.
	Items string
	// Secret is true when the output is always secret.
	Secret bool
	// Audience is who the output is for: Consumers or Operators.
	Audience string
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
			Audience:    f.Tag.Get("for"),
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
	case reflect.TypeFor[pulumi.StringMapOutput]():
		return "object", "string"
	}
	// Only reachable when a field of a new type is added to Outputs; the
	// contract test covers every field.
	panic(fmt.Sprintf("contract: output type %v has no JSON type", t))
}

// markdownHeader opens docs/outputs.md.
const markdownHeader = `# Outputs contract

<!-- Generated by make schema from contract.Outputs: edit that, not this file. -->

Every stack exports these outputs; ` + "`contract/outputs.schema.json`" + ` is their JSON
Schema (` + "`x-audience`" + `, ` + "`x-secret`" + `), generated from the same type, and a test
fails when either drifts.

Outputs are for one of two audiences:

- **consumers**: other teams, their programs, pipelines and people. They read
  the contract with ` + "`contract.Read`" + `, which returns the consumers' outputs
  only. The one credential among them is each namespace's deployer
  kubeconfig, limited to that namespace (docs/credentials.md); people sign in
  with ` + "`oidcKubeconfig`" + ` (docs/access.md).
- **operators**: the people who run this project's stacks, and this
  project's stacks that attach to a cluster. Their outputs carry cluster-wide
  credentials; no consumer needs them, and ` + "`make policy`" + ` refuses a plan that
  puts a cluster-admin credential in a consumers' output. Pulumi lets anyone
  who may read a stack read all its outputs: grant other teams' stacks and
  people read access to this project's stacks accordingly.

The output ` + "`kubeconfig`" + ` (the cluster's admin kubeconfig) is gone: a consumer
that read it moves to ` + "`deployerKubeconfigs[<namespace>]`" + `, or to
` + "`oidcKubeconfig`" + ` for people. This project's attaching stack reads the owner's
` + "`adminKubeconfig`" + `, so deploy uat before prod.

| output | for | type | secret | meaning |
|---|---|---|---|---|
`

// markdownFooter shows a consumer.
const markdownFooter = `
A consumer reads them typed instead of by string:

` + "```go" + `
ref, err := pulumi.NewStackReference(ctx, "organization/camps-infra/prod", nil)
if err != nil {
	return err
}
out := contract.Read(ref) // the consumers' outputs, typed
ctx.Export("cluster", out.ClusterName)
kubeconfig := out.DeployerKubeconfigs.MapIndex(pulumi.String("production")) // secret
` + "```" + `

A missing or mistyped output fails the consumer's deployment with a message
naming it.
`

// Markdown renders docs/outputs.md from the contract.
func Markdown() []byte {
	var b strings.Builder
	b.WriteString(markdownHeader)
	for _, f := range Fields() {
		typ := f.JSONType
		switch f.JSONType {
		case "array":
			typ = "list of " + f.Items
		case "object":
			typ = "map of " + f.Items
		}
		secret := ""
		if f.Secret {
			secret = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.Name, f.Audience, typ, secret, f.Description)
	}
	b.WriteString(markdownFooter)
	return []byte(b.String())
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

// Read reads the consumers' outputs of another stack through a
// StackReference, typed; the operators' outputs stay unset. Secret
// outputs stay secret. An output that is missing or of the wrong type
// fails the deployment with a message naming it, instead of a panic.
func Read(ref *pulumi.StackReference) Outputs {
	return read(ref, Consumers)
}

// ReadAsOperator reads every output of another stack of this project,
// the operators' too: for a stack that attaches to the other's cluster.
func ReadAsOperator(ref *pulumi.StackReference) Outputs {
	return read(ref, Consumers, Operators)
}

func read(ref *pulumi.StackReference, audiences ...string) Outputs {
	var o Outputs
	v := reflect.ValueOf(&o).Elem()
	for i, f := range Fields() {
		if !slices.Contains(audiences, f.Audience) {
			continue
		}
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
		case "object":
			out = raw.ApplyT(func(x any) (map[string]string, error) {
				m, ok := x.(map[string]any)
				if !ok {
					return nil, fail(x)
				}
				strs := make(map[string]string, len(m))
				for k, e := range m {
					if strs[k], ok = e.(string); !ok {
						return nil, fail(x)
					}
				}
				return strs, nil
			}).(pulumi.StringMapOutput)
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
// Outputs. Secret outputs carry "x-secret": true; every output names its
// audience in "x-audience".
func Schema() ([]byte, error) {
	props := map[string]any{}
	required := []string{}
	for _, f := range Fields() {
		p := map[string]any{"type": f.JSONType, "description": f.Description, "x-audience": f.Audience}
		switch f.JSONType {
		case "array":
			p["items"] = map[string]any{"type": f.Items}
		case "object":
			p["additionalProperties"] = map[string]any{"type": f.Items}
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
