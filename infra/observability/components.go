package observability

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/customresource"
)

// Type tokens of the components.
const (
	PlatformType = "camps:observability:Platform"
	SLOType      = "camps:observability:SLO"
)

// Platform is what the stack that owns the monitoring stack adds to it:
// the dashboards and the platform alert rules.
type Platform struct {
	pulumi.ResourceState

	// Dashboards are the names of the dashboard ConfigMaps.
	Dashboards pulumi.StringArrayOutput `pulumi:"dashboards"`
}

// PlatformArgs configure the Platform component. Every field is required.
type PlatformArgs struct {
	// Namespace is the monitoring namespace.
	Namespace pulumi.StringInput
	// RuleLabels are the labels Prometheus selects PrometheusRules by.
	RuleLabels map[string]string
	// DashboardLabels are the labels the Grafana sidecar selects dashboard
	// ConfigMaps by.
	DashboardLabels map[string]string
	// FolderAnnotation is the ConfigMap annotation the sidecar reads a
	// dashboard's folder from.
	FolderAnnotation string
	// MonitoringReady are what the PrometheusRule waits for (the CRDs).
	MonitoringReady []pulumi.Resource
	// Rules select the optional alerts.
	Rules RuleOptions
	// Watch are public addresses of another cluster (https://host/path),
	// probed from this one, so that a whole-cluster outage is seen from
	// outside it (WatchedHostDown). Optional; with it Prober and Module
	// are required.
	Watch []string
	// Prober is the blackbox exporter's address, host:port, and Module
	// the module the watch probes use.
	Prober, Module string
}

func (a *PlatformArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Namespace == nil:
		return errors.New("a namespace is required")
	case len(a.RuleLabels) == 0 || len(a.DashboardLabels) == 0 || a.FolderAnnotation == "":
		return errors.New("the rule labels, dashboard labels and folder annotation are required")
	case len(a.Watch) > 0 && (a.Prober == "" || a.Module == ""):
		return errors.New("watching needs the prober and its module")
	}
	for _, u := range a.Watch {
		if p, err := url.Parse(u); err != nil || p.Scheme != "https" || p.Host == "" {
			return fmt.Errorf("watched URL %q is not an https:// URL", u)
		}
	}
	return nil
}

// NewPlatform ships the dashboards (one ConfigMap each, labelled for the
// Grafana sidecar, its folder in an annotation) and PlatformRules as a
// PrometheusRule.
func NewPlatform(ctx *pulumi.Context, name string, args *PlatformArgs, opts ...pulumi.ResourceOption) (*Platform, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("observability %q: %w", name, err)
	}
	wrap := func(err error) error { return fmt.Errorf("observability %q: %w", name, err) }
	dashboards, err := Dashboards()
	if err != nil {
		return nil, wrap(err)
	}
	c := &Platform{}
	if err := ctx.RegisterComponentResource(PlatformType, name, c, opts...); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(dashboards))
	for _, d := range dashboards {
		if _, err := corev1.NewConfigMap(ctx, name+"-"+d.Name, &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name:        pulumi.String(d.Name),
				Namespace:   args.Namespace,
				Labels:      pulumi.ToStringMap(args.DashboardLabels),
				Annotations: pulumi.StringMap{args.FolderAnnotation: pulumi.String(d.Folder)},
			},
			Data: pulumi.StringMap{d.Name + ".json": pulumi.String(d.JSON)},
		}, pulumi.Parent(c)); err != nil {
			return nil, wrap(fmt.Errorf("dashboard %s: %w", d.Name, err))
		}
		names = append(names, d.Name)
	}
	if _, err := prometheusRule(ctx, name+"-rules", "camps-platform", args.Namespace, args.RuleLabels, PlatformRules(args.Rules),
		pulumi.Parent(c), pulumi.DependsOn(args.MonitoringReady)); err != nil {
		return nil, wrap(err)
	}
	if len(args.Watch) > 0 {
		if _, err := customResource(ctx, name+"-watch", "Probe", "watched-hosts", args.Namespace, nil, map[string]any{
			"jobName":  "watch",
			"interval": "30s",
			"module":   args.Module,
			"prober":   map[string]any{"url": args.Prober, "scheme": "http", "path": "/probe"},
			"targets": map[string]any{"staticConfig": map[string]any{
				"static": args.Watch,
				"labels": map[string]any{WatchLabel: "true"},
			}},
		}, pulumi.Parent(c), pulumi.DependsOn(args.MonitoringReady)); err != nil {
			return nil, wrap(err)
		}
	}
	c.Dashboards = pulumi.ToStringArray(names).ToStringArrayOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"dashboards": c.Dashboards})
}

