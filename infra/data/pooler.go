package data

import (
	"fmt"
	"strconv"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// PgBouncer in front of each cluster: the applications open as many
// connections as their pods like, and PgBouncer, in transaction mode,
// shares a few server connections among them, so PostgreSQL's connections
// are sized by its memory, not by the number of pods.

// Connection sizing. Each server connection is budgeted
// connectionMemory of the instance's memory limit beyond shared_buffers
// (a quarter of it): work_mem's default 4MB and the backend's own.
const (
	connectionMemory = 8 << 20
	minConnections   = 25
	maxConnections   = 500
	// reservedConnections are kept from the poolers: the superuser
	// reserve (3), the operator, the exporter and the backups.
	reservedConnections = 10
	// poolerClients is each pooler instance's max_client_conn: enough for
	// the phase 2 target of 1000 concurrent users on one instance.
	poolerClients = 1000
	// poolerPort and poolerMetricsPort are PgBouncer's and its exporter's.
	poolerPort, poolerMetricsPort = 5432, 9127
)

// poolerResources size each PgBouncer pod: a few kilobytes per client.
var poolerResources = convention.NewResources("50m", "32Mi", "500m", "128Mi")

// sidecarResources size the Barman Cloud plugin's sidecar in each
// instance's pod.
var sidecarResources = convention.NewResources("50m", "64Mi", "500m", "256Mi")

// QuotaUse is what a cluster takes of its namespace's ResourceQuota.
type QuotaUse struct {
	// Requests and Limits are the CPU and memory of its pods.
	Requests, Limits convention.Requests
	// Pods are the instances and the pooler's.
	Pods int
}

// QuotaUse sums the instances (PostgreSQL and the plugin's sidecar), the
// pooler, the canary's writer and, while it runs, the dump.
func (a *PostgresArgs) QuotaUse() QuotaUse {
	instance := convention.NewResources(a.Requests["cpu"], a.Requests["memory"], a.Limits["cpu"], a.Limits["memory"])
	limitsOf := func(n int, rs ...convention.Resources) convention.Requests {
		var out convention.Requests
		for _, r := range rs {
			out = out.Add(convention.RequestsOf(n, convention.Resources{Requests: r.Limits}))
		}
		return out
	}
	use := QuotaUse{
		Requests: convention.RequestsOf(a.Instances, instance, sidecarResources).Add(convention.RequestsOf(a.PoolerInstances, poolerResources)).
			Add(convention.RequestsOf(1, canaryResources)),
		Limits: limitsOf(a.Instances, instance, sidecarResources).Add(limitsOf(a.PoolerInstances, poolerResources)).
			Add(limitsOf(1, canaryResources)),
		Pods: a.Instances + a.PoolerInstances + 1,
	}
	if a.Dump != nil {
		use.Requests = use.Requests.Add(convention.RequestsOf(1, dumpResources))
		use.Limits = use.Limits.Add(limitsOf(1, dumpResources))
		use.Pods++
	}
	return use
}

// memoryLimit is the instances' memory limit in bytes, 0 if unset.
func (a *PostgresArgs) memoryLimit() int64 {
	q, err := resource.ParseQuantity(a.Limits["memory"])
	if err != nil {
		return 0
	}
	return q.Value()
}

// SharedBuffers is a quarter of the instance's memory limit, in MB.
func (a *PostgresArgs) sharedBuffers() int64 { return a.memoryLimit() / 4 >> 20 }

// MaxConnections is PostgreSQL's max_connections for the instance's
// memory limit: what the limit holds beyond shared_buffers, at
// connectionMemory each, between 25 and 500.
func (a *PostgresArgs) MaxConnections() int {
	n := (a.memoryLimit() - a.memoryLimit()/4) / connectionMemory
	return int(min(max(n, minConnections), maxConnections))
}

// poolSize is each pooler instance's default_pool_size: the connections
// left after the reserve, shared among the instances.
func (a *PostgresArgs) poolSize() int {
	return max((a.MaxConnections()-reservedConnections)/max(a.PoolerInstances, 1), 1)
}

// PoolerName is the pooler's name and its Service's: what the
// applications connect to.
func (a *PostgresArgs) PoolerName() string { return a.name() + "-pooler-rw" }

// ServiceHost is what applications connect to: the pooler, or without
// one the cluster's read-write Service.
func (a *PostgresArgs) ServiceHost() string {
	if a.PoolerInstances > 0 {
		return a.PoolerName()
	}
	return a.name() + "-rw"
}

type poolerSpec struct {
	Cluster   localRef        `json:"cluster"`
	Type      string          `json:"type"`
	Instances int             `json:"instances"`
	PgBouncer pgBouncerSpec   `json:"pgbouncer"`
	Template  poolerTemplate  `json:"template"`
	Strategy  *deployStrategy `json:"deploymentStrategy,omitempty"`
}

type pgBouncerSpec struct {
	PoolMode   string            `json:"poolMode"`
	Parameters map[string]string `json:"parameters"`
}

type poolerTemplate struct {
	Metadata poolerMetadata `json:"metadata"`
	Spec     poolerPodSpec  `json:"spec"`
}

type poolerMetadata struct {
	Labels map[string]string `json:"labels"`
}

type poolerPodSpec struct {
	Containers                []poolerContainer           `json:"containers"`
	TopologySpreadConstraints []convention.TopologySpread `json:"topologySpreadConstraints,omitempty"`
}

type poolerContainer struct {
	Name      string               `json:"name"`
	Resources convention.Resources `json:"resources"`
}

type deployStrategy struct {
	Type          string         `json:"type"`
	RollingUpdate *rollingUpdate `json:"rollingUpdate,omitempty"`
}

type rollingUpdate struct {
	MaxUnavailable int `json:"maxUnavailable"`
	MaxSurge       int `json:"maxSurge"`
}

// poolerLabel is the label CloudNativePG puts on a pooler's pods.
const poolerLabel = "cnpg.io/poolerName"

// poolerSpec is the read-write pooler: transaction mode, its instances
// spread over the zones (when ZoneSpread) and replaced one at a time.
func (a *PostgresArgs) poolerSpec() poolerSpec {
	pods := map[string]string{poolerLabel: a.PoolerName()}
	s := poolerSpec{
		Cluster: localRef{a.name()}, Type: "rw", Instances: a.PoolerInstances,
		PgBouncer: pgBouncerSpec{PoolMode: "transaction", Parameters: map[string]string{
			"max_client_conn":   strconv.Itoa(poolerClients),
			"default_pool_size": strconv.Itoa(a.poolSize()),
		}},
		Template: poolerTemplate{
			Metadata: poolerMetadata{Labels: pods},
			Spec:     poolerPodSpec{Containers: []poolerContainer{{Name: "pgbouncer", Resources: poolerResources}}},
		},
	}
	if a.ZoneSpread {
		s.Template.Spec.TopologySpreadConstraints = []convention.TopologySpread{convention.ZoneSpread(pods, "ScheduleAnyway")}
	}
	if a.PoolerInstances > 1 {
		s.Strategy = &deployStrategy{Type: "RollingUpdate", RollingUpdate: &rollingUpdate{MaxUnavailable: 1, MaxSurge: 0}}
	}
	return s
}

// postgresParameters are the instances' settings sized by their memory.
func (a *PostgresArgs) postgresParameters() map[string]string {
	params := map[string]string{
		"max_connections": strconv.Itoa(a.MaxConnections()),
		"shared_buffers":  fmt.Sprintf("%dMB", max(a.sharedBuffers(), 32)),
	}
	if a.ArchiveTimeout > 0 {
		params["archive_timeout"] = fmt.Sprintf("%ds", int(a.ArchiveTimeout.Seconds()))
	}
	return params
}

// newPooler creates the pooler, its PodMonitor and its network policy:
// the namespace's pods and the monitoring namespace in, the instances and
// the API server (its instance manager) out.
func (a *PostgresArgs) newPooler(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) error {
	p := a.PoolerName()
	if _, err := custom(ctx, name+"-pooler", "postgresql.cnpg.io/v1", "Pooler", p, a.Namespace,
		a.poolerSpec(), append(opts, pulumi.DependsOn(a.OperatorReady))...); err != nil {
		return fmt.Errorf("pooler: %w", err)
	}
	pods := map[string]any{poolerLabel: p}
	if _, err := custom(ctx, name+"-pooler-pod-monitor", "monitoring.coreos.com/v1", "PodMonitor", p, a.Namespace, map[string]any{
		"selector":            map[string]any{"matchLabels": pods},
		"podMetricsEndpoints": []any{map[string]any{"port": "metrics"}},
	}, append(opts, pulumi.DependsOn(a.MonitoringReady))...); err != nil {
		return fmt.Errorf("pooler pod monitor: %w", err)
	}
	tcp := func(ports ...int) networkingv1.NetworkPolicyPortArray {
		var out networkingv1.NetworkPolicyPortArray
		for _, port := range ports {
			out = append(out, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)})
		}
		return out
	}
	selector := func(labels map[string]string) *metav1.LabelSelectorArgs {
		return &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(labels)}
	}
	_, err := networkingv1.NewNetworkPolicy(ctx, name+"-pooler-network-policy", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(p), Namespace: a.Namespace},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: selector(map[string]string{poolerLabel: p}),
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{
					networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{}}}, Ports: tcp(poolerPort)},
				networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
					NamespaceSelector: selector(map[string]string{"kubernetes.io/metadata.name": a.MonitoringNamespace})}}, Ports: tcp(poolerMetricsPort)},
			},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				networkingv1.NetworkPolicyEgressRuleArgs{To: networkingv1.NetworkPolicyPeerArray{
					networkingv1.NetworkPolicyPeerArgs{PodSelector: selector(map[string]string{ClusterLabel: a.name()})}}, Ports: tcp(5432)},
				// The instance manager watches its Secrets through the API server.
				networkingv1.NetworkPolicyEgressRuleArgs{Ports: tcp(443, 6443)},
			},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("pooler network policy: %w", err)
	}
	return nil
}
