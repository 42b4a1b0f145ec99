package data

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/internal/scripttest"
)

func sampleDrill() *RestoreDrillArgs {
	src := sampleArgs()
	src.Backup.AccessKey, src.Backup.SecretKey = pulumi.String("a"), pulumi.String("s")
	return &RestoreDrillArgs{
		Source: src, Schedule: "0 4 * * 0", RPO: 5 * time.Minute, RTO: 30 * time.Minute,
		Pushgateway: "http://pushgateway.monitoring.svc:9091", PushingPods: map[string]string{"p": "true"},
		StorageClass: convention.ScratchStorageClass,
	}
}

// TestDrillClusterRecoversTheSource: the throwaway Cluster the drill
// creates decodes strictly into CloudNativePG's type, recovers from the
// source's backups through the drill's read-only store, archives nothing,
// runs one instance on the scratch class and reports the canary.
func TestDrillClusterRecoversTheSource(t *testing.T) {
	a := sampleDrill()
	th := a.throwaway(pulumi.String("production-restore-drill"))
	if err := th.validate(); err != nil {
		t.Fatal(err)
	}
	manifest, err := th.clusterManifest()
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		APIVersion, Kind string
		Metadata         struct{ Name string }
		Spec             json.RawMessage
	}
	if err := json.Unmarshal([]byte(manifest), &obj); err != nil {
		t.Fatal(err)
	}
	var spec cnpgv1.ClusterSpec
	strict(t, "drill Cluster", obj.Spec, &spec)
	if obj.APIVersion != "postgresql.cnpg.io/v1" || obj.Kind != "Cluster" || obj.Metadata.Name != "drill" {
		t.Errorf("object %s %s %s", obj.APIVersion, obj.Kind, obj.Metadata.Name)
	}
	r := spec.Bootstrap.Recovery
	if r == nil || r.Source != "backup-postgres" || r.Secret == nil || r.Secret.Name != "drill-app" || r.Database != "app" {
		t.Fatalf("recovery %+v", r)
	}
	if ext := spec.ExternalClusters; len(ext) != 1 || ext[0].PluginConfiguration == nil ||
		ext[0].PluginConfiguration.Parameters["barmanObjectName"] != "drill-recovery-source" || ext[0].PluginConfiguration.Parameters["serverName"] != "postgres" {
		t.Errorf("external clusters %+v", ext)
	}
	if len(spec.Plugins) != 0 || spec.Instances != 1 || spec.StorageConfiguration.StorageClass == nil || *spec.StorageConfiguration.StorageClass != convention.ScratchStorageClass {
		t.Errorf("plugins %v, instances %d, storage %+v", spec.Plugins, spec.Instances, spec.StorageConfiguration)
	}
	if spec.Monitoring == nil || len(spec.Monitoring.CustomQueriesConfigMap) != 1 || spec.Monitoring.CustomQueriesConfigMap[0].Name != "drill-canary-queries" {
		t.Errorf("monitoring %+v", spec.Monitoring)
	}
	// The same settings as the source: recovery refuses fewer connections.
	if spec.PostgresConfiguration.Parameters["max_connections"] != a.Source.postgresParameters()["max_connections"] {
		t.Errorf("parameters %v", spec.PostgresConfiguration.Parameters)
	}
	store := th.objectStoreSpec(th.recoverySource(), "RECOVERY_REGION", "")
	if store.Configuration.DestinationPath != "s3://camps-prod-postgres/production" || store.RetentionPolicy != "" {
		t.Errorf("source store %+v", store)
	}
}

