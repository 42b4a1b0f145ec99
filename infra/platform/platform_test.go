package platform

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/internal/recorder"
)

func TestRequests(t *testing.T) {
	got := convention.RequestsOf(3, convention.NewResources("100m", "128Mi", "1", "1Gi"), convention.NewResources("0.5", "1Gi", "", ""))
	if got.MilliCPU != 1800 || got.Memory != 3*(128<<20+1<<30) {
		t.Errorf("requests = %+v", got)
	}
	if s := (convention.Requests{MilliCPU: 1500, Memory: 2 << 30}).String(); s != "1500m CPU, 2048Mi memory" {
		t.Errorf("String = %q", s)
	}
}

// TestChartAlertsThatMustReachSomeone: the chart's node CPU saturation
// alert (info by default) is raised to warning through the chart's
// customRules, so the warning route above reaches a receiver.
func TestChartAlertsThatMustReachSomeone(t *testing.T) {
	v := (&MonitoringArgs{}).values("kube-prometheus-stack")
	if got := v.CustomRules["NodeCPUHighUsage"].Severity; got != "warning" {
		t.Errorf("NodeCPUHighUsage severity = %q, want warning", got)
	}
}

// TestLatencyHistogramIsOn: the latency SLO and the ingress dashboard
// read the controller's upstream latency histogram, which the F5 chart
// emits only with controller.enableLatencyMetrics and prometheus.create
// (its -enable-latency-metrics and -enable-prometheus-metrics flags).
func TestLatencyHistogramIsOn(t *testing.T) {
	a := &IngressArgs{Replicas: 1, CloudflareRanges: []string{"173.245.48.0/20"}, OriginLock: true}
	v := a.values("nginx-ingress", "")
	if !v.Controller.EnableLatencyMetrics || !v.Prometheus.Create {
		t.Errorf("latency metrics %v, prometheus %v: the SLOs' histogram would not exist", v.Controller.EnableLatencyMetrics, v.Prometheus.Create)
	}
}

func TestLonghornSizing(t *testing.T) {
	tests := []struct {
		replicas, nodes int
		soft            bool
		csi, ui         int
	}{
		{2, 1, true, 1, 1},
		{3, 3, false, 3, 2},
		{3, 2, true, 2, 2},
		{2, 5, false, 3, 2},
	}
	for _, tt := range tests {
		a := &LonghornArgs{Replicas: tt.replicas, Nodes: tt.nodes, NodeMilliCPU: 4000, Snapshot: RecurringJob{"0 2 * * *", 7}}
		v, err := a.values()
		if err != nil {
			t.Fatal(err)
		}
		if v.DefaultSettings.ReplicaSoftAntiAffinity != tt.soft || v.CSI.AttacherReplicaCount != tt.csi || v.LonghornUI.Replicas != tt.ui {
			t.Errorf("%d replicas on %d nodes: soft %v csi %d ui %d; want %v %d %d", tt.replicas, tt.nodes,
				v.DefaultSettings.ReplicaSoftAntiAffinity, v.CSI.AttacherReplicaCount, v.LonghornUI.Replicas, tt.soft, tt.csi, tt.ui)
		}
		var csi map[string]convention.Resources
		if err := json.Unmarshal([]byte(v.DefaultSettings.SystemManagedCSIComponentsResourceLimits), &csi); err != nil || len(csi) != 7 {
			t.Errorf("CSI resource limits %q: %v", v.DefaultSettings.SystemManagedCSIComponentsResourceLimits, err)
		}
		// The instance manager reserves 12 % of each node's 4000m.
		if got := a.Requests().MilliCPU; got < int64(tt.nodes)*480 {
			t.Errorf("%d nodes: %dm requested, less than the instance managers' reservation", tt.nodes, got)
		}
	}
}

func TestAlertmanagerConfig(t *testing.T) {
	receivers := []map[string]any{
		{"name": "pager", "webhook_configs": []any{map[string]any{"url": "https://pager.example/hook"}}},
		{"name": "chat", "webhook_configs": []any{map[string]any{"url": "https://chat.example/hook"}}},
		{"name": "mail", "email_configs": []any{map[string]any{"to": "ops@example.org", "from": "am@example.org", "smarthost": "smtp.example.org:587"}}},
	}
	routed, err := AlertmanagerConfig(receivers, AlertRoutes{Critical: []string{"pager", "chat"}, Warning: []string{"chat"}})
	if err != nil {
		t.Fatal(err)
	}
	everyone, err := AlertmanagerConfig(receivers, AlertRoutes{})
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := AlertmanagerConfig(nil, AlertRoutes{})
	if err != nil {
		t.Fatal(err)
	}
	heartbeat, err := AlertmanagerConfig(receivers, AlertRoutes{Warning: []string{"chat"}, HeartbeatURL: "https://hc.example/ping/key"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, config string
		labels       []string
		want         string
	}{
		{"critical to its receivers", routed, []string{"alertname=PostgresDown", "severity=critical"}, "pager,chat"},
		{"warning to its receiver", routed, []string{"alertname=PodRestartingOften", "severity=warning"}, "chat"},
		{"no severity is a warning", routed, []string{"alertname=Custom"}, "chat"},
		{"info goes nowhere", routed, []string{"alertname=CPUThrottlingHigh", "severity=info"}, "null"},
		{"the Watchdog goes nowhere", routed, []string{"alertname=Watchdog", "severity=none"}, "null"},
		{"default: critical to everyone", everyone, []string{"alertname=X", "severity=critical"}, "pager,chat,mail"},
		{"default: warning to everyone", everyone, []string{"alertname=X", "severity=warning"}, "pager,chat,mail"},
		{"no receivers", nobody, []string{"alertname=X", "severity=critical"}, "null"},
		{"the Watchdog to the heartbeat", heartbeat, []string{"alertname=Watchdog", "severity=none"}, HeartbeatReceiver},
		{"the InfoInhibitor still nowhere", heartbeat, []string{"alertname=InfoInhibitor", "severity=none"}, "null"},
		{"node CPU saturation, raised to warning, reaches the warning receivers", routed, []string{"alertname=NodeCPUHighUsage", "severity=warning"}, "chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := amtoolRoutes(t, tt.config, tt.labels); got != tt.want {
				t.Errorf("%v routed to %q, want %q\n%s", tt.labels, got, tt.want, tt.config)
			}
		})
	}

	var doc struct {
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
			Equal          []string
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal([]byte(routed), &doc); err != nil {
		t.Fatal(err)
	}
	if r := doc.InhibitRules[0]; r.SourceMatchers[0] != `severity = "critical"` || !strings.Contains(r.TargetMatchers[0], "warning") ||
		!slices.Contains(r.Equal, "alertname") || !slices.Contains(r.Equal, "namespace") {
		t.Errorf("warnings are not inhibited by criticals of the same alert: %+v", r)
	}

	for _, bad := range []struct {
		receivers []map[string]any
		routes    AlertRoutes
	}{
		{[]map[string]any{{}}, AlertRoutes{}},
		{[]map[string]any{{"name": "null"}}, AlertRoutes{}},
		{[]map[string]any{{"name": "a"}, {"name": "a"}}, AlertRoutes{}},
		{receivers, AlertRoutes{Critical: []string{"pagr"}}},
		{receivers, AlertRoutes{Warning: []string{"null"}}},
	} {
		if _, err := AlertmanagerConfig(bad.receivers, bad.routes); err == nil {
			t.Errorf("%v %v: want an error", bad.receivers, bad.routes)
		}
	}
}

