// Package platform installs the in-cluster platform, one component per Helm
// release: the NGINX ingress controller, cert-manager with Let's Encrypt
// issuers, Longhorn and kube-prometheus-stack. Each release gets its own
// namespace with its Pod Security level, a pinned chart, typed values and
// explicit resources for every container the chart lets us size.
package platform

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
