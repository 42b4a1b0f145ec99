package platform

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/helm"
)

// IngressType is the type token of the Ingress component.
const IngressType = "camps:platform:Ingress"

// IngressChart is the F5 NGINX Ingress Controller chart. 2.6.4 (app 5.5.4)
// is the newest published release; 2.7.0 exists only as an unreleased
// version bump on the project's main branch.
var IngressChart = helm.Chart{Name: "nginx-ingress", Version: "2.6.4", Repository: "oci://ghcr.io/nginx/charts"}

// DefaultIngressResources size the controller for the phase 1 traffic
// (100+ concurrent users): the chart's request, with limits.
var DefaultIngressResources = convention.NewResources("100m", "128Mi", "1", "512Mi")

// Ingress is the F5 NGINX Ingress Controller behind the Octavia load balancer.
type Ingress struct {
	pulumi.ResourceState

	// Namespace is the controller's namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// Release is the Helm release; other resources may depend on it.
	Release *helm.Release `pulumi:"-"`
}

// IngressArgs configure the ingress controller.
type IngressArgs struct {
	// Chart overrides the chart's source; default IngressChart.
	Chart *helm.Chart
	// Replicas of the controller; at least 1. With 2 or more the pods
	// spread over nodes and zones and a PodDisruptionBudget lets only one
	// be evicted at a time.
	Replicas int
	// MaxReplicas, when above Replicas, lets a HorizontalPodAutoscaler
	// scale the controller between Replicas and MaxReplicas on its CPU
	// (TargetCPU of its request). It needs the resource metrics API
	// (metrics-server). Default: Replicas, no autoscaler.
	MaxReplicas int
	// CloudflareRanges are Cloudflare's published address ranges; required.
	CloudflareRanges []string
	// OriginLock makes the load balancer admit only CloudflareRanges (their
	// IPv4 part: the load balancer's address is IPv4). Then,
	// and only then, the client address is taken from CF-Connecting-IP;
	// without it the client is the PROXY protocol address.
	OriginLock bool
	// LoadBalancerNetworks are the networks the load balancer connects to
	// the controller from; the controller believes the client address only
	// on connections from them. Default: the private ranges of RFC 1918.
	LoadBalancerNetworks []string
	// LoadBalancerIP is the reserved floating IP the load balancer keeps.
	// Optional until the edge reserves one.
	LoadBalancerIP pulumi.StringInput
	// Resources of the controller container; default DefaultIngressResources.
	Resources *convention.Resources
	// MonitoringReady are what the ServiceMonitor waits for (the monitoring CRDs).
	MonitoringReady []pulumi.Resource
}

func (a *IngressArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Replicas < 1:
		return errors.New("at least one replica is required")
	case a.MaxReplicas != 0 && a.MaxReplicas < a.Replicas:
		return fmt.Errorf("max replicas %d is below the replicas %d", a.MaxReplicas, a.Replicas)
	case len(a.CloudflareRanges) == 0:
		return errors.New("the Cloudflare ranges are required")
	case a.OriginLock && len(ipv4(a.CloudflareRanges)) == 0:
		// An empty source list admits everyone: the lock would fail open.
		return errors.New("the origin lock needs at least one IPv4 Cloudflare range")
	}
	for _, cidr := range append(append([]string{}, a.CloudflareRanges...), a.LoadBalancerNetworks...) {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			return fmt.Errorf("range %q: %w", cidr, err)
		}
	}
	return nil
}

// privateNetworks are the RFC 1918 ranges, where Octavia's amphorae live.
var privateNetworks = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}

func (a *IngressArgs) loadBalancerNetworks() []string {
	if len(a.LoadBalancerNetworks) > 0 {
		return a.LoadBalancerNetworks
	}
	return privateNetworks
}

// ipv4 keeps the IPv4 ranges: the load balancer's address is an IPv4
// floating IP, Cloudflare reaches an IPv4 origin over IPv4, and Octavia
// refuses allowed CIDRs of the other IP version.
func ipv4(ranges []string) []string {
	var out []string
	for _, r := range ranges {
		if p, err := netip.ParsePrefix(r); err == nil && p.Addr().Is4() {
			out = append(out, r)
		}
	}
	return out
}

func (a *IngressArgs) resources() convention.Resources {
	if a.Resources != nil {
		return *a.Resources
	}
	return DefaultIngressResources
}