// amtoolRoutes checks an Alertmanager configuration with amtool and
// returns the receivers an alert with labels is routed to. Without amtool
// (Debian's prometheus-alertmanager) the test is skipped, but not in CI.
func amtoolRoutes(t *testing.T, config string, labels []string) string {
	t.Helper()
	if _, err := exec.LookPath("amtool"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("amtool is missing; .ci/run installs prometheus-alertmanager")
		}
		t.Skip("amtool is not installed")
	}
	file := filepath.Join(t.TempDir(), "alertmanager.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("amtool", "check-config", file).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	// amtool warns on stderr that the file overrides a server URL.
	out, err := exec.Command("amtool", append([]string{"config", "routes", "test", "--config.file=" + file}, labels...)...).Output()
	if err != nil {
		t.Fatalf("amtool config routes test: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestRetentionSize(t *testing.T) {
	for size, want := range map[string]string{"8Gi": "6GiB", "10Gi": "8GiB", "100Gi": "85GiB", "1Gi": "1GiB"} {
		if got := (&MonitoringArgs{StorageSize: size}).retentionSize(); got != want {
			t.Errorf("retentionSize(%s) = %s, want %s", size, got, want)
		}
	}
}

func TestComponentsRefuseIncompleteArgs(t *testing.T) {
	tests := []struct {
		name string
		new  func(ctx *pulumi.Context) error
		want string
	}{
		{"ingress without ranges", func(ctx *pulumi.Context) error {
			_, err := NewIngress(ctx, "i", &IngressArgs{Replicas: 1})
			return err
		}, "the Cloudflare ranges are required"},
		{"ingress with a bad network", func(ctx *pulumi.Context) error {
			_, err := NewIngress(ctx, "i", &IngressArgs{Replicas: 1, CloudflareRanges: []string{"1.2.3.0/24"}, LoadBalancerNetworks: []string{"10/8"}})
			return err
		}, `range "10/8"`},
		{"origin lock with IPv6 ranges only", func(ctx *pulumi.Context) error {
			_, err := NewIngress(ctx, "i", &IngressArgs{Replicas: 1, OriginLock: true, CloudflareRanges: []string{"2400:cb00::/32"}})
			return err
		}, "the origin lock needs at least one IPv4 Cloudflare range"},
		{"cert-manager without a token", func(ctx *pulumi.Context) error {
			_, err := NewCertManager(ctx, "c", &CertManagerArgs{})
			return err
		}, "a Cloudflare API token is required"},
		{"longhorn without a snapshot schedule", func(ctx *pulumi.Context) error {
			_, err := NewLonghorn(ctx, "l", &LonghornArgs{Replicas: 1, Nodes: 1})
			return err
		}, "the snapshot job needs a schedule and a retention"},
		{"monitoring without alerting", func(ctx *pulumi.Context) error {
			_, err := NewMonitoring(ctx, "m", &MonitoringArgs{Retention: "10d", StorageSize: "8Gi", StorageClass: "longhorn", PrometheusReplicas: 1,
				Nodes: 1, GrafanaHost: "g", IngressClass: "nginx", ClusterIssuer: "x"})
			return err
		}, "an Alertmanager configuration is required"},
		{"blackbox without a namespace", func(ctx *pulumi.Context) error {
			_, err := NewBlackbox(ctx, "b", &BlackboxArgs{})
			return err
		}, "the monitoring namespace is required"},
	}
	for _, tt := range tests {
		rec := recorder.New("p", "s", nil)
		err := pulumi.RunErr(tt.new, pulumi.WithMocks("p", "s", rec))
		if err == nil || !strings.Contains(err.Error(), tt.want) || rec.Len() != 0 {
			t.Errorf("%s: err = %v (%d resources), want %q and none", tt.name, err, rec.Len(), tt.want)
		}
	}
}
