// Package platform installs the in-cluster platform, one component per Helm
// release: the NGINX ingress controller, cert-manager with Let's Encrypt
// issuers, Longhorn and kube-prometheus-stack. Each release gets its own
// namespace with its Pod Security level, a pinned chart, typed values and
// explicit resources for every container the chart lets us size.
package platform

import (
	"fmt"
	"math/big"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/netpol"
	"gitlab.com/camps-ch/infra/internal/quantity"
)

// Pod Security Standards levels.
const (
	Restricted = "restricted"
	Baseline   = "baseline"
	Privileged = "privileged"
)

// Resources are a container's requests and limits, as Helm values.
type Resources struct {
	Requests ResourceList `json:"requests"`
	Limits   ResourceList `json:"limits"`
}

// ResourceList is a CPU and memory quantity pair.
type ResourceList struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// NewResources builds Resources from request and limit quantities.
func NewResources(reqCPU, reqMem, limCPU, limMem string) Resources {
	return Resources{Requests: ResourceList{reqCPU, reqMem}, Limits: ResourceList{limCPU, limMem}}
}

// Requests are the CPU (millicores) and memory (bytes) a workload asks for.
type Requests struct {
	MilliCPU int64 `json:"milliCpu"`
	Memory   int64 `json:"memoryBytes"`
}

// Add returns the sum of two Requests.
func (r Requests) Add(o Requests) Requests {
	return Requests{r.MilliCPU + o.MilliCPU, r.Memory + o.Memory}
}

// Times returns n times r.
func (r Requests) Times(n int) Requests {
	return Requests{r.MilliCPU * int64(n), r.Memory * int64(n)}
}

// String formats Requests as "1185m CPU, 2226Mi memory".
func (r Requests) String() string {
	return fmt.Sprintf("%dm CPU, %dMi memory", r.MilliCPU, r.Memory>>20)
}

// RequestsOf sums the requests of containers, each running `replicas` times.
// Quantities are validated by the caller; an unparsable one counts as zero.
func RequestsOf(replicas int, containers ...Resources) Requests {
	var total Requests
	for _, c := range containers {
		total = total.Add(Requests{milli(c.Requests.CPU), bytes(c.Requests.Memory)}.Times(replicas))
	}
	return total
}

func milli(q string) int64 {
	v, err := quantity.Parse(q)
	if err != nil {
		return 0
	}
	v.Mul(v, big.NewRat(1000, 1))
	n, _ := new(big.Float).SetRat(v).Int64()
	return n
}

func bytes(q string) int64 {
	v, err := quantity.Parse(q)
	if err != nil {
		return 0
	}
	n, _ := new(big.Float).SetRat(v).Int64()
	return n
}

// Namespace is a platform namespace and its network policies.
type Namespace struct {
	*corev1.Namespace
	// Name is the namespace's name, once created.
	Name pulumi.StringOutput
	// Policies are the allowances: a release waits for them, so the
	// namespace's deny never blocks its pods.
	Policies []pulumi.Resource
}

// NewNamespace creates a platform namespace with its Pod Security level
// enforced, audited and warned, a default deny of all traffic and the
// allowances. It is protected: deleting a namespace deletes everything in
// it (volumes, certificates, the ACME account).
func NewNamespace(ctx *pulumi.Context, name, ns, level string, allows []netpol.Allow, opts ...pulumi.ResourceOption) (*Namespace, error) {
	n, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(ns),
			Labels: pulumi.StringMap{
				"app.kubernetes.io/managed-by":       pulumi.String("pulumi"),
				"pod-security.kubernetes.io/enforce": pulumi.String(level),
				"pod-security.kubernetes.io/audit":   pulumi.String(level),
				"pod-security.kubernetes.io/warn":    pulumi.String(level),
			},
		},
	}, append(opts, pulumi.Protect(true))...)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", ns, err)
	}
	out := &Namespace{Namespace: n, Name: n.Metadata.Name().Elem()}
	if out.Policies, err = netpol.New(ctx, name, out.Name, allows, opts...); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", ns, err)
	}
	return out, nil
}

// preferSpread is a soft pod anti-affinity that spreads a workload's pods
// over nodes, then zones.
func preferSpread(instance string) map[string]any {
	term := func(weight int, key string) map[string]any {
		return map[string]any{
			"weight": weight,
			"podAffinityTerm": map[string]any{
				"topologyKey":   key,
				"labelSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/instance": instance}},
			},
		}
	}
	return map[string]any{"podAntiAffinity": map[string]any{
		"preferredDuringSchedulingIgnoredDuringExecution": []any{
			term(100, "kubernetes.io/hostname"),
			term(50, "topology.kubernetes.io/zone"),
		},
	}}
}
