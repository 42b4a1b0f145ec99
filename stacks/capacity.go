package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// nodeAllocatableShare is the share of a node's CPU and memory, in
// percent, that pods can request: the kubelet and the system reserve the
// rest. Infomaniak does not publish its reservations; 90 % is an estimate
// (a 4 vCPU, 8 GB node typically offers about 3.9 CPUs and 7 GiB).
const nodeAllocatableShare = 90

// nodesAtMost returns the cluster's largest set of nodes: each pool at its
// maximum, or the reference node for a cluster made elsewhere.
func (c *Config) nodesAtMost() []Node {
	if c.Cluster.Mode != ModeCreate {
		return []Node{referenceNode}
	}
	var out []Node
	for _, p := range c.Cluster.Pools {
		n, ok := parseFlavor(p.Flavor)
		if !ok || p.MaxInstances == nil {
			continue
		}
		for range *p.MaxInstances {
			out = append(out, n)
		}
	}
	return out
}

// quotaRequests sums the namespaces' quota requests: the most their pods,
// their databases and their autoscalers at maximum replicas can ask for.
func (c *Config) quotaRequests() convention.Requests {
	var total convention.Requests
	for _, ns := range c.Namespaces {
		cpu, _ := parseQuantity(ns.Quota.RequestsCPU)
		mem, _ := parseQuantity(ns.Quota.RequestsMemory)
		total = total.Add(convention.Requests{MilliCPU: cpu.MilliValue(), Memory: mem.Value()})
	}
	return total
}

// MostReplicas is the cluster at its largest: every pool at its maximum
// nodes, every autoscaler at its maximum replicas.
type MostReplicas struct {
	// Nodes is how many nodes the pools reach at most.
	Nodes int `json:"nodes"`
	// Allocatable is what pods can request of them (nodeAllocatableShare).
	Allocatable convention.Requests `json:"allocatable"`
	// Platform is the platform's requests with the ingress controller at
	// its maximum replicas.
	Platform convention.Requests `json:"platform"`
	// Namespaces are the namespaces' quota requests: their applications'
	// autoscalers at maximum replicas, and their databases, fit them.
	Namespaces convention.Requests `json:"namespaces"`
	// Total is Platform and Namespaces.
	Total convention.Requests `json:"total"`
	// Rooms are what each namespace's quota leaves its applications (and
	// their autoscalers) beyond its database.
	Rooms []QuotaRoom `json:"rooms"`
}

// QuotaRoom is what a namespace's quota leaves its applications.
type QuotaRoom struct {
	Namespace        string              `json:"namespace"`
	Requests, Limits convention.Requests `json:"-"`
	Pods             int                 `json:"pods"`
}

// Fits tells whether the pools' maximum holds every autoscaler's maximum.
func (m MostReplicas) Fits() bool {
	return m.Total.MilliCPU <= m.Allocatable.MilliCPU && m.Total.Memory <= m.Allocatable.Memory
}

// String renders it for people.
func (m MostReplicas) String() string {
	s := fmt.Sprintf("at most, on %d node(s): the platform at its autoscalers' maximum (%s) and the namespaces' quotas (%s) request %s of %s allocatable",
		m.Nodes, m.Platform, m.Namespaces, m.Total, m.Allocatable)
	for _, r := range m.Rooms {
		s += fmt.Sprintf("\n  %s's quota leaves its applications %s requested, %s of limits, %d pods", r.Namespace, r.Requests, r.Limits, r.Pods)
	}
	return s
}

