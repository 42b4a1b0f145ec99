package observability

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// SLO kinds.
const (
	// Availability is measured from outside: the blackbox exporter's
	// probes of the public hosts, through Cloudflare, the load balancer and
	// the ingress, as the users reach them. The open-source NGINX ingress
	// controller has no per-host status counters (those are NGINX Plus).
	Availability = "availability"
	// Latency is measured by the ingress controller: the share of upstream
	// responses of the namespace's Ingresses faster than the threshold,
	// from its latency histogram (controller.enableLatencyMetrics).
	Latency = "latency"
)

// LatencyBuckets are the bucket bounds, in milliseconds, of the ingress
// controller's nginx_ingress_controller_upstream_server_response_latency_ms
// histogram; a latency threshold must be one of them.
var LatencyBuckets = []int{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500,
	1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000}

// Period is the SLO's rolling compliance window. It is 7 days, not the
// usual 30, because Prometheus keeps 10 to 15 days of samples.
const Period = "7d"

// SLOs are one application namespace's objectives.
type SLOs struct {
	// Namespace is the application namespace; the rules and alerts carry it
	// as their namespace label.
	Namespace string
	// Availability is the share of successful probes to reach, e.g. 0.995.
	Availability float64
	// LatencyObjective is the share of requests to serve faster than
	// LatencyThresholdMs, e.g. 0.90 for "p90 < 200 ms".
	LatencyObjective float64
	// LatencyThresholdMs is one of LatencyBuckets.
	LatencyThresholdMs int
	// Page makes a fast burn critical (it pages); otherwise every burn is
	// a warning (a ticket), e.g. for uat.
	Page bool
}

// Validate checks the objectives.
func (s SLOs) Validate() error {
	switch {
	case s.Namespace == "":
		return errors.New("a namespace is required")
	case !(s.Availability > 0 && s.Availability < 1):
		return fmt.Errorf("availability objective %v is not between 0 and 1", s.Availability)
	case !(s.LatencyObjective > 0 && s.LatencyObjective < 1):
		return fmt.Errorf("latency objective %v is not between 0 and 1", s.LatencyObjective)
	case !slices.Contains(LatencyBuckets, s.LatencyThresholdMs):
		return fmt.Errorf("latency threshold %d ms is not a bucket of the ingress controller's histogram", s.LatencyThresholdMs)
	}
	return nil
}

// windows are the error-ratio windows the burn-rate alerts and the SLO
// dashboard read; longWindows, with the compliance period, are recorded
// every longInterval: they change slowly and cost the most.
var (
	windows      = []string{"5m", "30m", "1h", "2h", "6h"}
	longWindows  = []string{"1d", "3d", Period}
	longInterval = "5m"
)

// burn is a multi-window burn-rate condition: both windows burn the budget
// factor times faster than the period allows.
type burn struct {
	long, short string
	factor      float64
}

// The Site Reliability Workbook's pairs: page on 14.4× over 1 h (and 5 m)
// or 6× over 6 h (and 30 m); open a ticket on 3× over 1 d (and 2 h) or 1×
// over 3 d (and 6 h).
var (
	pageBurns   = []burn{{"1h", "5m", 14.4}, {"6h", "30m", 6}}
	ticketBurns = []burn{{"1d", "2h", 3}, {"3d", "6h", 1}}
)

// maxErrorRatio caps a burn threshold: with a large budget (10 % for "p90
// under 200 ms") 14.4× the budget is more than every request, an alert
// that could never fire. Such a factor is lowered so that it fires when
// half of the requests miss the objective.
const maxErrorRatio = 0.5

// threshold is the error ratio at which factor × budget is burnt.
func threshold(factor, budget float64) float64 {
	return math.Min(factor*budget, maxErrorRatio)
}

// sli is the expression of the error ratio over a window.
func (s SLOs) sli(kind, window string) string {
	ns := strconv.Quote(s.Namespace)
	switch kind {
	case Availability:
		return fmt.Sprintf(`1 - avg(avg_over_time(probe_success{namespace=%s}[%s]))`, ns, window)
	default:
		// Prometheus 3 writes the le label of classic histograms as a
		// float ("200.0"); older versions and other exporters as "200".
		le := strconv.Quote(strconv.Itoa(s.LatencyThresholdMs) + `(\.0)?`)
		return fmt.Sprintf(`1 - (
  sum(rate(nginx_ingress_controller_upstream_server_response_latency_ms_bucket{resource_namespace=%s, le=~%s}[%s]))
  /
  sum(rate(nginx_ingress_controller_upstream_server_response_latency_ms_count{resource_namespace=%s}[%s]))
)`, ns, le, window, ns, window)
	}
}

