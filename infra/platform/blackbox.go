package platform

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// BlackboxType is the type token of the Blackbox component.
const BlackboxType = "camps:platform:Blackbox"

// BlackboxChart is the pinned prometheus-blackbox-exporter chart (app v0.28.0).
var BlackboxChart = helm.Chart{
	Name: "prometheus-blackbox-exporter", Version: "11.17.2",
	Repository: "https://prometheus-community.github.io/helm-charts",
}

// blackboxName is the exporter's fixed name (fullnameOverride), so that
// its address is known to stacks attached to this cluster.
const blackboxName = "blackbox-exporter"

// BlackboxProber is the exporter's address, host:port, for Probe objects.
const BlackboxProber = blackboxName + "." + convention.MonitoringNamespace + ".svc:9115"

// BlackboxModule probes an HTTPS URL: it must answer 2xx (after
// redirects) over TLS, reached over IPv4 like the load balancer.
const BlackboxModule = "https_2xx"

// DefaultBlackboxResources size the exporter for a few probes every 30 s.
var DefaultBlackboxResources = convention.NewResources("10m", "32Mi", "100m", "64Mi")

// Blackbox is the Prometheus blackbox exporter, which probes the public
// hosts from inside the cluster, through Cloudflare, as users reach them.
type Blackbox struct {
	pulumi.ResourceState

	// Prober is the exporter's address, BlackboxProber.
	Prober pulumi.StringOutput `pulumi:"prober"`
}

// BlackboxArgs configure the blackbox exporter.
type BlackboxArgs struct {
	// Chart overrides the chart's source; default BlackboxChart.
	Chart *helm.Chart
	// Namespace is the monitoring namespace; required.
	Namespace pulumi.StringInput
	// Resources of the exporter; default DefaultBlackboxResources.
	Resources *convention.Resources
}

func (a *BlackboxArgs) validate() error {
	if a == nil || a.Namespace == nil {
		return errors.New("the monitoring namespace is required")
	}
	return nil
}

func (a *BlackboxArgs) resources() convention.Resources {
	if a.Resources != nil {
		return *a.Resources
	}
	return DefaultBlackboxResources
}

// Requests are the CPU and memory the exporter asks for.
func (a *BlackboxArgs) Requests() convention.Requests { return convention.RequestsOf(1, a.resources()) }

type blackboxValues struct {
	FullnameOverride   string               `json:"fullnameOverride"`
	Replicas           int                  `json:"replicas"`
	Resources          convention.Resources `json:"resources"`
	PodSecurityContext map[string]any       `json:"podSecurityContext"`
	Config             blackboxConfig       `json:"config"`
	ServiceMonitor     blackboxSvcMonitor   `json:"serviceMonitor"`
}

type blackboxConfig struct {
	Modules map[string]blackboxModule `json:"modules"`
}

type blackboxModule struct {
	Prober  string       `json:"prober"`
	Timeout string       `json:"timeout"`
	HTTP    blackboxHTTP `json:"http"`
}

type blackboxHTTP struct {
	ValidHTTPVersions   []string `json:"valid_http_versions"`
	FollowRedirects     bool     `json:"follow_redirects"`
	FailIfNotSSL        bool     `json:"fail_if_not_ssl"`
	PreferredIPProtocol string   `json:"preferred_ip_protocol"`
}

type blackboxSvcMonitor struct {
	Enabled bool `json:"enabled"`
}

func (a *BlackboxArgs) values() blackboxValues {
	return blackboxValues{
		FullnameOverride: blackboxName,
		Replicas:         1,
		Resources:        a.resources(),
		// The chart's container context is restricted but for seccomp.
		PodSecurityContext: map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
		Config: blackboxConfig{Modules: map[string]blackboxModule{
			BlackboxModule: {
				Prober: "http", Timeout: "10s",
				HTTP: blackboxHTTP{
					ValidHTTPVersions: []string{"HTTP/1.1", "HTTP/2.0"},
					FollowRedirects:   true, FailIfNotSSL: true, PreferredIPProtocol: "ip4",
				},
			},
		}},
		// The probes are Probe objects of each stack, not ServiceMonitors.
		ServiceMonitor: blackboxSvcMonitor{Enabled: false},
	}
}

// NewBlackbox installs the blackbox exporter in the monitoring namespace
// with the BlackboxModule module. Defaults: chart BlackboxChart, resources
// DefaultBlackboxResources, one replica.
func NewBlackbox(ctx *pulumi.Context, name string, args *BlackboxArgs, opts ...pulumi.ResourceOption) (*Blackbox, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("blackbox %q: %w", name, err)
	}
	c := &Blackbox{}
	if err := ctx.RegisterComponentResource(BlackboxType, name, c, opts...); err != nil {
		return nil, err
	}
	values, err := helm.Values(args.values())
	if err != nil {
		return nil, fmt.Errorf("blackbox %q: %w", name, err)
	}
	chart := helm.Override(BlackboxChart, args.Chart)
	// The monitoring namespace denies by default; the exporter's own
	// allowance joins the namespace's. The release does not wait for it:
	// readiness probes come from the kubelet, which policies do not
	// filter, and Prometheus is admitted as soon as the allowance exists.
	if _, err := netpol.Add(ctx, name, args.Namespace, blackboxNetwork(), pulumi.Parent(c)); err != nil {
		return nil, fmt.Errorf("blackbox %q: %w", name, err)
	}
	if _, err := helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: chart, Name: name, Namespace: args.Namespace, Values: values,
	}, pulumi.Parent(c)); err != nil {
		return nil, fmt.Errorf("blackbox %q: %w", name, err)
	}
	c.Prober = pulumi.String(BlackboxProber).ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"prober": c.Prober})
}
