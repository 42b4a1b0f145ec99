// Package externalsecret declares Secrets that the External Secrets
// Operator fills from OpenBao, in place of Secrets Pulumi writes: same
// name, same type, same keys, so workloads do not change.
package externalsecret

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/customresource"
)

// Store is where ExternalSecrets read.
type Store struct {
	// Name is the ClusterSecretStore's.
	Name string
	// Ready are what an ExternalSecret waits for: the operator's CRDs and
	// webhook, and the store.
	Ready []pulumi.Resource
}

// Field is one key of the Secret, read from a property of a secret in the
// store (Key is its path in the KV engine, e.g. production/postgres-app).
type Field struct {
	SecretKey, Key, Property string
}

// Spec is the Secret to keep in sync.
type Spec struct {
	// Name is the Secret's name, and the ExternalSecret's.
	Name      string
	Namespace pulumi.StringInput
	// Type is the Secret's type (default Opaque). It must be the type of
	// a Secret Pulumi wrote before: Kubernetes cannot change a Secret's
	// type, and the operator adopts the existing Secret.
	Type string
	// Fields are read from the store.
	Fields []Field
	// Template, when set, are the Secret's keys rendered from the fields
	// (the operator's template engine v2, e.g. a .dockerconfigjson);
	// without it the fields are the Secret's keys.
	Template map[string]string
}

// Key is where the secret `name` of namespace `ns` lives in the store.
func Key(ns, name string) string { return ns + "/" + name }

// Mirrored is the Secret's key read from the same-named property of the
// store's secret at Key(ns, name).
func Mirrored(ns, name, key string) Field {
	return Field{SecretKey: key, Key: Key(ns, name), Property: key}
}

// ResourceName is a Pulumi name for the Spec, unique across namespaces:
// its first field's store key with dashes for slashes.
func (s Spec) ResourceName() string {
	if len(s.Fields) == 0 {
		return s.Name
	}
	return strings.ReplaceAll(s.Fields[0].Key, "/", "-")
}

// RefreshInterval is how often the operator reads the store again.
const RefreshInterval = "1h"

// New creates the ExternalSecret. The operator owns the Secret
// (creationPolicy Owner: it adopts a Secret of that name that has no
// owner, and Kubernetes deletes the Secret with the ExternalSecret);
// deletionPolicy Retain keeps the Secret when the value disappears from
// the store.
func New(ctx *pulumi.Context, name string, store Store, s Spec, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	if store.Name == "" || s.Name == "" || s.Namespace == nil || len(s.Fields) == 0 {
		return nil, fmt.Errorf("external secret %q: %w", name, errors.New("a store, a name, a namespace and fields are required"))
	}
	data := make([]any, 0, len(s.Fields))
	for _, f := range s.Fields {
		data = append(data, map[string]any{
			"secretKey": f.SecretKey,
			"remoteRef": map[string]any{"key": f.Key, "property": f.Property},
		})
	}
	template := map[string]any{"engineVersion": "v2"}
	if s.Type != "" {
		template["type"] = s.Type
	}
	if len(s.Template) > 0 {
		template["data"] = s.Template
	}
	return customresource.New(ctx, name, customresource.Object{
		APIVersion: "external-secrets.io/v1", Kind: "ExternalSecret", Name: s.Name, Namespace: s.Namespace,
	}, map[string]any{
		"refreshInterval": RefreshInterval,
		"secretStoreRef":  map[string]any{"kind": "ClusterSecretStore", "name": store.Name},
		"target": map[string]any{
			"name": s.Name, "creationPolicy": "Owner", "deletionPolicy": "Retain", "template": template,
		},
		"data": data,
	}, append(opts, pulumi.DependsOn(store.Ready))...)
}