// Requests are the CPU and memory the controller asks for at its
// minimum replicas.
func (a *IngressArgs) Requests() convention.Requests {
	return convention.RequestsOf(a.Replicas, a.resources())
}

// MostRequests are what it asks for at its maximum replicas.
func (a *IngressArgs) MostRequests() convention.Requests {
	return convention.RequestsOf(a.maxReplicas(), a.resources())
}

func (a *IngressArgs) maxReplicas() int { return max(a.MaxReplicas, a.Replicas) }

// autoscaled tells whether an autoscaler runs the controller.
func (a *IngressArgs) autoscaled() bool { return a.maxReplicas() > a.Replicas }

// TargetCPU is the controller's average CPU, in percent of its request,
// that the autoscaler keeps: below it, the pods have room for a burst
// while new ones start.
const TargetCPU = 60

// OCCM annotations of the controller's Service (OpenStack cloud controller).
const (
	annotationProxyProtocol  = "loadbalancer.openstack.org/proxy-protocol"
	annotationHealthMonitor  = "loadbalancer.openstack.org/enable-health-monitor"
	annotationKeepFloatingIP = "loadbalancer.openstack.org/keep-floatingip"
)

type ingressValues struct {
	Controller ingressController `json:"controller"`
	Prometheus ingressPrometheus `json:"prometheus"`
}

type ingressController struct {
	Kind                 string               `json:"kind"`
	ReplicaCount         int                  `json:"replicaCount"`
	IngressClass         ingressClass         `json:"ingressClass"`
	Service              ingressService       `json:"service"`
	Config               ingressConfig        `json:"config"`
	Resources            convention.Resources `json:"resources"`
	PodDisruptionBudget  podDisruptionBudget  `json:"podDisruptionBudget"`
	Autoscaling          ingressAutoscaling   `json:"autoscaling"`
	Affinity             map[string]any       `json:"affinity,omitempty"`
	EnableSnippets       bool                 `json:"enableSnippets"`
	EnableLatencyMetrics bool                 `json:"enableLatencyMetrics"`
}

type ingressClass struct {
	Name                string `json:"name"`
	Create              bool   `json:"create"`
	SetAsDefaultIngress bool   `json:"setAsDefaultIngress"`
}

type ingressService struct {
	Create                   bool              `json:"create"`
	Type                     string            `json:"type"`
	ExternalTrafficPolicy    string            `json:"externalTrafficPolicy"`
	Annotations              map[string]string `json:"annotations"`
	LoadBalancerIP           string            `json:"loadBalancerIP,omitempty"`
	LoadBalancerSourceRanges []string          `json:"loadBalancerSourceRanges,omitempty"`
}

type ingressConfig struct {
	Entries map[string]string `json:"entries"`
}

type podDisruptionBudget struct {
	Enabled        bool `json:"enabled"`
	MaxUnavailable int  `json:"maxUnavailable,omitempty"`
}

// ingressAutoscaling is the chart's HorizontalPodAutoscaler. A zero
// memory target leaves the memory metric out: NGINX's memory does not
// fall with its load.
type ingressAutoscaling struct {
	Enabled                           bool `json:"enabled"`
	Create                            bool `json:"create"`
	MinReplicas                       int  `json:"minReplicas,omitempty"`
	MaxReplicas                       int  `json:"maxReplicas,omitempty"`
	TargetCPUUtilizationPercentage    int  `json:"targetCPUUtilizationPercentage"`
	TargetMemoryUtilizationPercentage int  `json:"targetMemoryUtilizationPercentage"`
}

type ingressPrometheus struct {
	Create         bool          `json:"create"`
	Port           int           `json:"port"`
	Service        enabledCreate `json:"service"`
	ServiceMonitor enabledCreate `json:"serviceMonitor"`
}

type enabledCreate struct {
	Create bool `json:"create"`
}

