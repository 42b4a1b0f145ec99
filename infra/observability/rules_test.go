package observability

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// allGroups are the rule groups of every kind the package renders.
func allGroups() []RuleGroup {
	var out []RuleGroup
	for _, g := range ruleFiles {
		out = append(out, g...)
	}
	return out
}

func TestRulesParse(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	for _, g := range allGroups() {
		for _, r := range g.Rules {
			if _, err := p.ParseExpr(r.Expr); err != nil {
				t.Errorf("group %s, rule %s%s: %v\n%s", g.Name, r.Record, r.Alert, err, r.Expr)
			}
		}
	}
}

// grafanaVariables stand in for the variables Grafana expands before a
// query reaches Prometheus.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$namespace", ".*")

func TestDashboardQueriesParse(t *testing.T) {
	boards, err := Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	p := parser.NewParser(parser.Options{})
	queries := 0
	for _, d := range boards {
		var model struct {
			Panels []struct {
				Title   string
				Targets []struct{ Expr string }
			}
			Templating struct {
				List []struct{ Query string }
			}
		}
		if err := json.Unmarshal([]byte(d.JSON), &model); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		for _, panel := range model.Panels {
			for _, target := range panel.Targets {
				queries++
				if _, err := p.ParseExpr(grafanaVariables.Replace(target.Expr)); err != nil {
					t.Errorf("dashboard %s, panel %q: %v\n%s", d.Name, panel.Title, err, target.Expr)
				}
			}
		}
		// label_values(<metric>, <label>) is Grafana's; its metric is PromQL.
		for _, v := range model.Templating.List {
			m := regexp.MustCompile(`^label_values\((.+), *[a-z_]+\)$`).FindStringSubmatch(v.Query)
			if m == nil {
				t.Errorf("dashboard %s: variable query %q is not label_values(metric, label)", d.Name, v.Query)
				continue
			}
			if _, err := p.ParseExpr(m[1]); err != nil {
				t.Errorf("dashboard %s: variable query %q: %v", d.Name, v.Query, err)
			}
		}
	}
	if queries < 40 {
		t.Errorf("only %d queries in the dashboards", queries)
	}
}

// TestAlertsSayWhatToDo checks every alert's severity, summary,
// description with its value, and runbook link to a page that exists.
func TestAlertsSayWhatToDo(t *testing.T) {
	alerts := Alerts(allGroups())
	if len(alerts) < 15 {
		t.Fatalf("only %d alerts", len(alerts))
	}
	for _, r := range alerts {
		if s := r.Labels["severity"]; s != Critical && s != Warning {
			t.Errorf("%s: severity %q", r.Alert, s)
		}
		if r.Annotations["summary"] == "" {
			t.Errorf("%s: no summary", r.Alert)
		}
		if !strings.Contains(r.Annotations["description"], "$value") {
			t.Errorf("%s: the description does not quote the value: %q", r.Alert, r.Annotations["description"])
		}
		url := r.Annotations["runbook_url"]
		if !strings.HasPrefix(url, RunbookBase) {
			t.Errorf("%s: runbook %q is not in %s", r.Alert, url, RunbookBase)
			continue
		}
		page := filepath.Join("..", "..", "docs", "runbooks", r.Runbook())
		b, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("%s: runbook %s: %v", r.Alert, page, err)
			continue
		}
		if !strings.Contains(string(b), r.Alert) {
			t.Errorf("%s: runbook %s does not mention the alert", r.Alert, page)
		}
	}
}

func TestSLOValidate(t *testing.T) {
	good := SLOs{Namespace: "production", Availability: 0.995, LatencyObjective: 0.9, LatencyThresholdMs: 200}
	tests := []struct {
		name   string
		change func(*SLOs)
		want   string
	}{
		{"valid", func(*SLOs) {}, ""},
		{"no namespace", func(s *SLOs) { s.Namespace = "" }, "a namespace is required"},
		{"availability as a percentage", func(s *SLOs) { s.Availability = 99.5 }, "availability objective 99.5 is not between 0 and 1"},
		{"availability of 1", func(s *SLOs) { s.Availability = 1 }, "availability objective 1 is not between 0 and 1"},
		{"latency objective of 0", func(s *SLOs) { s.LatencyObjective = 0 }, "latency objective 0 is not between 0 and 1"},
		{"threshold between buckets", func(s *SLOs) { s.LatencyThresholdMs = 150 }, "latency threshold 150 ms is not a bucket"},
	}
	for _, tt := range tests {
		s := good
		tt.change(&s)
		err := s.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestBurnThresholds(t *testing.T) {
	tests := []struct {
		factor, budget, want float64
	}{
		{14.4, 0.005, 0.072}, // phase 1 availability: the workbook's page
		{1, 0.001, 0.001},    // phase 2 availability: the slowest ticket
		{6, 0.05, 0.3},       // phase 2 latency
		{14.4, 0.05, 0.5},    // 72 % would be capped at half of the requests
		{14.4, 0.1, 0.5},     // 144 % could never fire
	}
	for _, tt := range tests {
		if got := threshold(tt.factor, tt.budget); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("threshold(%v, %v) = %v, want %v", tt.factor, tt.budget, got, tt.want)
		}
	}
}

func TestSLORulesPerNamespace(t *testing.T) {
	uat := SLOs{Namespace: "uat", Availability: 0.995, LatencyObjective: 0.9, LatencyThresholdMs: 200}.Rules()
	if len(uat) != 4 {
		t.Fatalf("%d groups, want two per SLO", len(uat))
	}
	for _, g := range uat {
		if long := strings.HasSuffix(g.Name, ".long"); long != (g.Interval == "5m") {
			t.Errorf("group %s has interval %q", g.Name, g.Interval)
		}
	}
	for _, g := range uat {
		if !strings.HasPrefix(g.Name, "slo.uat.") {
			t.Errorf("group %s is not named after its namespace", g.Name)
		}
		for _, r := range g.Rules {
			if r.Labels["namespace"] != "uat" {
				t.Errorf("%s%s: namespace label %q", r.Record, r.Alert, r.Labels["namespace"])
			}
			if strings.Contains(r.Expr, "production") {
				t.Errorf("%s%s reads production: %s", r.Record, r.Alert, r.Expr)
			}
		}
	}
	for _, r := range Alerts(uat) {
		if r.Labels["severity"] != Warning {
			t.Errorf("uat's SLOs page: %s %v", r.Alert, r.Labels)
		}
	}
	if got := percent(0.995); got != "99.5 %" {
		t.Errorf("percent(0.995) = %q", got)
	}
}
