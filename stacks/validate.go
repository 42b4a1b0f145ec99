package stacks

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"gitlab.com/camps-ch/infra/infra/edge"
	"gitlab.com/camps-ch/infra/infra/kubeconfig"
	"gitlab.com/camps-ch/infra/infra/platform"
)

// zones are the KaaS availability zones of each region (an instance pool
// always names its zone). dc4-a's are reported from the live API. dc3-a's
// are the KaaS OpenAPI document's enum (dc3-a-04, dc3-a-09, dc3-a-10),
// which no live listing has confirmed: the provider checks every pool's
// zone against GET /availability_zones?region= in Check, so a preview
// names the offered zones if these are wrong (shared/INFOMANIAK-KAAS.md).
var zones = map[string][]string{
	"dc3-a": {"dc3-a-04", "dc3-a-09", "dc3-a-10"},
	"dc4-a": {"az-1", "az-2", "az-3"},
}

// platformNamespaces are the namespaces of the in-cluster platform; no
// application namespace may take their names.
var platformNamespaces = []string{"ingress-nginx", "cert-manager", "longhorn-system", "monitoring", "cnpg-system",
	"openbao", "external-secrets", "audit", platform.MetricsServerNamespace}

var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

var (
	dnsLabel       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	minorVersion   = regexp.MustCompile(`^1\.[0-9]{2}$`)
	flavorName     = regexp.MustCompile(`^a[0-9]+-ram[0-9]+-disk[0-9]+-perf[0-9]+$`)
	stackName      = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+){0,2}$`)
	hostName       = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}(:[0-9]{1,5})?$`)
	labelValue     = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`)
	labelKeyName   = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	groupName      = regexp.MustCompile(`^[^\s:]([^\s]*[^\s:])?$`)
	nodeLabelRoots = []string{"node-role.kubernetes.io", "node-restriction.kubernetes.io", "custom.kaas.infomaniak.cloud"}
)

// Validate checks a preset-filled configuration and returns every problem.
func (c *Config) Validate() Problems {
	var ps Problems
	c.validateCluster(&ps)
	c.validateNamespaces(&ps)
	c.validateRegistry(&ps)
	c.validatePlatform(&ps)
	c.validateEdge(&ps)
	c.validateSLO(&ps)
	c.validateWatch(&ps)
	c.validateData(&ps)
	c.validateSecurity(&ps)
	if len(ps) == 0 {
		// The quantities are valid by now.
		c.validateQuotas(&ps)
		c.validateStorage(&ps)
		c.validateMostReplicas(&ps)
	}
	return ps
}

func (c *Config) validateCluster(ps *Problems) {
	cl := c.Cluster
	switch cl.Mode {
	case ModeCreate:
		c.validateCreate(ps)
		if c.Kubeconfig.IsSet() {
			ps.add(KeyKubeconfig, "is set, but cluster.mode is create: remove it or use mode attach")
		}
	case ModeAttach:
		switch {
		case cl.AttachStack == "" && !c.Kubeconfig.IsSet():
			ps.add("cluster.mode", "attach needs cluster.attachStack (a stack that creates its cluster) or the secret kubeconfig")
		case cl.AttachStack != "" && c.Kubeconfig.IsSet():
			ps.add("cluster.attachStack", "and kubeconfig are both set: attach takes one of them")
		case c.Kubeconfig.IsSet():
			// The deployers' kubeconfigs take its cluster entry.
			if _, _, err := kubeconfig.Cluster(c.Kubeconfig.Reveal()); err != nil {
				ps.add(KeyKubeconfig, "%v", err)
			}
		}
		if cl.AttachStack != "" && *c.Platform.Install {
			ps.add("platform.install", "is true, but the cluster belongs to stack %q, whose platform it is", cl.AttachStack)
		}
	default:
		ps.add("cluster.mode", "%q is not a mode; use create or attach", cl.Mode)
	}
	if cl.AttachStack != "" {
		project, stack := splitStack(cl.AttachStack)
		switch {
		case !stackName.MatchString(cl.AttachStack):
			ps.add("cluster.attachStack", "%q is not a stack name (stack, project/stack or org/project/stack)", cl.AttachStack)
		case project != Project:
			ps.add("cluster.attachStack", "%q is a stack of project %s; attach to a stack of %s", cl.AttachStack, project, Project)
		case stack == c.Stack:
			ps.add("cluster.attachStack", "%q is this stack itself", cl.AttachStack)
		}
	}
}

func (c *Config) validateCreate(ps *Problems) {
	cl := c.Cluster
	if len(cl.Name) > 40 || !dnsLabel.MatchString(cl.Name) {
		ps.add("cluster.name", "%q must be a DNS label (lower-case letters, digits, '-') of at most 40 characters", cl.Name)
	}
	regionZones, knownRegion := zones[cl.Region]
	if !knownRegion {
		ps.add("cluster.region", "%q is not a KaaS region; use one of %s", cl.Region, strings.Join(sortedKeys(zones), ", "))
	}
	if strings.TrimSpace(cl.Pack) == "" {
		ps.add("cluster.pack", "is empty; name a KaaS pack such as shared")
	}
	if !minorVersion.MatchString(cl.KubernetesVersion) {
		ps.add("cluster.kubernetesVersion", "%q is not a Kubernetes minor version such as 1.35", cl.KubernetesVersion)
	}
	for i, cidr := range cl.APIServerIPFilters {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			ps.add(fmt.Sprintf("cluster.apiServerIpFilters[%d]", i), "%q is not a CIDR such as 192.0.2.0/24", cidr)
		}
	}
	if len(cl.Pools) == 0 {
		ps.add("cluster.pools", "is empty; a created cluster needs at least one instance pool")
	}
	names, zonesSeen := map[string]int{}, map[string]int{}
	for i, p := range cl.Pools {
		at := func(field string) string { return fmt.Sprintf("cluster.pools[%d].%s", i, field) }
		if len(p.Name) > 40 || !dnsLabel.MatchString(p.Name) {
			ps.add(at("name"), "%q must be a DNS label of at most 40 characters", p.Name)
		} else if j, dup := names[p.Name]; dup {
			ps.add(at("name"), "%q is already the name of cluster.pools[%d]", p.Name, j)
		}
		names[p.Name] = i
		switch j, dup := zonesSeen[p.Zone]; {
		case knownRegion && !slices.Contains(regionZones, p.Zone):
			ps.add(at("zone"), "%q is not a zone of region %s (%s)", p.Zone, cl.Region, strings.Join(regionZones, ", "))
		case dup:
			ps.add(at("zone"), "%q already has cluster.pools[%d]; use one pool per zone", p.Zone, j)
		default:
			zonesSeen[p.Zone] = i
		}
		if !flavorName.MatchString(p.Flavor) {
			ps.add(at("flavor"), "%q is not a flavor name such as a4-ram8-disk50-perf1", p.Flavor)
		}
		switch {
		case *p.MinInstances < 1:
			ps.add(at("minInstances"), "%d is below 1", *p.MinInstances)
		case *p.MaxInstances < *p.MinInstances:
			ps.add(at("maxInstances"), "%d is below minInstances %d", *p.MaxInstances, *p.MinInstances)
		case *p.MaxInstances > 1000:
			ps.add(at("maxInstances"), "%d is above the API's limit of 1000", *p.MaxInstances)
		}
		for _, k := range sortedKeys(p.Labels) {
			if msg := checkNodeLabel(k, p.Labels[k]); msg != "" {
				ps.add(at(fmt.Sprintf("labels[%q]", k)), "%s", msg)
			}
		}
	}
	if c.Infomaniak.PublicCloudID < 0 {
		ps.add("infomaniak.publicCloudId", "%d is negative", c.Infomaniak.PublicCloudID)
	}
	if c.Infomaniak.ProjectID < 0 {
		ps.add("infomaniak.projectId", "%d is negative", c.Infomaniak.ProjectID)
	}
}

// splitStack returns the project and stack of a stack name; a name
// without a project is in this project.
func splitStack(name string) (project, stack string) {
	parts := strings.Split(name, "/")
	if len(parts) == 1 {
		return Project, parts[0]
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

// checkNodeLabel returns what is wrong with a KaaS node label, or "".
func checkNodeLabel(key, value string) string {
	prefix, name, hasPrefix := strings.Cut(key, "/")
	allowed := hasPrefix && slices.ContainsFunc(nodeLabelRoots, func(root string) bool {
		return prefix == root || strings.HasSuffix(prefix, "."+root)
	})
	switch {
	case !allowed:
		return fmt.Sprintf("key %q must have the prefix node-role.kubernetes.io/, node-restriction.kubernetes.io/ or custom.kaas.infomaniak.cloud/", key)
	case len(name) > 63 || !labelKeyName.MatchString(name):
		return fmt.Sprintf("key %q has an invalid name part", key)
	case len(value) > 63 || !labelValue.MatchString(value):
		return fmt.Sprintf("value %q is not a label value (at most 63 letters, digits, '-', '_', '.')", value)
	}
	return ""
}

func (c *Config) validateNamespaces(ps *Problems) {
	seen := map[string]int{}
	for i, ns := range c.Namespaces {
		at := func(field string) string { return fmt.Sprintf("namespaces[%d].%s", i, field) }
		switch {
		case len(ns.Name) > 63 || !dnsLabel.MatchString(ns.Name):
			ps.add(at("name"), "%q must be a DNS label of at most 63 characters", ns.Name)
		case slices.Contains(platformNamespaces, ns.Name) || slices.Contains(systemNamespaces, ns.Name):
			ps.add(at("name"), "%q is reserved for the platform or the system", ns.Name)
		default:
			if j, dup := seen[ns.Name]; dup {
				ps.add(at("name"), "%q is already namespaces[%d]", ns.Name, j)
			}
			seen[ns.Name] = i
		}
		if !groupName.MatchString(ns.DeployerGroup) {
			ps.add(at("deployerGroup"), "%q is not a group name", ns.DeployerGroup)
		}
		if g := *ns.DeployerTokenGeneration; g < 1 {
			ps.add(at("deployerTokenGeneration"), "is %d; generations count from 1: raise it by one to rotate the token", g)
		}
		for j, cidr := range ns.EgressCIDRs {
			if _, err := netip.ParsePrefix(cidr); err != nil {
				ps.add(at(fmt.Sprintf("egressCidrs[%d]", j)), "%q is not a CIDR such as 10.0.0.0/8", cidr)
			}
		}
		q, l := ns.Quota, ns.Limits
		quantities := []struct{ field, value string }{
			{"quota.requestsCpu", q.RequestsCPU}, {"quota.requestsMemory", q.RequestsMemory},
			{"quota.limitsCpu", q.LimitsCPU}, {"quota.limitsMemory", q.LimitsMemory},
			{"quota.requestsStorage", q.RequestsStorage},
			{"limits.defaultCpu", l.DefaultCPU}, {"limits.defaultMemory", l.DefaultMemory},
			{"limits.defaultRequestCpu", l.DefaultRequestCPU}, {"limits.defaultRequestMemory", l.DefaultRequestMemory},
			{"limits.maxCpu", l.MaxCPU}, {"limits.maxMemory", l.MaxMemory},
		}
		valid := true
		for _, qv := range quantities {
			if _, err := parseQuantity(qv.value); err != nil {
				ps.add(at(qv.field), "%v", err)
				valid = false
			}
		}
		if valid {
			// Each pair must be ordered small <= large, or Kubernetes rejects
			// the object or every pod that uses the defaults.
			pairs := []struct{ small, smallField, large, largeField string }{
				{q.RequestsCPU, "quota.requestsCpu", q.LimitsCPU, "quota.limitsCpu"},
				{q.RequestsMemory, "quota.requestsMemory", q.LimitsMemory, "quota.limitsMemory"},
				{l.DefaultRequestCPU, "limits.defaultRequestCpu", l.DefaultCPU, "limits.defaultCpu"},
				{l.DefaultRequestMemory, "limits.defaultRequestMemory", l.DefaultMemory, "limits.defaultMemory"},
				{l.DefaultCPU, "limits.defaultCpu", l.MaxCPU, "limits.maxCpu"},
				{l.DefaultMemory, "limits.defaultMemory", l.MaxMemory, "limits.maxMemory"},
				{l.MaxCPU, "limits.maxCpu", q.LimitsCPU, "quota.limitsCpu"},
				{l.MaxMemory, "limits.maxMemory", q.LimitsMemory, "quota.limitsMemory"},
			}
			for _, p := range pairs {
				small, _ := parseQuantity(p.small)
				large, _ := parseQuantity(p.large)
				if small.Cmp(large) > 0 {
					ps.add(at(p.smallField), "%s is above %s %s", p.small, p.largeField, p.large)
				}
			}
		}
		if *q.Pods < 1 {
			ps.add(at("quota.pods"), "%d is below 1", *q.Pods)
		}
		if *q.PersistentVolumeClaims < 0 {
			ps.add(at("quota.persistentVolumeClaims"), "%d is negative", *q.PersistentVolumeClaims)
		}
	}
}

func (c *Config) validateRegistry(ps *Problems) {
	if len(c.Namespaces) == 0 {
		return
	}
	if !hostName.MatchString(c.Registry.Server) {
		ps.add("registry.server", "%q is not a host name such as registry.gitlab.com", c.Registry.Server)
	}
	if strings.TrimSpace(c.Registry.Username) == "" {
		ps.add("registry.username", "is empty; the namespaces' pull secret needs the deploy token's username")
	}
	// With security.externalSecrets the token comes from OpenBao.
	if !c.RegistryToken.IsSet() && !*c.Security.ExternalSecrets {
		ps.add(KeyRegistryToken, "is not set; set the deploy token with `pulumi config set --secret %s <token>`", KeyRegistryToken)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (c *Config) validateEdge(ps *Problems) {
	if *c.Edge.ReserveIP && c.Platform.Ingress.LoadBalancerIP != "" {
		ps.add("platform.ingress.loadBalancerIp", "is set, but edge.reserveIp reserves the address: set one of them")
	}
	if *c.Edge.ReserveIP && !*c.Platform.Install {
		ps.add("edge.reserveIp", "is true, but this stack installs no ingress to use the address")
	}
	if !strings.HasPrefix(c.OpenStack.AuthURL, "https://") {
		ps.add("openstack.authUrl", "%q is not an https:// URL", c.OpenStack.AuthURL)
	}
	if (c.OpenStack.ApplicationCredentialID != "") != c.OpenStackSecret.IsSet() {
		ps.add("openstack.applicationCredentialId", "and the secret %s go together", KeyOpenStackSecret)
	}
	e := c.Edge
	if e.ZoneSettings && c.Stack != zoneOwner {
		ps.add("edge.zoneSettings", "is true in stack %s; only stack %s owns the zone's settings", c.Stack, zoneOwner)
	}
	if e.Zone == "" {
		if len(e.Records) > 0 || e.ZoneSettings {
			ps.add("edge.zone", "is empty; name the Cloudflare zone of the records, e.g. camps.ch")
		}
		return
	}
	if !zoneName.MatchString(e.Zone) {
		ps.add("edge.zone", "%q is not a zone name such as camps.ch", e.Zone)
	}
	seen := map[string]int{}
	names := map[string][]string{} // name → types, for CNAME conflicts
	hasAddress := *e.ReserveIP || c.Platform.Ingress.LoadBalancerIP != "" || c.Cluster.AttachStack != "" && c.Cluster.Mode == ModeAttach
	for i, r := range c.dnsRecords() {
		at := func(f string) string { return fmt.Sprintf("edge.records[%d].%s", i, f) }
		if i >= len(e.Records) {
			at = func(string) string { return "platform.monitoring.grafanaHost" }
		}
		key := r.Type + " " + r.Name
		label := strings.TrimSuffix(r.Name, "."+e.Zone)
		switch {
		case r.Name != e.Zone && !strings.HasSuffix(r.Name, "."+e.Zone):
			ps.add(at("name"), "%q is not in zone %s", r.Name, e.Zone)
		case r.Name != e.Zone && !dnsLabel.MatchString(label):
			ps.add(at("name"), "%q must be the zone or one label below it (%s, www.%s): Cloudflare's edge certificate covers no deeper name", r.Name, e.Zone, e.Zone)
		case seen[key] > 0:
			ps.add(at("name"), "%q (%s) is already edge.records[%d]", r.Name, r.Type, seen[key]-1)
		}
		seen[key] = i + 1
		if others := names[r.Name]; len(others) > 0 && (r.Type == "CNAME" || slices.Contains(others, "CNAME")) {
			ps.add(at("type"), "%s next to %s records of %q: a CNAME must be alone at its name", r.Type, strings.Join(others, ", "), r.Name)
		}
		names[r.Name] = append(names[r.Name], r.Type)
		if !recordTypes[r.Type] {
			ps.add(at("type"), "%q is not A, AAAA, CNAME or TXT (CAA records come with edge.zoneSettings)", r.Type)
		}
		if *r.Proxied && !edge.Proxiable[r.Type] {
			ps.add(at("proxied"), "is true, but Cloudflare cannot proxy %s records (only A, AAAA, CNAME)", r.Type)
		}
		switch a, err := netip.ParseAddr(r.Content); {
		case r.Content == "" && (r.Type != "A" || !hasAddress):
			ps.add(at("content"), "is empty, and no ingress address is reserved or attached to fill it")
		case r.Content != "" && r.Type == "A" && (err != nil || !a.Is4()):
			ps.add(at("content"), "%q is not an IPv4 address", r.Content)
		case r.Content != "" && r.Type == "AAAA" && (err != nil || !a.Is6()):
			ps.add(at("content"), "%q is not an IPv6 address", r.Content)
		}
	}
}

var (
	zoneName = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$`)
	// recordTypes are the record types a stack may declare.
	recordTypes = map[string]bool{"A": true, "AAAA": true, "CNAME": true, "TXT": true}
)

// zoneOwner is the stack that owns the Cloudflare zone's settings.
const zoneOwner = "prod"

// dnsRecords are the configured records and, when the stack installs the
// platform, Grafana's host.
func (c *Config) dnsRecords() []RecordConfig {
	out := append([]RecordConfig(nil), c.Edge.Records...)
	if *c.Platform.Install && c.Platform.Monitoring.GrafanaHost != "" {
		out = append(out, RecordConfig{Name: c.Platform.Monitoring.GrafanaHost, Type: "A", Proxied: ptr(true)})
	}
	if *c.Security.Audit.Enabled && c.Edge.Zone != "" {
		out = append(out, RecordConfig{Name: c.Security.Audit.Host, Type: "A", Proxied: ptr(true)})
	}
	return out
}
