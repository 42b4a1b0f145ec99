package platform

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

func TestRequests(t *testing.T) {
	got := requestsOf(3, res("100m", "128Mi", "1", "1Gi"), res("0.5", "1Gi", "", ""))
	if got.MilliCPU != 1800 || got.Memory != 3*(128<<20+1<<30) {
		t.Errorf("requests = %+v", got)
	}
	if s := (Requests{1500, 2 << 30}).String(); s != "1500m CPU, 2048Mi memory" {
		t.Errorf("String = %q", s)
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
		var csi map[string]Resources
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
	cfg, err := AlertmanagerConfig([]map[string]any{{"name": "team", "webhook_configs": []any{map[string]any{"url": "https://x"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Route struct {
			Receiver string
			Routes   []struct {
				Receiver string
				Matchers []string
			}
		}
		InhibitRules []map[string]any `yaml:"inhibit_rules"`
		Receivers    []map[string]any
	}
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Route.Receiver != "team" || len(doc.Receivers) != 2 || len(doc.InhibitRules) != 3 {
		t.Errorf("config = %s", cfg)
	}
	if len(doc.Route.Routes) != 2 || doc.Route.Routes[0].Receiver != "null" || doc.Route.Routes[0].Matchers[0] != `alertname = "Watchdog"` {
		t.Errorf("the Watchdog is not silenced: %+v", doc.Route.Routes)
	}
	none, _ := AlertmanagerConfig(nil)
	if !strings.Contains(none, "receiver: \"null\"") && !strings.Contains(none, "receiver: 'null'") {
		t.Errorf("without receivers alerts should go to null:\n%s", none)
	}
	for _, bad := range [][]map[string]any{{{}}, {{"name": "null"}}, {{"name": "a"}, {"name": "a"}}} {
		if _, err := AlertmanagerConfig(bad); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
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
	}
	for _, tt := range tests {
		rec := recorder.New("p", "s", nil)
		err := pulumi.RunErr(tt.new, pulumi.WithMocks("p", "s", rec))
		if err == nil || !strings.Contains(err.Error(), tt.want) || rec.Len() != 0 {
			t.Errorf("%s: err = %v (%d resources), want %q and none", tt.name, err, rec.Len(), tt.want)
		}
	}
}
