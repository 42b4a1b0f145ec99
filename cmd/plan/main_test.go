package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/internal/plan"
)

func plan_(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(append([]string{"-dir", "../.."}, args...), &out, io.Discard); err != nil {
		t.Fatalf("plan %v: %v", args, err)
	}
	return out.String()
}

func TestPlanUatJSON(t *testing.T) {
	var doc plan.Document
	if err := json.Unmarshal([]byte(plan_(t, "-stack", "uat", "-format", "json")), &doc); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, r := range doc.Resources {
		types[r.Type]++
		if r.Type == "kubernetes:core/v1:Secret" && r.Inputs["type"] != "kubernetes.io/service-account-token" && r.Inputs["stringData"] != plan.Redacted {
			t.Errorf("secret %s not redacted: %v", r.Name, r.Inputs["stringData"])
		}
	}
	if types["infomaniak:kaas:Cluster"] != 1 || types["infomaniak:kaas:InstancePool"] != 1 {
		t.Errorf("uat plan has %v, want one KaaS cluster and pool", types)
	}
	if doc.Outputs["adminKubeconfig"] != plan.Redacted || doc.Outputs["deployerKubeconfigs"] != plan.Redacted || doc.Outputs["clusterMode"] != "create" {
		t.Errorf("outputs = %v", doc.Outputs)
	}
	if len(doc.CriticalPath) < 5 {
		t.Errorf("critical path %v is too short", doc.CriticalPath)
	}
	if types["kubernetes:helm.sh/v3:Release"] != 9 {
		t.Errorf("uat plans %d Helm releases, want 9", types["kubernetes:helm.sh/v3:Release"])
	}
	for _, r := range doc.Resources {
		if r.Type != "kubernetes:helm.sh/v3:Release" {
			continue
		}
		values, _ := r.Inputs["values"].(map[string]any)
		if r.Inputs["chart"] == "" || r.Inputs["version"] == "" || r.Inputs["namespace"] == "" || len(values) == 0 {
			t.Errorf("release %s lacks chart, version, namespace or values: %v", r.Name, r.Inputs)
		}
	}
	budget, _ := doc.Budget.(map[string]any)
	total, _ := budget["total"].(map[string]any)
	if total["milliCpu"] == nil || total["memoryBytes"] == nil || budget["capacity"] == nil || budget["components"] == nil {
		t.Errorf("budget = %v, want totals, capacity and components", doc.Budget)
	}
}

func TestPlanProdText(t *testing.T) {
	out := plan_(t, "-stack", "prod")
	for _, want := range []string{
		"pulumi:pulumi:StackReference organization/camps-infra/uat  name=organization/camps-infra/uat  [read]",
		"camps:tenancy:Namespace production (13 resources)",
		`clusterMode = "attach"`,
		`adminKubeconfig = "[secret]"`,
		`deployerKubeconfigs = "[secret]"`,
		"critical path: 5 steps",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("prod plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "infomaniak:kaas") {
		t.Error("prod phase 1 plans KaaS resources")
	}
}

func TestPlanProdPhase2(t *testing.T) {
	out := plan_(t, "-stack", "prod", "-set", "camps-infra:phase=2")
	for _, zone := range []string{"az-1", "az-2", "az-3"} {
		if !strings.Contains(out, "availabilityZone="+zone) {
			t.Errorf("phase 2 plan has no pool in %s", zone)
		}
	}
	if !strings.Contains(out, "name=camps-prod") || strings.Contains(out, "StackReference") {
		t.Errorf("phase 2 prod should create camps-prod without a stack reference:\n%s", out)
	}
}

func TestPlanMermaid(t *testing.T) {
	out := plan_(t, "-stack", "prod", "-format", "mermaid")
	for _, want := range []string{"graph LR", `[["camps:cluster:Cluster cluster (1)"]]`, "-->"} {
		if !strings.Contains(out, want) {
			t.Errorf("mermaid lacks %q:\n%s", want, out)
		}
	}
}

func TestPlanRejectsBadArguments(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "-stack is required"},
		{[]string{"-stack", "uat", "-format", "yaml"}, `-format "yaml": use text, json or mermaid`},
		{[]string{"-stack", "uat", "-set", "phase"}, `"phase" is not KEY=VALUE`},
		{[]string{"-stack", "uat", "-set", "phase=2"}, `name the key with its namespace`},
		{[]string{"-stack", "uat", "-set", "camps-infra:phase=5"}, `camps-infra:phase: 5 is not a phase`},
		{[]string{"-stack", "staging"}, "Pulumi.staging.yaml"},
	}
	for _, tt := range tests {
		err := run(append([]string{"-dir", "../.."}, tt.args...), &bytes.Buffer{}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("plan %v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}
