// Package observability is what the monitoring stack watches, as code:
// Grafana dashboards built with grafana-foundation-sdk, Prometheus alert
// rules for what kube-prometheus-stack does not already alert on, and SLOs
// as recording rules with multi-window, multi-burn-rate alerts. Its
// components ship them as ConfigMaps for the Grafana sidecar and as
// PrometheusRule and Probe objects for the Prometheus operator.
package observability

import (
	"fmt"
	"strings"
)

// RunbookBase is where the runbooks of docs/runbooks are read; an alert's
// runbook_url is RunbookBase + the runbook's file name.
const RunbookBase = "https://gitlab.com/camps-ch/infra/-/blob/main/docs/runbooks/"

// Severities an alert carries in its severity label; Alertmanager routes
// on them.
const (
	Critical = "critical"
	Warning  = "warning"
)

// RuleGroup is a Prometheus rule group, as in a rule file and in a
// PrometheusRule's spec.groups.
type RuleGroup struct {
	Name     string `json:"name" yaml:"name"`
	Interval string `json:"interval,omitempty" yaml:"interval,omitempty"`
	Rules    []Rule `json:"rules" yaml:"rules"`
}

// Rule is a recording rule (Record set) or an alerting rule (Alert set).
type Rule struct {
	Record      string            `json:"record,omitempty" yaml:"record,omitempty"`
	Alert       string            `json:"alert,omitempty" yaml:"alert,omitempty"`
	Expr        string            `json:"expr" yaml:"expr"`
	For         string            `json:"for,omitempty" yaml:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// Runbook is the runbook file an alert links to, in docs/runbooks.
func (r Rule) Runbook() string {
	return strings.TrimPrefix(r.Annotations["runbook_url"], RunbookBase)
}

// alert is what every alerting rule must say: its severity, a one-line
// summary, a description that quotes the value, and its runbook.
type alert struct {
	name, expr, forDuration, severity string
	summary, description, runbook     string
	labels                            map[string]string
}

func (a alert) rule() Rule {
	labels := map[string]string{"severity": a.severity}
	for k, v := range a.labels {
		labels[k] = v
	}
	return Rule{
		Alert: a.name, Expr: a.expr, For: a.forDuration, Labels: labels,
		Annotations: map[string]string{
			"summary":     a.summary,
			"description": a.description,
			"runbook_url": RunbookBase + a.runbook,
		},
	}
}

// Alerts lists the alerting rules of groups.
func Alerts(groups []RuleGroup) []Rule {
	var out []Rule
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// days is n days in seconds, as PromQL arithmetic: 14 * 86400.
func days(n int) string { return fmt.Sprintf("%d * 86400", n) }
