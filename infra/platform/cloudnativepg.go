package platform

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/helm"
)

// CloudNativePGType is the type token of the CloudNativePG component.
const CloudNativePGType = "camps:platform:CloudNativePG"

// CloudNativePG's pinned charts: the operator (app 1.30.0) and the Barman
// Cloud plugin (app v0.13.0, the newest the chart packages).
var (
	CloudNativePGChart = helm.Chart{Name: "cloudnative-pg", Version: "0.29.0", Repository: "https://cloudnative-pg.github.io/charts"}
	BarmanCloudChart   = helm.Chart{Name: "plugin-barman-cloud", Version: "0.7.0", Repository: "https://cloudnative-pg.github.io/charts"}
)

// The operator and the plugin share convention.CloudNativePGNamespace
// (the plugin must run beside the operator). Both charts run non-root,
// read-only, without capabilities and with seccomp: restricted.

// CloudNativePGResources size the operator and the plugin.
type CloudNativePGResources struct {
	Operator, Plugin convention.Resources
}

// DefaultCloudNativePGResources fit a handful of clusters.
var DefaultCloudNativePGResources = CloudNativePGResources{
	Operator: convention.NewResources("50m", "96Mi", "500m", "256Mi"),
	Plugin:   convention.NewResources("10m", "48Mi", "200m", "128Mi"),
}

// CloudNativePG is the PostgreSQL operator with the Barman Cloud plugin,
// which archives WAL and base backups to S3.
type CloudNativePG struct {
	pulumi.ResourceState

	// Namespace is the operator's namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// Operator is the operator's release: clusters and scheduled backups
	// wait for its CRDs and webhooks.
	Operator pulumi.Resource `pulumi:"-"`
	// Plugin is the Barman Cloud plugin's release: object stores wait
	// for its CRD.
	Plugin pulumi.Resource `pulumi:"-"`
}

// CloudNativePGArgs configure the operator.
type CloudNativePGArgs struct {
	// Operator and Plugin override the charts' sources.
	Operator, Plugin *helm.Chart
	// Resources; default DefaultCloudNativePGResources.
	Resources *CloudNativePGResources
	// CertManagerReady is what the plugin waits for: its certificates are
	// cert-manager Certificates. Required.
	CertManagerReady []pulumi.Resource
	// MonitoringReady is what the operator's PodMonitor waits for (the
	// release does not: the PodMonitor is the program's, not the chart's).
	MonitoringReady []pulumi.Resource
}

func (a *CloudNativePGArgs) validate() error {
	if a == nil || len(a.CertManagerReady) == 0 {
		return errors.New("cert-manager is required (the plugin's certificates)")
	}
	return nil
}

func (a *CloudNativePGArgs) resources() CloudNativePGResources {
	if a.Resources != nil {
		return *a.Resources
	}
	return DefaultCloudNativePGResources
}

// Requests are the CPU and memory of the operator and the plugin.
func (a *CloudNativePGArgs) Requests() convention.Requests {
	r := a.resources()
	return convention.RequestsOf(1, r.Operator, r.Plugin)
}

type cnpgValues struct {
	ReplicaCount int                  `json:"replicaCount"`
	CRDs         enabledCreate        `json:"crds"`
	Resources    convention.Resources `json:"resources"`
}

type barmanValues struct {
	ReplicaCount int                  `json:"replicaCount"`
	CRDs         enabledCreate        `json:"crds"`
	Resources    convention.Resources `json:"resources"`
}

// NewCloudNativePG installs the operator (CRDs, webhooks) and the Barman
// Cloud plugin side by side in a restricted namespace, and a PodMonitor
// for the operator's metrics once the monitoring CRDs exist. The plugin
// waits only for cert-manager: its chart's Issuer and Certificates need
// cert-manager's CRDs and webhook; nothing in it needs the operator. Defaults: charts CloudNativePGChart and BarmanCloudChart,
// resources DefaultCloudNativePGResources.
func NewCloudNativePG(ctx *pulumi.Context, name string, args *CloudNativePGArgs, opts ...pulumi.ResourceOption) (*CloudNativePG, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("cloudnative-pg %q: %w", name, err)
	}
	c := &CloudNativePG{}
	if err := ctx.RegisterComponentResource(CloudNativePGType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("cloudnative-pg %q: %w", name, err) }
	ns, err := convention.NewIsolatedNamespace(ctx, name, convention.CloudNativePGNamespace, convention.Restricted, nil, cloudNativePGNetwork(), pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.Namespace = ns.Name
	r := args.resources()
	operatorValues, err := helm.Values(cnpgValues{ReplicaCount: 1, CRDs: enabledCreate{Create: true}, Resources: r.Operator})
	if err != nil {
		return nil, wrap(err)
	}
	operator, err := helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: helm.Override(CloudNativePGChart, args.Operator), Name: name, Namespace: c.Namespace, Values: operatorValues,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	// The chart's own PodMonitor would make the release wait for the
	// monitoring CRDs; this one waits instead, and the release does not.
	if err := podMonitor(ctx, name, c.Namespace, map[string]any{
		"app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": name,
	}, "metrics", args.MonitoringReady, pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}
	pluginValues, err := helm.Values(barmanValues{ReplicaCount: 1, CRDs: enabledCreate{Create: true}, Resources: r.Plugin})
	if err != nil {
		return nil, wrap(err)
	}
	plugin, err := helm.NewRelease(ctx, name+"-barman-cloud", &helm.ReleaseArgs{
		Chart: helm.Override(BarmanCloudChart, args.Plugin), Name: "barman-cloud", Namespace: c.Namespace, Values: pluginValues,
	}, pulumi.Parent(c), pulumi.DependsOn(args.CertManagerReady))
	if err != nil {
		return nil, wrap(err)
	}
	c.Operator, c.Plugin = operator, plugin
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"namespace": c.Namespace})
}