// values renders the chart's values.
//
// Octavia speaks PROXY protocol to the controller, so the controller
// listens with it. NGINX's realip module believes one source, checked
// against the address of the connection, which is always the load
// balancer: it cannot check Cloudflare's address inside the PROXY header
// and then a header in turn. So trust is split: with the origin lock the
// load balancer admits only Cloudflare's ranges, and the controller takes
// CF-Connecting-IP from connections through the load balancer; without it
// the client is the PROXY protocol address, which nobody can forge.
func (a *IngressArgs) values(release, loadBalancerIP string) ingressValues {
	realIPHeader, sourceRanges := "proxy_protocol", []string(nil)
	if a.OriginLock {
		realIPHeader, sourceRanges = "CF-Connecting-IP", ipv4(a.CloudflareRanges)
	}
	v := ingressValues{
		Controller: ingressController{
			Kind:         "deployment",
			ReplicaCount: a.Replicas,
			IngressClass: ingressClass{Name: convention.IngressClass, Create: true, SetAsDefaultIngress: true},
			Service: ingressService{
				Create: true,
				Type:   "LoadBalancer",
				// Local keeps the client address and sends traffic only to
				// nodes with a controller; the health monitor tells Octavia which.
				ExternalTrafficPolicy: "Local",
				Annotations: map[string]string{
					annotationProxyProtocol: "true",
					annotationHealthMonitor: "true",
				},
				LoadBalancerIP:           loadBalancerIP,
				LoadBalancerSourceRanges: sourceRanges,
			},
			Config: ingressConfig{Entries: map[string]string{
				"proxy-protocol":   "True",
				"real-ip-header":   realIPHeader,
				"set-real-ip-from": strings.Join(a.loadBalancerNetworks(), ","),
			}},
			Resources:            a.resources(),
			EnableSnippets:       false,
			EnableLatencyMetrics: true,
		},
		Prometheus: ingressPrometheus{Create: true, Port: 9113, Service: enabledCreate{Create: true}},
	}
	if loadBalancerIP != "" {
		// Keep the reserved address when the load balancer is deleted.
		v.Controller.Service.Annotations[annotationKeepFloatingIP] = "true"
	}
	if a.Replicas > 1 {
		// Voluntary disruptions (node drains, upgrades) take one pod at a
		// time, however many the autoscaler runs.
		v.Controller.PodDisruptionBudget = podDisruptionBudget{Enabled: true, MaxUnavailable: 1}
		v.Controller.Affinity = preferSpread(release)
	}
	if a.autoscaled() {
		// The chart then leaves the Deployment's replicas to the autoscaler.
		v.Controller.Autoscaling = ingressAutoscaling{
			Enabled: true, Create: true, MinReplicas: a.Replicas, MaxReplicas: a.maxReplicas(),
			TargetCPUUtilizationPercentage: TargetCPU,
		}
	}
	return v
}

// NewIngress installs the F5 NGINX Ingress Controller as the default
// IngressClass nginx, behind a LoadBalancer Service with PROXY protocol,
// health monitor and (when given) the reserved floating IP, plus a
// ServiceMonitor for its metrics. Defaults: chart IngressChart, resources
// DefaultIngressResources, all source addresses admitted.
func NewIngress(ctx *pulumi.Context, name string, args *IngressArgs, opts ...pulumi.ResourceOption) (*Ingress, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("ingress %q: %w", name, err)
	}
	c := &Ingress{}
	if err := ctx.RegisterComponentResource(IngressType, name, c, opts...); err != nil {
		return nil, err
	}
	ns, err := convention.NewIsolatedNamespace(ctx, name, convention.IngressNamespace, convention.Restricted, nil, ingressNetwork(), pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("ingress %q: %w", name, err)
	}
	c.Namespace = ns.Name

	lbIP := args.LoadBalancerIP
	if lbIP == nil {
		lbIP = pulumi.String("")
	}
	values := lbIP.ToStringOutput().ApplyT(func(ip string) (map[string]any, error) {
		return helm.ToValues(args.values(name, ip))
	}).(pulumi.MapOutput)
	chart := helm.Override(IngressChart, args.Chart)
	c.Release, err = helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: chart, Name: name, Namespace: c.Namespace, Values: values,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("ingress %q: %w", name, err)
	}
	if err := serviceMonitor(ctx, name, c.Namespace,
		map[string]any{"service": "nginx-ingress-prometheus-service"},
		map[string]any{"port": "prometheus", "interval": "30s"},
		args.MonitoringReady, pulumi.Parent(c)); err != nil {
		return nil, fmt.Errorf("ingress %q: %w", name, err)
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"namespace": c.Namespace})
}
