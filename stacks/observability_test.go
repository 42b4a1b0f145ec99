package stacks_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

const (
	configMapType = "kubernetes:core/v1:ConfigMap"
	ruleType      = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	probeType     = "kubernetes:monitoring.coreos.com/v1:Probe"
)

// rulesOf returns the PrometheusRules by namespace/name.
func rulesOf(res *stackrun.Result) map[string]*recorder.Resource {
	out := map[string]*recorder.Resource{}
	for _, r := range res.Recorder.OfType(ruleType) {
		out[r.String("metadata.namespace")+"/"+r.String("metadata.name")] = r
	}
	return out
}

// objective reads the recorded objective of an SLO from a rule.
func objective(t *testing.T, r *recorder.Resource, slo string) string {
	t.Helper()
	for g := 0; ; g++ {
		if _, ok := r.Input(fmt.Sprintf("spec.groups[%d]", g)); !ok {
			break
		}
		for i := 0; ; i++ {
			at := fmt.Sprintf("spec.groups[%d].rules[%d]", g, i)
			if _, ok := r.Input(at); !ok {
				break
			}
			if r.String(at+".record") == "slo:objective:ratio" && r.String(at+".labels.slo") == slo {
				return r.String(at + ".expr")
			}
		}
	}
	t.Errorf("%s: no objective for the %s SLO", r.Name, slo)
	return ""
}

// TestOwnerShipsDashboardsAndRules: the stack that owns the monitoring
// stack ships the dashboards, labelled for the Grafana sidecar with their
// folder, and the platform rules, labelled as its Prometheus selects them.
func TestOwnerShipsDashboardsAndRules(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat"})
	mon := releases(t, res)["kube-prometheus-stack"]
	selector := map[string]string{"release": mon.String("values.prometheus.prometheusSpec.ruleSelector.matchLabels.release")}
	if selector["release"] != "kube-prometheus-stack" {
		t.Fatalf("Prometheus selects rules by %v", selector)
	}
	sidecarLabel := mon.String("values.grafana.sidecar.dashboards.label")
	sidecarValue := mon.String("values.grafana.sidecar.dashboards.labelValue")
	folderAnnotation := mon.String("values.grafana.sidecar.dashboards.folderAnnotation")

	var dashboards []string
	for _, cm := range res.Recorder.OfType(configMapType) {
		if cm.String("metadata.labels."+sidecarLabel) != sidecarValue {
			continue
		}
		name := cm.String("metadata.name")
		dashboards = append(dashboards, name)
		if cm.String("metadata.namespace") != "monitoring" || cm.String("metadata.annotations."+folderAnnotation) == "" {
			t.Errorf("dashboard %s: namespace %q, folder %q", name, cm.String("metadata.namespace"), cm.String("metadata.annotations."+folderAnnotation))
		}
		if body := cm.String(`data["` + name + `.json"]`); !strings.Contains(body, `"uid": "`+name+`"`) {
			t.Errorf("dashboard %s: data lacks the dashboard model", name)
		}
	}
	slices.Sort(dashboards)
	if want := []string{"camps-applications", "camps-cluster", "camps-ingress", "camps-postgres", "camps-slo"}; !slices.Equal(dashboards, want) {
		t.Errorf("dashboards = %v, want %v", dashboards, want)
	}

	rules := rulesOf(res)
	if len(rules) != 2 || rules["monitoring/camps-platform"] == nil || rules["uat/slo"] == nil {
		t.Fatalf("uat's rules = %v, want the platform's and uat's SLOs", keysOf(rules))
	}
	for name, r := range rules {
		for k, v := range selector {
			if got := r.String("metadata.labels." + k); got != v {
				t.Errorf("rule %s: label %s = %q; Prometheus selects %q", name, k, got, v)
			}
		}
		if !slices.Contains(r.Dependencies, mon.URN) {
			t.Errorf("rule %s does not wait for the monitoring release (its CRDs)", name)
		}
	}
}