// SLO is one application namespace's objectives: a Probe of its public
// hosts through the blackbox exporter, and the SLO rules.
type SLO struct {
	pulumi.ResourceState

	// Namespace is the application namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
}

// SLOArgs configure the SLO component. Every field is required unless it
// says otherwise.
type SLOArgs struct {
	// Objectives of the namespace.
	Objectives SLOs
	// Namespace is the namespace's name as an output of the resource that
	// creates it, so that the Probe and rules wait for it. Default:
	// Objectives.Namespace.
	Namespace pulumi.StringInput
	// URLs are the public addresses probed, https://host/path.
	URLs []string
	// Prober is the blackbox exporter's address, host:port.
	Prober string
	// Module is the blackbox exporter module the probes use.
	Module string
	// Interval between probes; default 30s.
	Interval string
	// RuleLabels are the labels Prometheus selects PrometheusRules by.
	RuleLabels map[string]string
	// MonitoringReady are what the Probe and the rules wait for; empty
	// when the monitoring stack is another stack's.
	MonitoringReady []pulumi.Resource
}

func (a *SLOArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case len(a.URLs) == 0:
		return errors.New("at least one URL to probe is required")
	case a.Prober == "" || a.Module == "":
		return errors.New("the prober and its module are required")
	case len(a.RuleLabels) == 0:
		return errors.New("the rule labels are required")
	}
	for _, u := range a.URLs {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			return fmt.Errorf("probe URL %q is not an https:// URL", u)
		}
	}
	return a.Objectives.Validate()
}

// NewSLO probes the URLs every Interval and records the namespace's SLOs
// with their burn-rate alerts. The probe series carry the namespace as
// their namespace label, which the availability SLO selects.
func NewSLO(ctx *pulumi.Context, name string, args *SLOArgs, opts ...pulumi.ResourceOption) (*SLO, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("slo %q: %w", name, err)
	}
	wrap := func(err error) error { return fmt.Errorf("slo %q: %w", name, err) }
	c := &SLO{}
	if err := ctx.RegisterComponentResource(SLOType, name, c, opts...); err != nil {
		return nil, err
	}
	var ns pulumi.StringInput = pulumi.String(args.Objectives.Namespace)
	if args.Namespace != nil {
		ns = args.Namespace
	}
	interval := args.Interval
	if interval == "" {
		interval = "30s"
	}
	child := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.DependsOn(args.MonitoringReady)}
	if _, err := customResource(ctx, name+"-probe", "Probe", "public-hosts", ns, nil, map[string]any{
		"jobName":  "blackbox",
		"interval": interval,
		"module":   args.Module,
		"prober":   map[string]any{"url": args.Prober, "scheme": "http", "path": "/probe"},
		"targets": map[string]any{"staticConfig": map[string]any{
			"static": args.URLs,
			"labels": map[string]any{"namespace": args.Objectives.Namespace},
		}},
	}, child...); err != nil {
		return nil, wrap(err)
	}
	if _, err := prometheusRule(ctx, name+"-rules", "slo", ns, args.RuleLabels, args.Objectives.Rules(), child...); err != nil {
		return nil, wrap(err)
	}
	c.Namespace = ns.ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"namespace": c.Namespace})
}

// prometheusRule creates a PrometheusRule holding groups.
func prometheusRule(ctx *pulumi.Context, name, objName string, namespace pulumi.StringInput, labels map[string]string,
	groups []RuleGroup, opts ...pulumi.ResourceOption,
) (*apiextensions.CustomResource, error) {
	spec := struct {
		Groups []RuleGroup `json:"groups"`
	}{groups}
	return customResource(ctx, name, "PrometheusRule", objName, namespace, labels, spec, opts...)
}

// customResource creates a monitoring.coreos.com/v1 object.
func customResource(ctx *pulumi.Context, name, kind, objName string, namespace pulumi.StringInput, labels map[string]string,
	spec any, opts ...pulumi.ResourceOption,
) (*apiextensions.CustomResource, error) {
	return customresource.New(ctx, name, customresource.Object{
		APIVersion: "monitoring.coreos.com/v1", Kind: kind, Name: objName, Namespace: namespace, Labels: labels,
	}, spec, opts...)
}