func TestDrillRefusesBadArgs(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(*RestoreDrillArgs)
		want   string
	}{
		{"six-field schedule", func(a *RestoreDrillArgs) { a.Schedule = "0 0 4 * * 0" }, "not a five-field cron"},
		{"no RTO", func(a *RestoreDrillArgs) { a.RTO = 0 }, "must be positive"},
		{"no storage class", func(a *RestoreDrillArgs) { a.StorageClass = "" }, "storage class"},
		{"no source", func(a *RestoreDrillArgs) { a.Source = nil }, "drilled database"},
	} {
		a := sampleDrill()
		tt.change(a)
		if err := a.validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestDrillScript runs drill.sh with stand-ins for kubectl, curl and
// date: it pushes the measured RPO and RTO where the restore succeeds,
// success 0 where it does not, and always removes the cluster.
func TestDrillScript(t *testing.T) {
	const canary = convention.CanaryNewest
	tests := []struct {
		name    string
		ready   bool   // kubectl wait succeeds
		metrics string // the throwaway's exporter
		wantErr bool
		want    []string // in the pushed body
		log     string
	}{
		{
			name: "restored", ready: true,
			// 1764979200, 100 s before the restore began at 1764979300; a
			// longer name with the same prefix is not the canary.
			metrics: canary + "_other 5\n" + canary + `{datname="app"} 1.7649792e+09` + "\n",
			want: []string{
				convention.DrillSuccess + `{source_namespace="production"} 1`,
				convention.DrillRPO + `{source_namespace="production"} 100`,
				convention.DrillRTO + `{source_namespace="production"} 60`,
				convention.DrillLastSuccess + `{source_namespace="production"} 1764979360`,
				convention.DrillRPOObjective + `{source_namespace="production"} 300`,
				convention.DrillRTOObjective + `{source_namespace="production"} 1800`,
			},
			log: "RPO 100s (objective 300s), RTO 60s (objective 1800s)",
		},
		{
			name: "never ready", ready: false, wantErr: true,
			want: []string{convention.DrillSuccess + `{source_namespace="production"} 0`},
			log:  "was not ready within 3600s",
		},
		{
			name: "an empty canary table", ready: true, metrics: canary + `{datname="app"} NaN` + "\n", wantErr: true,
			want: []string{convention.DrillSuccess + `{source_namespace="production"} 0`},
			log:  "has no canary row",
		},
		{
			name: "the exporter does not answer", ready: true, metrics: "unreachable", wantErr: true,
			want: []string{convention.DrillSuccess + `{source_namespace="production"} 0`},
			log:  "cannot read the restored database's metrics",
		},
		{
			name: "no canary", ready: true, metrics: "cnpg_collector_up 1\n", wantErr: true,
			want: []string{convention.DrillSuccess + `{source_namespace="production"} 0`},
			log:  "has no canary row",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waitExit := "0"
			if !tt.ready {
				waitExit = "1"
			}
			res := scripttest.Exec(t, scripttest.Run{
				Files:  map[string]string{"drill.sh": drillScript, "lib.sh": convention.DrillLib, "metrics": tt.metrics},
				Script: "drill.sh",
				Stubs: map[string]string{
					"kubectl": `echo "kubectl $*" >> "$DIR/calls"
case $1 in
wait) exit ` + waitExit + ` ;;
get) printf 10.0.0.7 ;;
esac
`,
					"curl": `case "$*" in
*--data-binary*) cat >> "$DIR/pushed"; echo "curl push ${*##* }" >> "$DIR/calls" ;;
*http://10.0.0.7:9187/metrics*) grep -qx unreachable "$DIR/metrics" && exit 7; cat "$DIR/metrics" ;;
*) exit 7 ;;
esac
`,
					"date": scripttest.Clock,
				},
				Env: withNamespace(sampleDrill().env(), "production-restore-drill"),
			})
			if (res.Err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v\n%s", res.Err, tt.wantErr, res.Output)
			}
			if !strings.Contains(res.Output, tt.log) {
				t.Errorf("output lacks %q:\n%s", tt.log, res.Output)
			}
			pushed := res.File("pushed")
			if failed := convention.DrillSuccess + `{source_namespace="production"} 0`; !tt.wantErr && strings.Contains(pushed, failed) {
				t.Errorf("a successful drill also pushed a failure:\n%s", pushed)
			}
			for _, w := range tt.want {
				if !strings.Contains(pushed, w+"\n") {
					t.Errorf("pushed lacks %q:\n%s", w, pushed)
				}
			}
			calls := res.File("calls")
			if !strings.Contains(calls, "curl push http://pushgateway.monitoring.svc:9091/metrics/job/restore-drill/namespace/production-restore-drill") {
				t.Errorf("not pushed to the drill's group:\n%s", calls)
			}
			if lines := strings.Split(strings.TrimSpace(calls), "\n"); !strings.HasPrefix(lines[len(lines)-1], "kubectl delete cluster drill") {
				t.Errorf("the cluster is not deleted last:\n%s", calls)
			}
		})
	}
}

// withNamespace is env with what the CronJob adds: the pod's namespace
// and the timeout (of the sample's 30 minute RTO).
func withNamespace(env map[string]string, ns string) map[string]string {
	env["NAMESPACE"] = ns
	env["TIMEOUT"] = strconv.Itoa(int(convention.DrillTimeout(30 * time.Minute).Seconds()))
	return env
}
