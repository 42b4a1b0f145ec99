package observability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// ruleFiles are the rule files the promtool tests in testdata load: the
// platform's rules and production's SLOs of each phase (the presets of
// stacks: 99.5 % and p90 < 200 ms on one node, 99.9 % and p95 < 100 ms on
// the HA cluster).
var ruleFiles = map[string][]RuleGroup{
	"platform.rules.yaml":   PlatformRules(RuleOptions{LonghornBackups: true, OpenBaoNamespace: "openbao"}),
	"slo-phase1.rules.yaml": SLOs{Namespace: "production", Availability: 0.995, LatencyObjective: 0.90, LatencyThresholdMs: 200, Page: true}.Rules(),
	"slo-phase2.rules.yaml": SLOs{Namespace: "production", Availability: 0.999, LatencyObjective: 0.95, LatencyThresholdMs: 100, Page: true}.Rules(),
	// uat: every burn a warning.
	"slo-uat.rules.yaml": SLOs{Namespace: "uat", Availability: 0.995, LatencyObjective: 0.90, LatencyThresholdMs: 200}.Rules(),
}

// promtool finds promtool (Debian's prometheus package); without it the
// test is skipped on a workstation and fails in CI.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is missing; .ci/run installs Debian's prometheus package")
		}
		t.Skip("promtool is not installed")
	}
	return path
}

// writeRuleFiles writes ruleFiles and the promtool tests into a new
// directory and returns it.
func writeRuleFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, groups := range ruleFiles {
		b, err := yaml.Marshal(map[string]any{"groups": groups})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests, _ := filepath.Glob("testdata/*.test.yaml")
	for _, f := range tests {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPromtool checks the rule files with promtool and runs the unit tests
// of testdata against them.
func TestPromtool(t *testing.T) {
	bin := promtool(t)
	dir := writeRuleFiles(t)
	run := func(args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
	for name := range ruleFiles {
		run("check", "rules", name)
	}
	tests, _ := filepath.Glob(filepath.Join(dir, "*.test.yaml"))
	if len(tests) != 7 {
		t.Fatalf("found %d promtool test files, want 7", len(tests))
	}
	for _, f := range tests {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin, "test", "rules", name)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool test rules %s: %v\n%s", name, err, out)
			}
		})
	}
}

// promtoolTests is the part of a promtool test file this test reads.
type promtoolTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsTested checks that the promtool tests of each rule file
// see every alert fire at each of its severities, and stay silent at
// least once.
func TestEveryAlertIsTested(t *testing.T) {
	fires := map[string]bool{}  // file|alert|severity
	silent := map[string]bool{} // file|alert
	tests, _ := filepath.Glob("testdata/*.test.yaml")
	for _, f := range tests {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc promtoolTests
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, rf := range doc.RuleFiles {
			for _, tc := range doc.Tests {
				for _, a := range tc.AlertRuleTest {
					if len(a.ExpAlerts) == 0 {
						silent[rf+"|"+a.Alertname] = true
					}
					for _, e := range a.ExpAlerts {
						fires[fmt.Sprintf("%s|%s|%s|%s|%s", rf, a.Alertname, e.ExpLabels["severity"], e.ExpLabels["slo"], e.ExpLabels["burn"])] = true
					}
				}
			}
		}
	}
	for file, groups := range ruleFiles {
		for _, r := range Alerts(groups) {
			if !fires[fmt.Sprintf("%s|%s|%s|%s|%s", file, r.Alert, r.Labels["severity"], r.Labels["slo"], r.Labels["burn"])] {
				t.Errorf("%s: no promtool test sees %s fire at severity %s %s %s", file, r.Alert, r.Labels["severity"], r.Labels["slo"], r.Labels["burn"])
			}
			if !silent[file+"|"+r.Alert] {
				t.Errorf("%s: no promtool test sees %s stay silent", file, r.Alert)
			}
		}
	}
}
