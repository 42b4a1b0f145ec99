package platform

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// customResource creates a custom resource from an untyped spec.
func customResource(ctx *pulumi.Context, name, apiVersion, kind, objName string, namespace pulumi.StringInput,
	spec map[string]any, opts ...pulumi.ResourceOption,
) (*apiextensions.CustomResource, error) {
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(objName)}
	if namespace != nil {
		meta.Namespace = namespace
	}
	r, err := apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(apiVersion),
		Kind:        pulumi.String(kind),
		Metadata:    meta,
		OtherFields: kubernetes.UntypedArgs{"spec": spec},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, objName, err)
	}
	return r, nil
}

// serviceMonitor scrapes the Services matching labels on an endpoint. It
// waits for the monitoring CRDs (monitoringReady) as well as for opts.
func serviceMonitor(ctx *pulumi.Context, name string, namespace pulumi.StringInput, labels map[string]any,
	endpoint map[string]any, monitoringReady []pulumi.Resource, opts ...pulumi.ResourceOption,
) error {
	opts = append(opts, pulumi.DependsOn(monitoringReady))
	_, err := customResource(ctx, name+"-metrics", "monitoring.coreos.com/v1", "ServiceMonitor", name, namespace, map[string]any{
		"selector":  map[string]any{"matchLabels": labels},
		"endpoints": []any{endpoint},
	}, opts...)
	return err
}
