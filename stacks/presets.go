package stacks

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"gitlab.com/camps-ch/infra/infra/edge"
)

// preset holds what a phase fills in where the configuration is silent.
type preset struct {
	region            string
	pack              string
	kubernetesVersion string
	pools             []Pool
}

// tenancyPreset is what an application namespace gets where the
// configuration is silent.
type tenancyPreset struct {
	quota  Quota
	limits Limits
}

// presetFlavor is the node flavor of both phases: 4 vCPU, 8 GB, a 50 GB
// disk. The name follows Infomaniak's scheme (a<vCPU>-ram<GB>-disk<GB>-perf<n>)
// but is assumed, not confirmed: the API's own example is
// a4-ram8-disk20-perf1 and a field report shows a8-ram16-disk20-perf1
// (shared/INFOMANIAK-KAAS.md). The provider checks every pool's flavor
// against the project's live catalogue in Check, so a preview names the
// offered flavors if it is not one of them; set cluster.pools[].flavor then.
const presetFlavor = "a4-ram8-disk50-perf1"

// defaultRegistry is the registry of the team's GitLab.
const defaultRegistry = "registry.gitlab.com"

// presets are the architecture's phases: phase 1 is one shared node of
// 4 vCPU and 8 GB; phase 2 is three zones with autoscaling pools and room
// for 1000+ users.
var presets = map[int]preset{
	1: {
		region:            "dc4-a",
		pack:              "shared",
		kubernetesVersion: "1.35",
		pools: []Pool{
			{Zone: "az-1", Flavor: presetFlavor, MinInstances: ptr(1), MaxInstances: ptr(1)},
		},
	},
	2: {
		region:            "dc4-a",
		pack:              "shared",
		kubernetesVersion: "1.35",
		pools: []Pool{
			{Zone: "az-1", Flavor: presetFlavor, MinInstances: ptr(1), MaxInstances: ptr(3)},
			{Zone: "az-2", Flavor: presetFlavor, MinInstances: ptr(1), MaxInstances: ptr(3)},
			{Zone: "az-3", Flavor: presetFlavor, MinInstances: ptr(1), MaxInstances: ptr(3)},
		},
	},
}

// tenancyPresets size the namespaces by the cluster they run on, like the
// platform: a single node (phase 1, and uat in every phase) or several
// (prod's HA cluster in phase 2).
var tenancyPresets = map[bool]tenancyPreset{
	false: {
		quota: Quota{
			// The database (its instance, sidecar and pooler) takes 200m
			// and 352Mi of requests, 1.5 CPUs and 896Mi of limits.
			RequestsCPU: "1", RequestsMemory: "2Gi", LimitsCPU: "3", LimitsMemory: "4Gi",
			// The applications' share, beyond the PostgreSQL cluster's
			// claims: with the platform's volumes and an attached stack's
			// namespace, it fits the one node's disk.
			RequestsStorage: "8Gi", Pods: ptr(30), PersistentVolumeClaims: ptr(10),
		},
		limits: Limits{
			DefaultCPU: "500m", DefaultMemory: "512Mi", DefaultRequestCPU: "100m", DefaultRequestMemory: "128Mi",
			MaxCPU: "2", MaxMemory: "4Gi",
		},
	},
	true: {
		quota: Quota{
			// The database (3 instances, their sidecars, 3 poolers) takes
			// about 1 CPU and 2Gi of requests and 6 CPUs and 4Gi of
			// limits; the rest is the applications' autoscalers' room.
			RequestsCPU: "6", RequestsMemory: "12Gi", LimitsCPU: "16", LimitsMemory: "24Gi",
			// The applications' share, beyond the PostgreSQL cluster's
			// claims (3 Longhorn replicas): what is left of three 50 GB
			// disks (the plan's storage budget).
			RequestsStorage: "5Gi", Pods: ptr(100), PersistentVolumeClaims: ptr(20),
		},
		limits: Limits{
			DefaultCPU: "1", DefaultMemory: "1Gi", DefaultRequestCPU: "250m", DefaultRequestMemory: "256Mi",
			MaxCPU: "4", MaxMemory: "8Gi",
		},
	},
}