// ErrorRatioMetric is the recorded error ratio of an SLO over a window; its
// labels are namespace and slo.
func ErrorRatioMetric(window string) string { return "slo:sli_error:ratio_rate" + window }

// ObjectiveMetric is the recorded objective of an SLO (e.g. 0.995).
const ObjectiveMetric = "slo:objective:ratio"

// Rules are the recording rules and burn-rate alerts of the namespace's
// SLOs: per SLO a group with the objective, the short windows and the
// alerts, and a group with the long windows, evaluated every 5 minutes.
// The alerts carry burn=fast or burn=slow; a fast burn is critical when
// Page is set, every other burn a warning.
func (s SLOs) Rules() []RuleGroup {
	type objective struct {
		kind, what string
		target     float64
	}
	objectives := []objective{
		{Availability, fmt.Sprintf("%s of probes of the public hosts succeed", percent(s.Availability)), s.Availability},
		{Latency, fmt.Sprintf("%s of requests are served in under %d ms", percent(s.LatencyObjective), s.LatencyThresholdMs), s.LatencyObjective},
	}
	var groups []RuleGroup
	for _, o := range objectives {
		labels := map[string]string{"namespace": s.Namespace, "slo": o.kind}
		g := RuleGroup{Name: fmt.Sprintf("slo.%s.%s", s.Namespace, o.kind)}
		long := RuleGroup{Name: g.Name + ".long", Interval: longInterval}
		g.Rules = append(g.Rules, Rule{Record: ObjectiveMetric, Expr: strconv.FormatFloat(o.target, 'f', -1, 64), Labels: labels})
		for _, w := range windows {
			g.Rules = append(g.Rules, Rule{Record: ErrorRatioMetric(w), Expr: s.sli(o.kind, w), Labels: labels})
		}
		for _, w := range longWindows {
			long.Rules = append(long.Rules, Rule{Record: ErrorRatioMetric(w), Expr: s.sli(o.kind, w), Labels: labels})
		}
		budget := 1 - o.target
		sel := fmt.Sprintf(`{namespace=%q, slo=%q}`, s.Namespace, o.kind)
		condition := func(burns []burn) string {
			var terms []string
			for _, b := range burns {
				t := strconv.FormatFloat(threshold(b.factor, budget), 'g', 6, 64)
				// The short window first: the alert's value is its
				// ratio, recorded in the same group, so it is the one
				// just computed (a long window's can be 5 minutes old).
				terms = append(terms, fmt.Sprintf("(%s%s > %s and %s%s > %s)",
					ErrorRatioMetric(b.short), sel, t, ErrorRatioMetric(b.long), sel, t))
			}
			return strings.Join(terms, "\nor\n")
		}
		desc := func(burns []burn) string {
			return fmt.Sprintf(`The %s SLO of %s (%s over %s) burns its error budget too fast: the error ratio of the last %s or %s is {{ $value | humanizePercentage }} against a budget of %s.`,
				o.kind, s.Namespace, o.what, Period, burns[0].short, burns[1].short, percent(budget))
		}
		burnLabels := func(speed string) map[string]string {
			return map[string]string{"namespace": s.Namespace, "slo": o.kind, "burn": speed}
		}
		fast := Warning
		if s.Page {
			fast = Critical
		}
		g.Rules = append(g.Rules, rules(
			alert{
				name: "ErrorBudgetBurn", expr: condition(pageBurns), forDuration: "2m", severity: fast,
				summary:     fmt.Sprintf("%s: at this rate the %s error budget is gone within about a day.", s.Namespace, o.kind),
				description: desc(pageBurns), runbook: "error-budget-burn.md", labels: burnLabels("fast"),
			},
			alert{
				name: "ErrorBudgetBurn", expr: condition(ticketBurns), forDuration: "15m", severity: Warning,
				summary:     fmt.Sprintf("%s: the %s error budget is being used up faster than it lasts.", s.Namespace, o.kind),
				description: desc(ticketBurns), runbook: "error-budget-burn.md", labels: burnLabels("slow"),
			},
		)...)
		groups = append(groups, g, long)
	}
	return groups
}

// percent formats a ratio as a percentage: 0.995 → "99.5 %".
func percent(r float64) string {
	return strconv.FormatFloat(math.Round(r*100000)/1000, 'f', -1, 64) + " %"
}
