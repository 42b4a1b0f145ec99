package convention

// TopologySpread is a pod topology spread constraint as chart values and
// custom resources take it.
type TopologySpread struct {
	MaxSkew           int           `json:"maxSkew"`
	TopologyKey       string        `json:"topologyKey"`
	WhenUnsatisfiable string        `json:"whenUnsatisfiable"`
	LabelSelector     LabelSelector `json:"labelSelector"`
}

// LabelSelector selects by labels.
type LabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// ZoneSpread spreads the pods labelled pods over the zones, at most one
// more in any zone; whenUnsatisfiable is DoNotSchedule (a hard rule) or
// ScheduleAnyway.
func ZoneSpread(pods map[string]string, whenUnsatisfiable string) TopologySpread {
	return TopologySpread{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: whenUnsatisfiable,
		LabelSelector: LabelSelector{MatchLabels: pods}}
}
