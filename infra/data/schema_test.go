package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/api/pkg/api/v1"
	barmanv1 "github.com/cloudnative-pg/plugin-barman-cloud/api/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// strict decodes v's JSON into the operator's type, refusing unknown
// fields: a misspelt or misplaced field fails here, not silently in the
// cluster.
func strict(t *testing.T, what string, v, into any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Errorf("%s is not accepted by the operator's types: %v\n%s", what, err, b)
	}
}

func sampleArgs() *PostgresArgs {
	return &PostgresArgs{
		NamespaceName: "production", Instances: 3, ZoneSpread: true,
		StorageSize: "20Gi", StorageClass: "longhorn",
		Requests: map[string]string{"cpu": "250m", "memory": "512Mi"}, Limits: map[string]string{"cpu": "1", "memory": "1Gi"},
		Database: "app", Owner: "app",
		Backup: PostgresBackup{
			Bucket: "camps-prod-postgres", Endpoint: "https://s3.pub2.infomaniak.cloud", Region: "dc4-a",
			Schedule: "0 0 1 * * *", Retention: "30d",
		},
		OperatorNamespace: "cnpg-system", MonitoringNamespace: "monitoring",
	}
}

// TestSpecsDecodeIntoTheOperatorsTypes: every CloudNativePG and Barman
// Cloud resource the component builds, initdb and recovery, decodes
// strictly into CloudNativePG 1.30's and plugin-barman-cloud 0.13's Go API.
func TestSpecsDecodeIntoTheOperatorsTypes(t *testing.T) {
	initdb := sampleArgs()
	recovered := sampleArgs()
	recovered.Backup.ServerName = "postgres-2"
	recovered.Recovery = &PostgresRecovery{ServerName: "postgres", TargetTime: "2026-11-28T08:00:00Z"}
	for name, a := range map[string]*PostgresArgs{"initdb": initdb, "recovery": recovered} {
		var cluster cnpgv1.ClusterSpec
		strict(t, name+" Cluster", a.clusterSpec(), &cluster)
		var backup cnpgv1.ScheduledBackupSpec
		strict(t, name+" ScheduledBackup", a.scheduledBackupSpec(), &backup)
		var store barmanv1.ObjectStoreSpec
		strict(t, name+" ObjectStore", a.objectStoreSpec(a.ownSource(), "REGION", a.Backup.Retention), &store)
		var source barmanv1.ObjectStoreSpec
		strict(t, name+" recovery ObjectStore", a.objectStoreSpec(a.recoverySource(), "RECOVERY_REGION", ""), &source)

		if cluster.Instances != 3 || cluster.Affinity.TopologyKey != "topology.kubernetes.io/zone" ||
			cluster.Affinity.PodAntiAffinityType != "required" {
			t.Errorf("%s: instances %d, anti-affinity %s %s", name, cluster.Instances, cluster.Affinity.TopologyKey, cluster.Affinity.PodAntiAffinityType)
		}
		if len(cluster.Plugins) != 1 || cluster.Plugins[0].Name != PluginName || cluster.Plugins[0].IsWALArchiver == nil ||
			!*cluster.Plugins[0].IsWALArchiver || cluster.Plugins[0].Parameters["barmanObjectName"] != "postgres-backups" {
			t.Errorf("%s: WAL archiving plugin %+v", name, cluster.Plugins)
		}
		if string(backup.Method) != "plugin" || backup.PluginConfiguration == nil || backup.PluginConfiguration.Name != PluginName {
			t.Errorf("%s: scheduled backup %+v", name, backup)
		}
		if store.Configuration.DestinationPath != "s3://camps-prod-postgres/production" ||
			store.Configuration.EndpointURL != "https://s3.pub2.infomaniak.cloud" ||
			store.Configuration.AWS == nil || store.Configuration.AWS.AccessKeyIDReference == nil ||
			store.Configuration.AWS.AccessKeyIDReference.Name != "postgres-backup-s3" || store.RetentionPolicy != "30d" ||
			store.Configuration.AWS.RegionReference == nil || store.Configuration.AWS.RegionReference.Key != "REGION" ||
			len(store.InstanceSidecarConfiguration.Env) != 2 || store.InstanceSidecarConfiguration.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: object store %+v", name, store.Configuration)
		}
	}

	// A drill in uat reads production's backups from the copy in dc3-a.
	drill := sampleArgs()
	drill.NamespaceName = "uat"
	drill.Recovery = &PostgresRecovery{ServerName: "postgres", Bucket: "camps-prod-postgres-copy", Namespace: "production",
		Endpoint: "https://s3.pub1.infomaniak.cloud", Region: "dc3-a"}
	var source barmanv1.ObjectStoreSpec
	strict(t, "drill's source", drill.objectStoreSpec(drill.recoverySource(), "RECOVERY_REGION", ""), &source)
	if source.Configuration.DestinationPath != "s3://camps-prod-postgres-copy/production" || source.Configuration.EndpointURL != "https://s3.pub1.infomaniak.cloud" ||
		source.RetentionPolicy != "" || source.Configuration.AWS.RegionReference.Key != "RECOVERY_REGION" {
		t.Errorf("drill source = %+v, retention %q", source.Configuration, source.RetentionPolicy)
	}
	drill.Namespace, drill.Backup.AccessKey, drill.Backup.SecretKey = pulumi.String("uat"), pulumi.String("a"), pulumi.String("s")
	if err := drill.validate(); err != nil {
		t.Errorf("a drill from another location may keep the server name: %v", err)
	}

	var cluster cnpgv1.ClusterSpec
	strict(t, "recovery Cluster", recovered.clusterSpec(), &cluster)
	if cluster.ImageName != PostgresImage || cluster.EnablePDB != nil {
		t.Errorf("image %q, enablePDB %v on 3 instances", cluster.ImageName, cluster.EnablePDB)
	}
	single := sampleArgs()
	single.Instances = 1
	var one cnpgv1.ClusterSpec
	strict(t, "single-instance Cluster", single.clusterSpec(), &one)
	if one.EnablePDB == nil || *one.EnablePDB {
		t.Error("a single instance keeps its PodDisruptionBudget: node drains would hang")
	}
	r := cluster.Bootstrap.Recovery
	if r == nil || cluster.Bootstrap.InitDB != nil || r.Source != "backup-postgres" || r.RecoveryTarget == nil ||
		r.RecoveryTarget.TargetTime != "2026-11-28T08:00:00Z" {
		t.Fatalf("recovery bootstrap = %+v", cluster.Bootstrap)
	}
	if len(cluster.ExternalClusters) != 1 || cluster.ExternalClusters[0].Name != "backup-postgres" ||
		cluster.ExternalClusters[0].PluginConfiguration == nil ||
		cluster.ExternalClusters[0].PluginConfiguration.Parameters["serverName"] != "postgres" ||
		cluster.ExternalClusters[0].PluginConfiguration.Parameters["barmanObjectName"] != "postgres-recovery-source" {
		t.Errorf("recovery source = %+v", cluster.ExternalClusters)
	}
	if got := cluster.Plugins[0].Parameters["serverName"]; got != "postgres-2" {
		t.Errorf("the recovered cluster archives under %q, want a new server name", got)
	}
}

func TestPostgresArgsValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *PostgresArgs)
		want   string
	}{
		{"no instances", func(a *PostgresArgs) { a.Instances = 0 }, "0 instances"},
		{"owner with capitals", func(a *PostgresArgs) { a.Owner = "App" }, "lowercase SQL identifiers"},
		{"five-field schedule", func(a *PostgresArgs) { a.Backup.Schedule = "0 1 * * *" }, "six-field cron"},
		{"retention in hours", func(a *PostgresArgs) { a.Backup.Retention = "48h" }, `retention "48h"`},
		{"plain HTTP endpoint", func(a *PostgresArgs) { a.Backup.Endpoint = "http://s3" }, "https:// endpoint"},
		{"recovery into its own archive", func(a *PostgresArgs) { a.Recovery = &PostgresRecovery{ServerName: "postgres"} }, "another server name"},
		{"archive timeout below a minute", func(a *PostgresArgs) { a.ArchiveTimeout = 90 * time.Millisecond }, "archive timeout 90ms"},
		{"dump on a six-field schedule", func(a *PostgresArgs) { a.Dump = &PostgresDump{Schedule: "0 0 2 * * *", RetentionDays: 7} }, "not a five-field cron"},
		{"dump kept no day", func(a *PostgresArgs) { a.Dump = &PostgresDump{Schedule: "0 2 * * *"} }, "at least one day"},
		{"recovery to a date", func(a *PostgresArgs) {
			a.Backup.ServerName = "postgres-2"
			a.Recovery = &PostgresRecovery{ServerName: "postgres", TargetTime: "yesterday"}
		}, "not RFC 3339"},
	}
	for _, tt := range tests {
		a := sampleArgs()
		a.Namespace = pulumi.String("production")
		a.Backup.AccessKey, a.Backup.SecretKey = pulumi.String("a"), pulumi.String("s")
		tt.change(a)
		err := a.validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestPoolerDecodesAndIsSizedByMemory: the pooler decodes strictly into
// CloudNativePG's PoolerSpec, in transaction mode; max_connections and
// each pooler's share follow the instances' memory limit.
func TestPoolerDecodesAndIsSizedByMemory(t *testing.T) {
	tests := []struct {
		memory              string
		poolers             int
		maxConnections      int
		poolSize            int
		sharedBuffers       string
		instances, wantPods int
	}{
		{memory: "512Mi", poolers: 1, maxConnections: 48, poolSize: 38, sharedBuffers: "128MB", instances: 1, wantPods: 3},
		{memory: "1Gi", poolers: 3, maxConnections: 96, poolSize: 28, sharedBuffers: "256MB", instances: 3, wantPods: 7},
		{memory: "8Gi", poolers: 3, maxConnections: 500, poolSize: 163, sharedBuffers: "2048MB", instances: 3, wantPods: 7},
		{memory: "128Mi", poolers: 2, maxConnections: 25, poolSize: 7, sharedBuffers: "32MB", instances: 3, wantPods: 6},
	}
	for _, tt := range tests {
		a := sampleArgs()
		a.Limits["memory"], a.Requests["memory"], a.PoolerInstances, a.Instances = tt.memory, "64Mi", tt.poolers, tt.instances
		var pooler cnpgv1.PoolerSpec
		strict(t, tt.memory+" Pooler", a.poolerSpec(), &pooler)
		var cluster cnpgv1.ClusterSpec
		strict(t, tt.memory+" Cluster", a.clusterSpec(), &cluster)
		params := cluster.PostgresConfiguration.Parameters
		if pooler.PgBouncer == nil || pooler.PgBouncer.PoolMode != cnpgv1.PgBouncerPoolModeTransaction || pooler.Type != cnpgv1.PoolerTypeRW ||
			pooler.Instances == nil || int(*pooler.Instances) != tt.poolers || pooler.Cluster.Name != "postgres" {
			t.Errorf("%s: pooler %+v", tt.memory, pooler)
			continue
		}
		if got := params["max_connections"]; got != fmt.Sprint(tt.maxConnections) {
			t.Errorf("%s: max_connections = %s, want %d", tt.memory, got, tt.maxConnections)
		}
		if got := params["shared_buffers"]; got != tt.sharedBuffers {
			t.Errorf("%s: shared_buffers = %s, want %s", tt.memory, got, tt.sharedBuffers)
		}
		if got := pooler.PgBouncer.Parameters["default_pool_size"]; got != fmt.Sprint(tt.poolSize) {
			t.Errorf("%s, %d poolers: default_pool_size = %s, want %d", tt.memory, tt.poolers, got, tt.poolSize)
		}
		if tt.poolers*tt.poolSize > tt.maxConnections-reservedConnections {
			t.Errorf("%s: %d poolers × %d connections exceed max_connections %d less the reserve", tt.memory, tt.poolers, tt.poolSize, tt.maxConnections)
		}
		if use := a.QuotaUse(); use.Pods != tt.wantPods || use.Requests.MilliCPU <= 0 || use.Limits.Memory < use.Requests.Memory {
			t.Errorf("%s: quota use %+v", tt.memory, use)
		}
		if c := pooler.Template.Spec.Containers; len(c) != 1 || c[0].Name != "pgbouncer" || c[0].Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: pooler containers %+v", tt.memory, c)
		}
	}
}

