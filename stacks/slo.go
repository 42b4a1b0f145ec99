package stacks

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gitlab.com/camps-ch/infra/infra/observability"
	"gitlab.com/camps-ch/infra/infra/security"
)

// SLOConfig is the `slo` key: the objectives of the stack's public hosts,
// recorded in its application namespace.
type SLOConfig struct {
	// Enabled records the SLOs and probes the hosts. Default: true when the
	// stack has public hosts, a namespace and a monitoring stack (its own
	// platform or its cluster owner's).
	Enabled *bool `json:"enabled"`
	// Namespace the SLOs are recorded in. Default: the stack's first namespace.
	Namespace string `json:"namespace"`
	// Hosts are probed for availability over HTTPS. Default: the stack's
	// proxied edge records, without the Grafana host.
	Hosts []string `json:"hosts"`
	// Path is probed on each host; it must answer 2xx. Default: preset.
	Path string `json:"path"`
	// Availability is the share of successful probes, in percent.
	// Default: by node count.
	Availability *float64 `json:"availability"`
	// LatencyPercentile is the share of requests, in percent, that must be
	// faster than latencyThresholdMs. Default: by node count.
	LatencyPercentile *float64 `json:"latencyPercentile"`
	// LatencyThresholdMs is the latency target, one of the ingress
	// controller's histogram buckets. Default: by node count.
	LatencyThresholdMs *int `json:"latencyThresholdMs"`
	// Watch are public hosts of another cluster, probed from this stack's
	// cluster so that a whole-cluster outage is seen from outside it
	// (WatchedHostDown): uat watches prod's hosts, prod uat's. Probing
	// needs a monitoring stack of the stack's own: a stack attached to
	// another's platform (prod in phase 1) probes nothing and the key does
	// nothing there. Default: none.
	Watch []string `json:"watch"`
	// Page makes a fast burn of the error budget critical, which pages;
	// without it every burn is a warning. Default: true (uat sets false).
	Page *bool `json:"page"`
}

// sloPreset holds the architecture's targets: phase 1 (one node) p90 under
// 200 ms and 99.5 %; phase 2 (the HA cluster) p95 under 100 ms and 99.9 %.
// uat keeps phase 1's targets in phase 2: it stays on the single node.
type sloPreset struct {
	availability, percentile float64
	thresholdMs              int
}

var sloPresets = map[bool]sloPreset{
	false: {availability: 99.5, percentile: 90, thresholdMs: 200},
	true:  {availability: 99.9, percentile: 95, thresholdMs: 100},
}

func (c *Config) applySLOPresets() {
	s, p := &c.SLO, sloPresets[c.multiNode()]
	if s.Hosts == nil {
		for _, r := range c.Edge.Records {
			if *r.Proxied && r.Name != c.Platform.Monitoring.GrafanaHost {
				s.Hosts = append(s.Hosts, r.Name)
			}
		}
	}
	if s.Namespace == "" && len(c.Namespaces) > 0 {
		s.Namespace = c.Namespaces[0].Name
	}
	if s.Enabled == nil {
		monitored := *c.Platform.Install || c.Cluster.AttachStack != ""
		s.Enabled = ptr(len(s.Hosts) > 0 && len(c.Namespaces) > 0 && monitored)
	}
	if s.Page == nil {
		s.Page = ptr(true)
	}
	fill(&s.Path, "/")
	if s.Availability == nil {
		s.Availability = ptr(p.availability)
	}
	if s.LatencyPercentile == nil {
		s.LatencyPercentile = ptr(p.percentile)
	}
	if s.LatencyThresholdMs == nil {
		s.LatencyThresholdMs = ptr(p.thresholdMs)
	}
}

func (c *Config) validateSLO(ps *Problems) {
	s := c.SLO
	if !*s.Enabled {
		return
	}
	percent := func(key string, v float64) {
		if !(v > 0 && v < 100) {
			ps.add(key, "%v is not a percentage between 0 and 100 (both excluded)", v)
		}
	}
	percent("slo.availability", *s.Availability)
	percent("slo.latencyPercentile", *s.LatencyPercentile)
	if !slices.Contains(observability.LatencyBuckets, *s.LatencyThresholdMs) {
		ps.add("slo.latencyThresholdMs", "%d is not a bucket of the ingress controller's latency histogram (%s)",
			*s.LatencyThresholdMs, strings.Trim(fmt.Sprint(observability.LatencyBuckets), "[]"))
	}
	switch {
	case len(c.Namespaces) == 0:
		ps.add("slo.namespace", "the stack has no namespace to record its SLOs in; set slo.enabled to false")
	case !slices.ContainsFunc(c.Namespaces, func(n Namespace) bool { return n.Name == s.Namespace }):
		ps.add("slo.namespace", "%q is not one of the stack's namespaces", s.Namespace)
	}
	if len(s.Hosts) == 0 {
		ps.add("slo.hosts", "is empty: the availability SLO needs a public host to probe; set slo.enabled to false")
	}
	for i, h := range s.Hosts {
		if !hostName.MatchString(h) {
			ps.add(fmt.Sprintf("slo.hosts[%d]", i), "%q is not a host name", h)
		}
	}
	if !strings.HasPrefix(s.Path, "/") || strings.ContainsAny(s.Path, " ?#") {
		ps.add("slo.path", "%q is not an absolute URL path without query", s.Path)
	}
}

// validateWatch checks the hosts another cluster serves.
func (c *Config) validateWatch(ps *Problems) {
	for i, h := range c.SLO.Watch {
		if !hostName.MatchString(h) {
			ps.add(fmt.Sprintf("slo.watch[%d]", i), "%q is not a host name", h)
		}
	}
}

// watchURLs are the watched hosts' addresses, probed at slo.path.
func (c *Config) watchURLs() []string {
	var urls []string
	for _, h := range c.SLO.Watch {
		urls = append(urls, "https://"+h+c.SLO.Path)
	}
	return urls
}

// sloArgs are the SLO component's arguments.
func (c *Config) sloArgs() *observability.SLOArgs {
	s := c.SLO
	urls := make([]string, len(s.Hosts))
	for i, h := range s.Hosts {
		urls[i] = "https://" + h + s.Path
	}
	return &observability.SLOArgs{
		Objectives: observability.SLOs{
			Namespace:          s.Namespace,
			Availability:       ratio(*s.Availability),
			LatencyObjective:   ratio(*s.LatencyPercentile),
			LatencyThresholdMs: *s.LatencyThresholdMs,
			Page:               *s.Page,
		},
		URLs: urls,
	}
}

// ratio turns a percentage into a ratio without float noise in the rules
// (99.9 / 100 is 0.9990000000000001): percentages keep 7 digits.
func ratio(percent float64) float64 { return math.Round(percent*1e7) / 1e9 }

// ruleOptions are the optional platform alerts this stack's setup calls
// for.
func (c *Config) ruleOptions() observability.RuleOptions {
	opts := observability.RuleOptions{LonghornBackups: *c.Data.LonghornBackups}
	if *c.Security.OpenBao.Enabled {
		opts.OpenBaoNamespace = security.OpenBaoNamespace
	}
	return opts
}
