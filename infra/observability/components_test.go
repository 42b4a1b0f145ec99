package observability

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

var labels = map[string]string{"release": "kube-prometheus-stack"}

func goodSLO() *SLOArgs {
	return &SLOArgs{
		Objectives: SLOs{Namespace: "uat", Availability: 0.995, LatencyObjective: 0.9, LatencyThresholdMs: 200},
		URLs:       []string{"https://uat.camps.ch/"}, Prober: "blackbox:9115", Module: "https_2xx", RuleLabels: labels,
	}
}

func TestComponentsRefuseBadArgs(t *testing.T) {
	tests := []struct {
		name string
		new  func(ctx *pulumi.Context) error
		want string
	}{
		{"platform without args", func(ctx *pulumi.Context) error {
			_, err := NewPlatform(ctx, "o", nil)
			return err
		}, "args are required"},
		{"platform without labels", func(ctx *pulumi.Context) error {
			_, err := NewPlatform(ctx, "o", &PlatformArgs{Namespace: pulumi.String("monitoring")})
			return err
		}, "the rule labels, dashboard labels and folder annotation are required"},
		{"SLO without URLs", func(ctx *pulumi.Context) error {
			a := goodSLO()
			a.URLs = nil
			_, err := NewSLO(ctx, "s", a)
			return err
		}, "at least one URL to probe is required"},
		{"SLO over plain HTTP", func(ctx *pulumi.Context) error {
			a := goodSLO()
			a.URLs = []string{"http://uat.camps.ch/"}
			_, err := NewSLO(ctx, "s", a)
			return err
		}, `probe URL "http://uat.camps.ch/" is not an https:// URL`},
		{"SLO with a bad threshold", func(ctx *pulumi.Context) error {
			a := goodSLO()
			a.Objectives.LatencyThresholdMs = 250
			_, err := NewSLO(ctx, "s", a)
			return err
		}, "latency threshold 250 ms is not a bucket"},
	}
	for _, tt := range tests {
		rec := recorder.New("p", "s", nil)
		err := pulumi.RunErr(tt.new, pulumi.WithMocks("p", "s", rec))
		if err == nil || !strings.Contains(err.Error(), tt.want) || rec.Len() != 0 {
			t.Errorf("%s: err = %v (%d resources), want %q and none", tt.name, err, rec.Len(), tt.want)
		}
	}
}

func TestPlatformShipsDashboardsAndRules(t *testing.T) {
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewPlatform(ctx, "observability", &PlatformArgs{
			Namespace: pulumi.String("monitoring"), RuleLabels: labels,
			DashboardLabels: map[string]string{"grafana_dashboard": "1"}, FolderAnnotation: "grafana_folder",
		})
		return err
	}, pulumi.WithMocks("p", "s", rec))
	if err != nil {
		t.Fatal(err)
	}
	folders := map[string]string{}
	for _, cm := range rec.OfType("kubernetes:core/v1:ConfigMap") {
		if cm.String("metadata.labels.grafana_dashboard") != "1" || cm.String("metadata.namespace") != "monitoring" {
			t.Errorf("%s: not labelled for the sidecar in monitoring", cm.Name)
		}
		folders[cm.String("metadata.name")] = cm.String("metadata.annotations.grafana_folder")
	}
	want := map[string]string{"camps-cluster": FolderPlatform, "camps-ingress": FolderPlatform,
		"camps-applications": FolderApplications, "camps-slo": FolderApplications, "camps-postgres": FolderData}
	if len(folders) != len(want) {
		t.Errorf("dashboards %v, want %v", folders, want)
	}
	for name, folder := range want {
		if folders[name] != folder {
			t.Errorf("dashboard %s in folder %q, want %q", name, folders[name], folder)
		}
	}
	rules := rec.OfType("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
	if len(rules) != 1 || rules[0].String("metadata.labels.release") != "kube-prometheus-stack" ||
		rules[0].String("spec.groups[0].rules[0].alert") != "PodRestartingOften" {
		t.Errorf("platform rules = %v", rules)
	}
}

func TestSLOProbesAndRecords(t *testing.T) {
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewSLO(ctx, "slo-uat", goodSLO())
		return err
	}, pulumi.WithMocks("p", "s", rec))
	if err != nil {
		t.Fatal(err)
	}
	probe, ok := rec.Find("kubernetes:monitoring.coreos.com/v1:Probe", "slo-uat-probe")
	if !ok {
		t.Fatal("no Probe")
	}
	for _, m := range probe.Mismatches(map[string]string{
		"metadata.namespace":                         "uat",
		"spec.prober.url":                            "blackbox:9115",
		"spec.module":                                "https_2xx",
		"spec.interval":                              "30s",
		"spec.targets.staticConfig.static[0]":        "https://uat.camps.ch/",
		"spec.targets.staticConfig.labels.namespace": "uat",
	}) {
		t.Error("probe " + m)
	}
	rules, ok := rec.Find("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "slo-uat-rules")
	if !ok || rules.String("metadata.namespace") != "uat" || rules.String("spec.groups[0].name") != "slo.uat.availability" {
		t.Errorf("SLO rules = %+v", rules)
	}
}
