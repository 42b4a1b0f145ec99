// Package customresource creates Kubernetes custom resources (CRDs the SDK
// has no types for: the monitoring, Longhorn, cert-manager and
// CloudNativePG kinds) from a spec given as a typed struct or a map.
package customresource

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Object names a custom resource.
type Object struct {
	// APIVersion and Kind, e.g. monitoring.coreos.com/v1 and ServiceMonitor.
	APIVersion, Kind string
	// Name is the object's name; Namespace is empty for a cluster-scoped one.
	Name      string
	Namespace pulumi.StringInput
	// Labels are optional.
	Labels map[string]string
}

// New creates the object with spec: a map, or a struct whose JSON form is
// the spec.
func New(ctx *pulumi.Context, name string, obj Object, spec any, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	m, ok := spec.(map[string]any)
	if !ok {
		b, err := json.Marshal(spec)
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: spec: %w", obj.Kind, obj.Name, err)
		}
	}
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(obj.Name)}
	if obj.Namespace != nil {
		meta.Namespace = obj.Namespace
	}
	if len(obj.Labels) > 0 {
		meta.Labels = pulumi.ToStringMap(obj.Labels)
	}
	r, err := apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(obj.APIVersion),
		Kind:        pulumi.String(obj.Kind),
		Metadata:    meta,
		OtherFields: kubernetes.UntypedArgs{"spec": m},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", obj.Kind, obj.Name, err)
	}
	return r, nil
}