// MostReplicas computes the cluster at its largest.
func (c *Config) MostReplicas() MostReplicas {
	m := MostReplicas{Nodes: len(c.nodesAtMost()), Namespaces: c.quotaRequests()}
	for _, n := range c.nodesAtMost() {
		m.Allocatable = m.Allocatable.Add(convention.Requests{
			MilliCPU: n.MilliCPU * nodeAllocatableShare / 100, Memory: n.Memory * nodeAllocatableShare / 100,
		})
	}
	if *c.Platform.Install {
		for _, r := range c.platformRequests(true) {
			m.Platform = m.Platform.Add(r)
		}
	}
	m.Total = m.Platform.Add(m.Namespaces)
	for _, ns := range c.Namespaces {
		q := ns.Quota
		quantity := func(s string) int64 { v, _ := parseQuantity(s); return v.Value() }
		milli := func(s string) int64 { v, _ := parseQuantity(s); return v.MilliValue() }
		r := QuotaRoom{Namespace: ns.Name, Pods: *q.Pods,
			Requests: convention.Requests{MilliCPU: milli(q.RequestsCPU), Memory: quantity(q.RequestsMemory)},
			Limits:   convention.Requests{MilliCPU: milli(q.LimitsCPU), Memory: quantity(q.LimitsMemory)},
		}
		if c.postgres() {
			use := c.postgresArgs(ns, pulumi.String(ns.Name), nil).QuotaUse()
			r.Requests = convention.Requests{MilliCPU: r.Requests.MilliCPU - use.Requests.MilliCPU, Memory: r.Requests.Memory - use.Requests.Memory}
			r.Limits = convention.Requests{MilliCPU: r.Limits.MilliCPU - use.Limits.MilliCPU, Memory: r.Limits.Memory - use.Limits.Memory}
			r.Pods -= use.Pods
		}
		m.Rooms = append(m.Rooms, r)
	}
	return m
}

// validateMostReplicas refuses autoscalers the pools can never satisfy:
// the node autoscaler adds nodes only up to each pool's maximum, so the
// platform at its maximum replicas and the namespaces at their quotas
// must fit them.
func (c *Config) validateMostReplicas(ps *Problems) {
	if c.Cluster.Mode != ModeCreate {
		return
	}
	m := c.MostReplicas()
	if m.Fits() {
		return
	}
	ps.add("cluster.pools", "at their maximum (%d node(s)) hold %s for pods, but the platform at its autoscalers' maximum (platform.ingress.maxReplicas %d) "+
		"and the namespaces' quotas (their autoscalers at maximum replicas) request %s: raise the pools' maxInstances or lower the maxima or quotas",
		m.Nodes, m.Allocatable, *c.Platform.Ingress.MaxReplicas, m.Total)
}

// validateQuotas refuses a namespace whose quota cannot hold its
// PostgreSQL cluster: instances, the backup plugin's sidecars and the
// pooler, their claims and their volumes count against it.
func (c *Config) validateQuotas(ps *Problems) {
	if !c.postgres() {
		return
	}
	pg := c.Data.Postgres
	for i, ns := range c.Namespaces {
		at := func(field string) string { return fmt.Sprintf("namespaces[%d].quota.%s", i, field) }
		q := ns.Quota
		use := c.postgresArgs(ns, pulumi.String(ns.Name), nil).QuotaUse()
		for _, f := range []struct {
			field, quota string
			need         int64
			milli        bool
		}{
			{"requestsCpu", q.RequestsCPU, use.Requests.MilliCPU, true},
			{"requestsMemory", q.RequestsMemory, use.Requests.Memory, false},
			{"limitsCpu", q.LimitsCPU, use.Limits.MilliCPU, true},
			{"limitsMemory", q.LimitsMemory, use.Limits.Memory, false},
		} {
			have, _ := parseQuantity(f.quota)
			if v := have.Value(); f.milli && have.MilliValue() < f.need || !f.milli && v < f.need {
				need := fmt.Sprintf("%dMi", f.need>>20)
				if f.milli {
					need = fmt.Sprintf("%dm", f.need)
				}
				dump := ""
				if pg.DumpSchedule != scheduleOff {
					dump = ", the dump"
				}
				ps.add(at(f.field), "%s is below the PostgreSQL cluster's %s (%d instances with their backup sidecars, %d poolers, the canary%s)",
					f.quota, need, *pg.Instances, *pg.PoolerInstances, dump)
			}
		}
		if use.Pods > *q.Pods {
			ps.add(at("pods"), "%d is below the PostgreSQL cluster's %d pods", *q.Pods, use.Pods)
		}
		storage, _ := parseQuantity(q.RequestsStorage)
		if need := c.postgresBytes(); need > storage.Value() {
			ps.add(at("requestsStorage"), "%s is below the PostgreSQL cluster's %d × %s, whose claims count against it",
				q.RequestsStorage, *pg.Instances, pg.StorageSize)
		}
		if *pg.Instances > *q.PersistentVolumeClaims {
			ps.add(at("persistentVolumeClaims"), "%d is below the PostgreSQL cluster's %d claims", *q.PersistentVolumeClaims, *pg.Instances)
		}
	}
}