// applyPresets fills every setting the configuration left empty from the
// phase's preset. Explicit values always win. It assumes a known phase.
func (c *Config) applyPresets() {
	p := presets[c.Phase]
	cl := &c.Cluster
	if cl.Mode == "" {
		switch {
		case c.Kubeconfig.IsSet():
			cl.Mode = ModeAttach
		case cl.AttachStack != "" && c.Phase == 1:
			cl.Mode = ModeAttach
		default:
			cl.Mode = ModeCreate
		}
	}
	if cl.Name == "" && cl.Mode == ModeCreate {
		cl.Name = "camps-" + c.Stack
	}
	fill(&cl.Region, p.region)
	fill(&cl.Pack, p.pack)
	fill(&cl.KubernetesVersion, p.kubernetesVersion)
	if cl.Pools == nil {
		cl.Pools = append([]Pool(nil), p.pools...)
	}
	base := p.pools[0]
	for i := range cl.Pools {
		pool := &cl.Pools[i]
		if pool.Name == "" && pool.Zone != "" {
			pool.Name = fmt.Sprintf("pool-%s", pool.Zone)
		}
		fill(&pool.Flavor, base.Flavor)
		if pool.MinInstances == nil {
			pool.MinInstances = ptr(*base.MinInstances)
		}
		if pool.MaxInstances == nil {
			pool.MaxInstances = ptr(max(*base.MaxInstances, *pool.MinInstances))
		}
	}

	if c.Platform.Install == nil {
		install := cl.Mode == ModeCreate || cl.AttachStack == ""
		c.Platform.Install = &install
	}

	for i := range c.Namespaces {
		ns := &c.Namespaces[i]
		if ns.DeployerGroup == "" && ns.Name != "" {
			ns.DeployerGroup = c.oidcGroupPrefix() + ns.Name + "-deployers"
		}
		if ns.DeployerTokenGeneration == nil {
			ns.DeployerTokenGeneration = ptr(1)
		}
		q, dq := &ns.Quota, tenancyPresets[c.multiNode()].quota
		fill(&q.RequestsCPU, dq.RequestsCPU)
		fill(&q.RequestsMemory, dq.RequestsMemory)
		fill(&q.LimitsCPU, dq.LimitsCPU)
		fill(&q.LimitsMemory, dq.LimitsMemory)
		if q.Pods == nil {
			q.Pods = ptr(*dq.Pods)
		}
		if q.PersistentVolumeClaims == nil {
			q.PersistentVolumeClaims = ptr(*dq.PersistentVolumeClaims)
		}
		l, dl := &ns.Limits, tenancyPresets[c.multiNode()].limits
		fill(&l.DefaultCPU, dl.DefaultCPU)
		fill(&l.DefaultMemory, dl.DefaultMemory)
		fill(&l.DefaultRequestCPU, dl.DefaultRequestCPU)
		fill(&l.DefaultRequestMemory, dl.DefaultRequestMemory)
		fill(&l.MaxCPU, dl.MaxCPU)
		fill(&l.MaxMemory, dl.MaxMemory)
	}
	fill(&c.Registry.Server, defaultRegistry)
	c.applyPlatformPresets()
	if c.Edge.ReserveIP == nil {
		// An address for each cluster the stack creates; a cluster made
		// elsewhere (a local kind cluster) has no Infomaniak load balancer.
		c.Edge.ReserveIP = ptr(*c.Platform.Install && c.Cluster.Mode == ModeCreate)
	}
	fill(&c.Edge.FloatingIPPool, edge.DefaultPool)
	fill(&c.OpenStack.AuthURL, defaultAuthURL)
	fill(&c.OpenStack.Region, c.Cluster.Region)
	for i := range c.Edge.Records {
		r := &c.Edge.Records[i]
		fill(&r.Type, "A")
		r.Type = strings.ToUpper(r.Type)
		r.Name = strings.ToLower(r.Name)
		if r.Proxied == nil {
			r.Proxied = ptr(edge.Proxiable[r.Type])
		}
	}
	c.applySLOPresets()
	c.applyDataPresets()
	c.applySecurityPresets()
	for i := range c.Namespaces {
		q := &c.Namespaces[i].Quota
		fill(&q.RequestsStorage, c.quotaStorage(tenancyPresets[c.multiNode()].quota.RequestsStorage))
	}
}

// quotaStorage is a namespace's default storage quota: the applications'
// share and the PostgreSQL cluster's claims, which count against it.
func (c *Config) quotaStorage(applications string) string {
	q := resource.MustParse(applications)
	if c.postgres() {
		size, err := resource.ParseQuantity(c.Data.Postgres.StorageSize)
		if err != nil {
			return applications // validateData names the size
		}
		for range max(*c.Data.Postgres.Instances, 0) {
			q.Add(size)
		}
	}
	return q.String()
}

// defaultAuthURL is Infomaniak's OpenStack identity endpoint.
const defaultAuthURL = "https://api.pub1.infomaniak.cloud/identity/v3"

func fill(dst *string, def string) {
	if *dst == "" {
		*dst = def
	}
}

func ptr[T any](v T) *T { return &v }

// PhaseDefault is what the presets of a phase fill in at path (e.g.
// namespaces[].quota.pods, "[]" the first element) on a stack that
// creates its cluster with the phase's pools (one node in phase 1, three
// in phase 2), for the configuration reference. It reports false for a
// path the presets leave empty.
func PhaseDefault(phase int, path string) (string, bool) {
	c := &Config{Stack: "example", Phase: phase, Namespaces: []Namespace{{Name: "example"}}}
	c.Security.OIDC = &OIDCConfig{} // its fields are preset once it is set
	c.applyPresets()
	v := reflect.ValueOf(c).Elem()
	for i, part := range strings.Split(path, ".") {
		name, list := strings.CutSuffix(part, "[]")
		tag := "json"
		if i == 0 {
			tag = "config"
		}
		f, ok := fieldByTag(v, tag, name)
		if !ok {
			return "", false
		}
		v = f
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if list {
			if v.Kind() != reflect.Slice || v.Len() == 0 {
				return "", false
			}
			v = v.Index(0)
		}
	}
	if v.Kind() == reflect.Pointer || v.IsZero() && v.Kind() != reflect.Bool {
		return "", false
	}
	return fmt.Sprint(v.Interface()), true
}

// fieldByTag finds the field of struct v whose tag key names it.
func fieldByTag(v reflect.Value, key, name string) (reflect.Value, bool) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	for i := range v.NumField() {
		if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get(key), ","); tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