// TestCanaryQuery: the exporter's custom query parses as CloudNativePG
// reads it and names the metric the alerts and the drill read; the
// cluster points its exporter at it; archive_timeout follows the args.
func TestCanaryQuery(t *testing.T) {
	a := sampleArgs()
	a.ArchiveTimeout = 150 * time.Second
	y, err := a.canaryQueriesYAML()
	if err != nil {
		t.Fatal(err)
	}
	var queries map[string]struct {
		Query           string   `yaml:"query"`
		TargetDatabases []string `yaml:"target_databases"`
		Metrics         []map[string]struct {
			Usage string `yaml:"usage"`
		} `yaml:"metrics"`
	}
	if err := yaml.Unmarshal([]byte(y), &queries); err != nil {
		t.Fatal(err)
	}
	var names []string
	for q, spec := range queries {
		for _, m := range spec.Metrics {
			for col, def := range m {
				names = append(names, "cnpg_"+q+"_"+col)
				if def.Usage != "GAUGE" {
					t.Errorf("%s: usage %s", col, def.Usage)
				}
				if !strings.Contains(spec.Query, " AS "+col+" ") {
					t.Errorf("query %q does not name its column %s", spec.Query, col)
				}
			}
		}
		if !slices.Equal(spec.TargetDatabases, []string{a.Database}) {
			t.Errorf("target databases %v", spec.TargetDatabases)
		}
	}
	if !slices.Equal(names, []string{convention.CanaryNewest}) {
		t.Errorf("metrics %v, want %s", names, convention.CanaryNewest)
	}
	var cluster cnpgv1.ClusterSpec
	strict(t, "Cluster", a.clusterSpec(), &cluster)
	if m := cluster.Monitoring; m == nil || len(m.CustomQueriesConfigMap) != 1 || m.CustomQueriesConfigMap[0].Name != "postgres-canary-queries" {
		t.Errorf("monitoring %+v", m)
	}
	if got := cluster.PostgresConfiguration.Parameters["archive_timeout"]; got != "150s" {
		t.Errorf("archive_timeout %q", got)
	}
}
