package stacks

import (
	"errors"
	"strings"
	"testing"
)

func source(values map[string]string, secrets ...string) MapSource {
	m := MapSource{Values: map[string]string{}, Secrets: map[string]bool{}}
	for k, v := range values {
		m.Values[FullKey(k)] = v
	}
	for _, k := range secrets {
		m.Secrets[FullKey(k)] = true
	}
	return m
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name      string
		values    map[string]string
		mode      string
		install   bool
		pools     int
		clusterNm string
	}{
		{"empty config creates a phase 1 cluster", nil, ModeCreate, true, 1, "camps-dev"},
		{"phase 2 creates three pools", map[string]string{KeyPhase: "2"}, ModeCreate, true, 3, "camps-dev"},
		{"attach stack in phase 1 attaches", map[string]string{KeyCluster: `{"attachStack":"uat"}`}, ModeAttach, false, 1, ""},
		{"attach stack in phase 2 creates", map[string]string{KeyPhase: "2", KeyCluster: `{"attachStack":"uat"}`}, ModeCreate, true, 3, "camps-dev"},
		{"explicit attach in phase 2 attaches", map[string]string{KeyPhase: "2", KeyCluster: `{"mode":"attach","attachStack":"uat"}`}, ModeAttach, false, 3, ""},
		{"kubeconfig attaches and installs", map[string]string{KeyKubeconfig: "clusters: [{name: dev, cluster: {server: https://127.0.0.1:6443}}]"}, ModeAttach, true, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := map[string]string{KeyDNSToken: "token", KeyPlatform: `{"monitoring":{"grafanaHost":"grafana.dev.camps.ch"}}`}
			for k, v := range tt.values {
				values[k] = v
			}
			c, err := Load(source(values, KeyKubeconfig, KeyDNSToken), "dev")
			if err != nil {
				t.Fatal(err)
			}
			if reserve := *c.Edge.ReserveIP; reserve != (tt.install && tt.mode == ModeCreate) {
				t.Errorf("edge.reserveIp = %v for mode %s, install %v", reserve, tt.mode, tt.install)
			}
			if c.Cluster.Mode != tt.mode || *c.Platform.Install != tt.install || len(c.Cluster.Pools) != tt.pools || c.Cluster.Name != tt.clusterNm {
				t.Errorf("mode %s install %v pools %d name %q; want %s %v %d %q",
					c.Cluster.Mode, *c.Platform.Install, len(c.Cluster.Pools), c.Cluster.Name, tt.mode, tt.install, tt.pools, tt.clusterNm)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("hunter22")
	for _, got := range []string{s.String(), s.GoString()} {
		if strings.Contains(got, "hunter22") {
			t.Errorf("secret printed as %q", got)
		}
	}
	b, _ := s.MarshalJSON()
	if strings.Contains(string(b), "hunter22") {
		t.Errorf("secret marshalled as %s", b)
	}
	if s.Reveal() != "hunter22" || !s.IsSet() || NewSecret("").IsSet() {
		t.Error("Reveal or IsSet is wrong")
	}
}

// FuzzLoad feeds arbitrary values to every structured key: Load must never
// panic, must fail with key-named problems, and whatever it accepts must
// be whole and consistent.
func FuzzLoad(f *testing.F) {
	f.Add("1", `{"mode":"create","pools":[{"name":"p","zone":"az-1","minInstances":1,"maxInstances":2}]}`,
		`[{"name":"uat","quota":{"requestsCpu":"500m"}}]`, `{"install":true,"monitoring":{"grafanaHost":"g.camps.ch"}}`, `{"username":"u"}`, "- name: team\n  webhook_configs: [{url: https://x}]", `{"availability":99.5,"latencyThresholdMs":200}`, `{"postgres":{"instances":3,"retention":"30d"}}`, `{"audit":{"retentionDays":30}}`)
	f.Add("2", `{}`, `[]`, `{"longhorn":{"capacity":"1Ti","snapshot":{"cron":"* * *"}},"monitoring":{"grafanaHost":"g.camps.ch","storageSize":"x"}}`, `{}`, "- name: team\n  webhook_configs: [{url: https://x}]", `{"enabled":true,"hosts":["uat.camps.ch"],"latencyPercentile":95}`, `{"longhornBackups":true,"copyRegion":"dc3-a"}`, `{"openbao":{"enabled":true,"storageSize":"20Gi"},"externalSecrets":true}`)
	f.Add("2", `{"attachStack":"uat"}`, `[]`, `{}`, `{}`, "- name: team\n  webhook_configs: [{url: https://x}]", `{}`, `{}`, `{"audit":{"host":"audit.camps.ch"}}`)
	f.Add("x", `{"pools":[{"minInstances":"2"}]}`, `[{"name":"Prod","egressCidrs":["x"]}]`, `[]`, `null`, "- name: team\n  webhook_configs: [{url: https://x}]", `{"latencyThresholdMs":150,"path":"x"}`, `{"postgres":{"backupSchedule":"0 1 * * *","recovery":{"serverName":"postgres"}}}`, `{"openbao":{"storageSize":"-1"},"audit":{"enabled":"yes"}}`)
	f.Add("1", `{"mode":"attach"}`, `[{"name":"a","limits":{"maxCpu":"1e40"}}]`, `{"install":null}`, `{"server":"h"}`, "- name: team\n  webhook_configs: [{url: https://x}]", `null`, `null`, `null`)
	f.Fuzz(func(t *testing.T, phase, cluster, namespaces, platform, registry, receivers, slo, dataCfg, security string) {
		src := source(map[string]string{
			KeyPhase: phase, KeyCluster: cluster, KeyNamespaces: namespaces, KeyPlatform: platform,
			KeyRegistry: registry, KeyRegistryToken: "token", KeyDNSToken: "token", KeyReceivers: receivers,
			KeySLO: slo, KeyData: dataCfg, KeySecurity: security,
		}, KeyRegistryToken, KeyDNSToken, KeyReceivers)
		c, err := Load(src, "fuzz")
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not a list of problems: %v", err)
			}
			for _, p := range ps {
				if p.Path == "" || p.Message == "" {
					t.Fatalf("problem without key or message: %#v", p)
				}
			}
			return
		}
		if c.Phase != 1 && c.Phase != 2 {
			t.Fatalf("accepted phase %d", c.Phase)
		}
		if c.Platform.Install == nil {
			t.Fatal("platform.install left unset")
		}
		switch c.Cluster.Mode {
		case ModeCreate:
			if len(c.Cluster.Pools) == 0 {
				t.Fatal("accepted a created cluster without pools")
			}
			for _, p := range c.Cluster.Pools {
				if p.Name == "" || p.Zone == "" || *p.MinInstances < 1 || *p.MaxInstances < *p.MinInstances {
					t.Fatalf("accepted pool %+v", p)
				}
			}
		case ModeAttach:
			if c.Cluster.AttachStack == "" && !c.Kubeconfig.IsSet() {
				t.Fatal("accepted attach without a source")
			}
		default:
			t.Fatalf("accepted mode %q", c.Cluster.Mode)
		}
		if d := c.Data; *d.Enabled && *d.Postgres.Enabled && len(c.Namespaces) > 0 {
			pg := d.Postgres
			if *pg.Instances < 1 || len(strings.Fields(pg.BackupSchedule)) != 6 || pg.Retention == "" || pg.ServerName == "" {
				t.Fatalf("accepted database settings %+v", pg)
			}
		}
		if *c.Data.LonghornBackups && !*c.Platform.Install {
			t.Fatal("accepted Longhorn backups on a stack without the platform")
		}
		sec := c.Security
		if sec.Audit.Enabled == nil || sec.OpenBao.Enabled == nil || sec.ExternalSecrets == nil || sec.Audit.RetentionDays == nil {
			t.Fatal("a security switch left unset")
		}
		if *sec.OpenBao.Enabled && (c.Cluster.Mode != ModeCreate || len(c.poolZones()) < 3 || !*c.Platform.Install) {
			t.Fatalf("accepted OpenBao on %d zones", len(c.poolZones()))
		}
		if *sec.ExternalSecrets && !*sec.OpenBao.Enabled {
			t.Fatal("accepted external secrets without OpenBao")
		}
		if *sec.Audit.Enabled && (sec.Audit.Host == "" || *sec.Audit.RetentionDays < 1 || c.Cluster.Mode != ModeCreate) {
			t.Fatalf("accepted audit settings %+v", sec.Audit)
		}
		if c.SLO.Enabled == nil {
			t.Fatal("slo.enabled left unset")
		}
		if *c.SLO.Enabled {
			if err := c.sloArgs().Objectives.Validate(); err != nil || len(c.SLO.Hosts) == 0 {
				t.Fatalf("accepted SLOs %+v: %v", c.SLO, err)
			}
		}
		for _, ns := range c.Namespaces {
			for _, q := range []string{ns.Quota.RequestsCPU, ns.Quota.LimitsMemory, ns.Limits.MaxCPU, ns.Limits.DefaultRequestMemory} {
				if _, err := parseQuantity(q); err != nil {
					t.Fatalf("accepted quantity %q: %v", q, err)
				}
			}
		}
	})
}
