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
	// Ready are the two releases: clusters wait for their CRDs and webhooks.
	Ready []pulumi.Resource `pulumi:"-"`
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
	// MonitoringReady is what the operator's PodMonitor waits for.
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
	Monitoring   cnpgMonitoring       `json:"monitoring"`
}

type cnpgMonitoring struct {
	PodMonitorEnabled bool `json:"podMonitorEnabled"`
}

type barmanValues struct {
	ReplicaCount int                  `json:"replicaCount"`
	CRDs         enabledCreate        `json:"crds"`
	Resources    convention.Resources `json:"resources"`
}

// NewCloudNativePG installs the operator (CRDs, webhooks, a PodMonitor for
// its own metrics) and then the Barman Cloud plugin, in a restricted
// namespace. Defaults: charts CloudNativePGChart and BarmanCloudChart,
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
	operatorValues, err := helm.Values(cnpgValues{
		ReplicaCount: 1, CRDs: enabledCreate{Create: true}, Resources: r.Operator,
		Monitoring: cnpgMonitoring{PodMonitorEnabled: true},
	})
	if err != nil {
		return nil, wrap(err)
	}
	operator, err := helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: helm.Override(CloudNativePGChart, args.Operator), Name: name, Namespace: c.Namespace, Values: operatorValues,
	}, pulumi.Parent(c), pulumi.DependsOn(append(append([]pulumi.Resource{}, ns.Policies...), args.MonitoringReady...)))
	if err != nil {
		return nil, wrap(err)
	}
	pluginValues, err := helm.Values(barmanValues{ReplicaCount: 1, CRDs: enabledCreate{Create: true}, Resources: r.Plugin})
	if err != nil {
		return nil, wrap(err)
	}
	plugin, err := helm.NewRelease(ctx, name+"-barman-cloud", &helm.ReleaseArgs{
		Chart: helm.Override(BarmanCloudChart, args.Plugin), Name: "barman-cloud", Namespace: c.Namespace, Values: pluginValues,
	}, pulumi.Parent(c), pulumi.DependsOn(append([]pulumi.Resource{operator}, args.CertManagerReady...)))
	if err != nil {
		return nil, wrap(err)
	}
	c.Ready = []pulumi.Resource{operator, plugin}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"namespace": c.Namespace})
}
