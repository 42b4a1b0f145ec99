package platform

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/customresource"
)

// customResource creates a custom resource from an untyped spec.
func customResource(ctx *pulumi.Context, name, apiVersion, kind, objName string, namespace pulumi.StringInput,
	spec map[string]any, opts ...pulumi.ResourceOption,
) (*apiextensions.CustomResource, error) {
	return customresource.New(ctx, name, customresource.Object{APIVersion: apiVersion, Kind: kind, Name: objName, Namespace: namespace}, spec, opts...)
}

// podMonitor scrapes the pods matching labels on a named port. It waits
// for the monitoring CRDs (monitoringReady) as well as for opts.
func podMonitor(ctx *pulumi.Context, name string, namespace pulumi.StringInput, labels map[string]any,
	port string, monitoringReady []pulumi.Resource, opts ...pulumi.ResourceOption,
) error {
	opts = append(opts, pulumi.DependsOn(monitoringReady))
	_, err := customResource(ctx, name+"-metrics", "monitoring.coreos.com/v1", "PodMonitor", name, namespace, map[string]any{
		"selector":            map[string]any{"matchLabels": labels},
		"podMetricsEndpoints": []any{map[string]any{"port": port}},
	}, opts...)
	return err
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