// TestSLOsPerStackAndPhase: each stack records its own namespace's SLOs,
// with the phase's targets, and probes its own public hosts; an attached
// stack adds only those.
func TestSLOsPerStackAndPhase(t *testing.T) {
	tests := []struct {
		stack, phase         string
		namespace            string
		availability         string
		page                 bool
		latency              string
		threshold            string
		urls                 []string
		platformRules        bool
		ownDashboards, rules int
	}{
		{"uat", "1", "uat", "0.995", false, "0.9", `le=~"200(\\.0)?"`, []string{"https://uat.camps.ch/"}, true, 5, 2},
		{"uat", "2", "uat", "0.995", false, "0.9", `le=~"200(\\.0)?"`, []string{"https://uat.camps.ch/"}, true, 5, 2},
		{"prod", "1", "production", "0.995", true, "0.9", `le=~"200(\\.0)?"`, []string{"https://camps.ch/", "https://www.camps.ch/"}, false, 0, 1},
		{"prod", "2", "production", "0.999", true, "0.95", `le=~"100(\\.0)?"`, []string{"https://camps.ch/", "https://www.camps.ch/"}, true, 5, 2},
	}
	for _, tt := range tests {
		t.Run(tt.stack+" phase "+tt.phase, func(t *testing.T) {
			res := mustRun(t, stackrun.Options{Stack: tt.stack, Set: map[string]string{key("phase"): tt.phase}})
			rules := rulesOf(res)
			if len(rules) != tt.rules {
				t.Fatalf("rules = %v, want %d", keysOf(rules), tt.rules)
			}
			if _, ok := rules["monitoring/camps-platform"]; ok != tt.platformRules {
				t.Errorf("platform rules present: %v, want %v", ok, tt.platformRules)
			}
			dashboards := 0
			for _, cm := range res.Recorder.OfType(configMapType) {
				if cm.String("metadata.labels.grafana_dashboard") == "1" {
					dashboards++
				}
			}
			if dashboards != tt.ownDashboards {
				t.Errorf("%d dashboards, want %d", dashboards, tt.ownDashboards)
			}
			slo := rules[tt.namespace+"/slo"]
			if slo == nil {
				t.Fatalf("no SLO rules in %s", tt.namespace)
			}
			if got := slo.String("metadata.labels.release"); got != "kube-prometheus-stack" {
				t.Errorf("SLO rules labelled release=%q", got)
			}
			if got := objective(t, slo, "availability"); got != tt.availability {
				t.Errorf("availability objective %s, want %s", got, tt.availability)
			}
			if got := objective(t, slo, "latency"); got != tt.latency {
				t.Errorf("latency objective %s, want %s", got, tt.latency)
			}
			if expr := slo.String("spec.groups[2].rules[1].expr"); !strings.Contains(expr, tt.threshold) ||
				!strings.Contains(expr, `resource_namespace="`+tt.namespace+`"`) {
				t.Errorf("latency SLI does not read %s of %s: %s", tt.threshold, tt.namespace, expr)
			}
			pages := false
			for g := 0; g < 4; g++ {
				for i := 0; ; i++ {
					at := fmt.Sprintf("spec.groups[%d].rules[%d]", g, i)
					if _, ok := slo.Input(at); !ok {
						break
					}
					pages = pages || slo.String(at+".labels.severity") == "critical"
				}
			}
			if pages != tt.page {
				t.Errorf("SLO alerts page: %v, want %v", pages, tt.page)
			}
			var probes []*recorder.Resource
			for _, p := range res.Recorder.OfType(probeType) {
				if p.String("metadata.name") == "public-hosts" {
					probes = append(probes, p)
				}
			}
			if len(probes) != 1 {
				t.Fatalf("%d probes of the public hosts, want 1", len(probes))
			}
			p := probes[0]
			var urls []string
			for i := 0; ; i++ {
				u := p.String(fmt.Sprintf("spec.targets.staticConfig.static[%d]", i))
				if u == "" {
					break
				}
				urls = append(urls, u)
			}
			if !slices.Equal(urls, tt.urls) || p.String("metadata.namespace") != tt.namespace ||
				p.String("spec.prober.url") != "blackbox-exporter.monitoring.svc:9115" || p.String("spec.module") != "https_2xx" {
				t.Errorf("probe %s/%s of %v via %s module %s", p.String("metadata.namespace"), p.Name, urls,
					p.String("spec.prober.url"), p.String("spec.module"))
			}
		})
	}
}

// TestWatchOtherCluster: each stack's own cluster probes the other's
// public hosts; a stack on another's platform probes nothing.
func TestWatchOtherCluster(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts stackrun.Options
		want []string
	}{
		{"uat watches prod", stackrun.Options{Stack: "uat"}, []string{"https://camps.ch/", "https://www.camps.ch/"}},
		{"prod phase 2 watches uat", stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}}, []string{"https://uat.camps.ch/"}},
		{"prod phase 1 has no platform to probe from", stackrun.Options{Stack: "prod"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, tt.opts)
			var urls []string
			for _, p := range res.Recorder.OfType(probeType) {
				if p.String("metadata.name") != "watched-hosts" {
					continue
				}
				for i := 0; ; i++ {
					u := p.String(fmt.Sprintf("spec.targets.staticConfig.static[%d]", i))
					if u == "" {
						break
					}
					urls = append(urls, u)
				}
				if p.String("spec.targets.staticConfig.labels.watched") != "true" || p.String("metadata.namespace") != "monitoring" {
					t.Errorf("the watch probe is not labelled for WatchedHostDown, or not in monitoring: %v", p.Inputs)
				}
			}
			if !slices.Equal(urls, tt.want) {
				t.Errorf("watched %v, want %v", urls, tt.want)
			}
		})
	}
}

// TestAlertRouting: the Alertmanager configuration routes by severity to
// the receivers the configuration names.
func TestAlertRouting(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat",
		Secrets: withOperatorValues(map[string]string{key("alertmanagerReceivers"): "- name: pager\n  webhook_configs: [{url: 'https://pager.example/x'}]\n- name: chat\n  webhook_configs: [{url: 'https://chat.example/x'}]\n"}),
		Set:     map[string]string{key("platform"): `{"monitoring": {"grafanaHost": "grafana-uat.camps.ch", "alertRoutes": {"critical": ["pager", "chat"], "warning": ["chat"]}}}`},
	})
	secret, ok := res.Recorder.Find("kubernetes:core/v1:Secret", "kube-prometheus-stack-alertmanager-config")
	if !ok {
		t.Fatal("no Alertmanager configuration")
	}
	if !secret.IsSecret("stringData") {
		t.Error("the Alertmanager configuration is not secret")
	}
	config := secret.String(`stringData["alertmanager.yaml"]`)
	for _, want := range []string{"receiver: pager", "receiver: chat", `severity = "critical"`, `severity =~ "warning|"`} {
		if !strings.Contains(config, want) {
			t.Errorf("configuration lacks %q:\n%s", want, config)
		}
	}
}
