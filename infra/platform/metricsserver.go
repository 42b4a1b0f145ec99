package platform

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// MetricsServerType is the type token of the MetricsServer component.
const MetricsServerType = "camps:platform:MetricsServer"

// MetricsServerChart is the pinned metrics-server chart (app 0.8.1).
var MetricsServerChart = helm.Chart{
	Name: "metrics-server", Version: "3.13.1",
	Repository: "https://kubernetes-sigs.github.io/metrics-server/",
}

// MetricsServerNamespace holds metrics-server.
const MetricsServerNamespace = "metrics-server"

// DefaultMetricsServerResources size metrics-server for a few dozen nodes
// (its guide: about 1 millicore and 2 MiB per node, plus its base).
var DefaultMetricsServerResources = convention.NewResources("50m", "96Mi", "500m", "256Mi")

// MetricsServer serves the resource metrics API (metrics.k8s.io), which
// HorizontalPodAutoscalers scale on and `kubectl top` reads: it scrapes
// every kubelet and answers the API server through an APIService.
type MetricsServer struct {
	pulumi.ResourceState

	// Namespace is metrics-server's namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// Release is the Helm release.
	Release *helm.Release `pulumi:"-"`
}

// MetricsServerArgs configure metrics-server.
type MetricsServerArgs struct {
	// Chart overrides the chart's source; default MetricsServerChart.
	Chart *helm.Chart
	// Replicas; with 2 or more they spread over the nodes and a
	// PodDisruptionBudget keeps one. At least 1.
	Replicas int
	// KubeletInsecureTLS skips the verification of the kubelets' serving
	// certificates, for clusters whose kubelets serve self-signed ones.
	// Default: false, verified.
	KubeletInsecureTLS bool
	// Resources; default DefaultMetricsServerResources.
	Resources *convention.Resources
}

func (a *MetricsServerArgs) validate() error {
	if a == nil || a.Replicas < 1 {
		return errors.New("at least one replica is required")
	}
	return nil
}

func (a *MetricsServerArgs) resources() convention.Resources {
	if a.Resources != nil {
		return *a.Resources
	}
	return DefaultMetricsServerResources
}

// Requests are the CPU and memory metrics-server asks for.
func (a *MetricsServerArgs) Requests() convention.Requests {
	return convention.RequestsOf(a.Replicas, a.resources())
}

type metricsServerValues struct {
	Replicas            int                  `json:"replicas"`
	Resources           convention.Resources `json:"resources"`
	Args                []string             `json:"args"`
	PodDisruptionBudget metricsServerPDB     `json:"podDisruptionBudget"`
	Affinity            map[string]any       `json:"affinity,omitempty"`
}

type metricsServerPDB struct {
	Enabled      bool `json:"enabled"`
	MinAvailable int  `json:"minAvailable,omitempty"`
}

// values keep the chart's hardened container (non-root, read-only root,
// no capabilities, RuntimeDefault seccomp: Pod Security restricted), its
// self-signed serving certificate and its default arguments.
func (a *MetricsServerArgs) values(release string) metricsServerValues {
	v := metricsServerValues{Replicas: a.Replicas, Resources: a.resources(), Args: []string{}}
	if a.KubeletInsecureTLS {
		v.Args = append(v.Args, "--kubelet-insecure-tls")
	}
	if a.Replicas > 1 {
		v.PodDisruptionBudget = metricsServerPDB{Enabled: true, MinAvailable: 1}
		v.Affinity = preferSpread(release)
	}
	return v
}

// metricsServerPods are its pods' labels.
var metricsServerPods = map[string]string{"app.kubernetes.io/name": "metrics-server"}

// metricsServerNetwork: the API server calls metrics-server (10250, the
// APIService), which scrapes every kubelet (10250 on the nodes).
func metricsServerNetwork() []netpol.Allow {
	return []netpol.Allow{
		convention.DNSAndAPI,
		{Name: "metrics-server", Pods: metricsServerPods,
			Ingress: []netpol.Flow{netpol.Anywhere(10250)}, Egress: []netpol.Flow{netpol.Anywhere(10250)}},
	}
}

// NewMetricsServer installs metrics-server in its own namespace (Pod
// Security restricted, default deny). Defaults: chart MetricsServerChart,
// resources DefaultMetricsServerResources, kubelet certificates verified.
func NewMetricsServer(ctx *pulumi.Context, name string, args *MetricsServerArgs, opts ...pulumi.ResourceOption) (*MetricsServer, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("metrics-server %q: %w", name, err)
	}
	c := &MetricsServer{}
	if err := ctx.RegisterComponentResource(MetricsServerType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("metrics-server %q: %w", name, err) }
	ns, err := convention.NewIsolatedNamespace(ctx, name, MetricsServerNamespace, convention.Restricted, nil, metricsServerNetwork(), pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.Namespace = ns.Name
	values, err := helm.Values(args.values(name))
	if err != nil {
		return nil, wrap(err)
	}
	c.Release, err = helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: helm.Override(MetricsServerChart, args.Chart), Name: name, Namespace: c.Namespace, Values: values,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"namespace": c.Namespace})
}
