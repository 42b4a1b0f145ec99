package stacks_test

import (
	"fmt"
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/data"
	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

const (
	containerType = "openstack:objectstorage/container:Container"
	ec2Type       = "openstack:identity/ec2CredentialV3:Ec2CredentialV3"
	pgClusterType = "kubernetes:postgresql.cnpg.io/v1:Cluster"
	objStoreType  = "kubernetes:barmancloud.cnpg.io/v1:ObjectStore"
	schedBackup   = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
	recurringJob  = "kubernetes:longhorn.io/v1beta2:RecurringJob"
)

func byType(res *stackrun.Result, typ string) map[string]*recorder.Resource {
	out := map[string]*recorder.Resource{}
	for _, r := range res.Recorder.OfType(typ) {
		out[r.Name] = r
	}
	return out
}

// TestBucketsPerStack: each stack has its own protected buckets, versioned
// but the audit log's,
// and one EC2 credential, on explicit OpenStack providers.
func TestBucketsPerStack(t *testing.T) {
	tests := []struct {
		stack, phase string
		buckets      map[string]string // name → region ("" the provider's)
	}{
		{"uat", "1", map[string]string{"camps-uat-postgres": ""}},
		{"uat", "2", map[string]string{"camps-uat-postgres": ""}},
		{"prod", "1", map[string]string{"camps-prod-postgres": ""}},
		{"prod", "2", map[string]string{"camps-prod-postgres": "", "camps-prod-longhorn": "", "camps-prod-audit": "",
			"camps-prod-postgres-copy": "dc3-a", "camps-prod-longhorn-copy": "dc3-a", "camps-prod-audit-copy": "dc3-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.stack+" phase "+tt.phase, func(t *testing.T) {
			res := mustRun(t, stackrun.Options{Stack: tt.stack, Set: map[string]string{key("phase"): tt.phase}})
			got := byType(res, containerType)
			if len(got) != len(tt.buckets) {
				t.Errorf("buckets %v, want %v", keysOf(got), keysOf(tt.buckets))
			}
			for name, region := range tt.buckets {
				b, ok := got[name]
				if !ok {
					t.Errorf("no bucket %s", name)
					continue
				}
				if !b.Protect || b.String("region") != region || b.Provider == "" {
					t.Errorf("bucket %s: protected %v, region %q, provider %q", name, b.Protect, b.String("region"), b.Provider)
				}
				// The audit log's retention deletes for good: no versions;
				// its copy keeps what the sync deletes a while.
				wantVersioned := !strings.HasSuffix(name, "-audit")
				if v, _ := b.Input("versioning"); !v.IsBool() || v.BoolValue() != wantVersioned {
					t.Errorf("bucket %s: versioning %v, want %v", name, v, wantVersioned)
				}
			}
			if n := len(res.Recorder.OfType(ec2Type)); n != 1 {
				t.Errorf("%d EC2 credentials, want 1", n)
			}
		})
	}
}

// TestLonghornBackupTarget: the target and the backup job exist exactly
// when Longhorn backups are on, and point at the stack's bucket with a
// secret credential Secret.
func TestLonghornBackupTarget(t *testing.T) {
	tests := []struct {
		name   string
		opts   stackrun.Options
		target string
	}{
		{"uat, phase 1: snapshots only", stackrun.Options{Stack: "uat"}, ""},
		{"uat, phase 1, backups asked for", stackrun.Options{Stack: "uat", Set: map[string]string{key("data"): `{"longhornBackups":true}`}}, "s3://camps-uat-longhorn@dc4-a/"},
		{"prod, phase 2", stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}}, "s3://camps-prod-longhorn@dc4-a/"},
		{"prod, phase 2, backups off", stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2", key("data"): `{"longhornBackups":false}`}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, tt.opts)
			lh := releases(t, res)["longhorn"]
			target := lh.String("values.defaultBackupStore.backupTarget")
			if target != tt.target {
				t.Errorf("backup target %q, want %q", target, tt.target)
			}
			jobs := byType(res, recurringJob)
			secret, hasSecret := res.Recorder.Find("kubernetes:core/v1:Secret", "longhorn-backup-credentials")
			if tt.target == "" {
				if jobs["longhorn-backup"] != nil || hasSecret {
					t.Error("a backup job or credentials without a target")
				}
				return
			}
			if j := jobs["longhorn-backup"]; j == nil || j.String("spec.task") != "backup-force-create" || j.String("spec.cron") != "0 3 * * *" {
				t.Errorf("backup job = %+v", j)
			}
			if !hasSecret || !secret.IsSecret("stringData") || secret.String("metadata.name") != lh.String("values.defaultBackupStore.backupTargetCredentialSecret") ||
				secret.String(`stringData["AWS_ENDPOINTS"]`) != "https://s3.pub2.infomaniak.cloud" {
				t.Errorf("credentials Secret %v does not match the target", hasSecret)
			}
		})
	}
}

// TestPostgresClusters: one cluster per application namespace, backed up
// to the stack's bucket at the region's endpoint with the stack's
// credentials; phase 2 has 3 instances across zones, archiving WAL for
// point-in-time recovery.
func TestPostgresClusters(t *testing.T) {
	tests := []struct {
		stack, phase, namespace, bucket, retention string
		instances                                  int
		topology                                   string
	}{
		{"uat", "1", "uat", "camps-uat-postgres", "7d", 1, "kubernetes.io/hostname"},
		{"prod", "1", "production", "camps-prod-postgres", "7d", 1, "kubernetes.io/hostname"},
		{"prod", "2", "production", "camps-prod-postgres", "30d", 3, "topology.kubernetes.io/zone"},
	}
	for _, tt := range tests {
		t.Run(tt.stack+" phase "+tt.phase, func(t *testing.T) {
			res := mustRun(t, stackrun.Options{Stack: tt.stack, Set: map[string]string{key("phase"): tt.phase}})
			cl, ok := byType(res, pgClusterType)["postgres-"+tt.namespace]
			if !ok {
				t.Fatal("no PostgreSQL cluster")
			}
			if cl.String("metadata.namespace") != tt.namespace || !cl.Protect {
				t.Errorf("cluster in %q, protected %v", cl.String("metadata.namespace"), cl.Protect)
			}
			if n := number(t, cl, "spec.instances"); n != tt.instances {
				t.Errorf("%d instances, want %d", n, tt.instances)
			}
			if got := cl.String("spec.affinity.topologyKey"); got != tt.topology {
				t.Errorf("anti-affinity on %q, want %q", got, tt.topology)
			}
			if cl.String("spec.plugins[0].name") != "barman-cloud.cloudnative-pg.io" || cl.String("spec.plugins[0].parameters.barmanObjectName") != "postgres-backups" {
				t.Errorf("no WAL archiving to the object store: %v", cl.Inputs["spec"])
			}
			if v, _ := cl.Input("spec.plugins[0].isWALArchiver"); !v.IsBool() || !v.BoolValue() {
				t.Error("the plugin does not archive WAL: no point-in-time recovery")
			}
			if cl.String("spec.bootstrap.initdb.secret.name") != "postgres-app" {
				t.Errorf("initdb secret = %q", cl.String("spec.bootstrap.initdb.secret.name"))
			}
			store := byType(res, objStoreType)["postgres-"+tt.namespace+"-object-store"]
			if store == nil {
				t.Fatal("no object store")
			}
			for _, m := range store.Mismatches(map[string]string{
				"spec.configuration.destinationPath":                    fmt.Sprintf("s3://%s/%s", tt.bucket, tt.namespace),
				"spec.configuration.endpointURL":                        "https://s3.pub2.infomaniak.cloud",
				"spec.configuration.s3Credentials.accessKeyId.name":     "postgres-backup-s3",
				"spec.configuration.s3Credentials.secretAccessKey.name": "postgres-backup-s3",
				"spec.configuration.s3Credentials.secretAccessKey.key":  "ACCESS_SECRET_KEY",
				"spec.retentionPolicy":                                  tt.retention,
				"metadata.namespace":                                    tt.namespace,
			}) {
				t.Error("object store " + m)
			}
			s3, ok := res.Recorder.Find("kubernetes:core/v1:Secret", "postgres-"+tt.namespace+"-backup-s3")
			if !ok || s3.String("metadata.name") != "postgres-backup-s3" || !s3.IsSecret(`stringData["ACCESS_SECRET_KEY"]`) {
				t.Error("the S3 credentials Secret is missing or not secret")
			}
			creds, ok := res.Recorder.Find("kubernetes:core/v1:Secret", "postgres-"+tt.namespace+"-app")
			if !ok || !creds.IsSecret(`stringData["password"]`) || creds.String("type") != "kubernetes.io/basic-auth" {
				t.Error("the application's credentials are missing or not secret")
			}
			// Reachable from the namespace only: the database's own policy
			// admits 5432 from the namespace's pods, and the namespace's
			// allowances for the ingress and monitoring skip its pods.
			np, ok := res.Recorder.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "postgres-"+tt.namespace+"-network-policy")
			if !ok || np.String(`spec.podSelector.matchLabels["cnpg.io/cluster"]`) != "postgres" ||
				number(t, np, "spec.ingress[0].ports[0].port") != 5432 {
				t.Fatalf("database network policy = %v", np)
			}
			if _, ok := np.Input("spec.ingress[0].from[0].podSelector"); !ok {
				t.Error("5432 is not limited to the namespace's pods")
			}
			if _, ok := np.Input("spec.ingress[0].from[0].namespaceSelector"); ok {
				t.Error("5432 is open to another namespace")
			}
			for _, allow := range []string{"allow-from-ingress", "allow-from-monitoring"} {
				p, ok := res.Recorder.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", tt.namespace+"-"+allow)
				if !ok || p.String("spec.podSelector.matchExpressions[0].key") != "cnpg.io/cluster" ||
					p.String("spec.podSelector.matchExpressions[0].operator") != "DoesNotExist" {
					t.Errorf("%s admits the database's pods", allow)
				}
			}
			sb := byType(res, schedBackup)["postgres-"+tt.namespace+"-scheduled-backup"]
			if sb == nil || sb.String("spec.method") != "plugin" || sb.String("spec.cluster.name") != "postgres" || sb.String("spec.schedule") != "0 0 1 * * *" {
				t.Errorf("scheduled backup = %v", sb)
			}
		})
	}
}

// TestRecoveryPath: configured recovery bootstraps the cluster from the
// backups at a point in time, archiving under a new server name.
func TestRecoveryPath(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{
		key("phase"): "2",
		key("data"):  `{"postgres":{"serverName":"postgres-2","recovery":{"serverName":"postgres","targetTime":"2026-11-28T08:00:00Z"}}}`,
	}})
	cl := byType(res, pgClusterType)["postgres-production"]
	if cl == nil {
		t.Fatal("no cluster")
	}
	if _, ok := cl.Input("spec.bootstrap.initdb"); ok {
		t.Error("a recovered cluster also runs initdb")
	}
	for _, m := range cl.Mismatches(map[string]string{
		"spec.bootstrap.recovery.source":                        "backup-postgres",
		"spec.bootstrap.recovery.recoveryTarget.targetTime":     "2026-11-28T08:00:00Z",
		"spec.externalClusters[0].name":                         "backup-postgres",
		"spec.externalClusters[0].plugin.parameters.serverName": "postgres",
		"spec.plugins[0].parameters.serverName":                 "postgres-2",
	}) {
		t.Error(m)
	}
}

// TestEveryBucketIsCopied: in phase 2 prod copies each bucket that
// matters to its copy in the other region, with a CronJob of its own that
// the freshness alert reads; phase 1 copies nothing.
func TestEveryBucketIsCopied(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	jobs := byType(res, "kubernetes:batch/v1:CronJob")
	want := map[string][2]string{
		"backup-copy-postgres": {"src:camps-prod-postgres", "dst:camps-prod-postgres-copy"},
		"backup-copy-longhorn": {"src:camps-prod-longhorn", "dst:camps-prod-longhorn-copy"},
		"backup-copy-audit":    {"src:camps-prod-audit", "dst:camps-prod-audit-copy"},
	}
	for name, buckets := range want {
		job, ok := jobs[name]
		if !ok {
			t.Errorf("no CronJob %s; CronJobs: %v", name, keysOf(jobs))
			continue
		}
		if job.String("metadata.name") != name || job.String("metadata.namespace") != "production" {
			t.Errorf("%s is %s/%s", name, job.String("metadata.namespace"), job.String("metadata.name"))
		}
		args := stringsAt(t, job, "spec.jobTemplate.spec.template.spec.containers[0].args")
		if len(args) < 3 || args[0] != "sync" || args[1] != buckets[0] || args[2] != buckets[1] {
			t.Errorf("%s runs rclone %v, want sync %s %s", name, args, buckets[0], buckets[1])
		}
	}
	phase1 := byType(mustRun(t, stackrun.Options{Stack: "prod"}), "kubernetes:batch/v1:CronJob")
	for name := range phase1 {
		if strings.HasPrefix(name, "backup-copy") {
			t.Errorf("phase 1 copies: %s", name)
		}
	}
}

// TestLogicalDumps: each database is dumped daily by pg_dump, as its
// owner, beside its backups, the upload and the retention by rclone, under
// Pod Security restricted; "off" takes none.
func TestLogicalDumps(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	job := find(t, res, "kubernetes:batch/v1:CronJob", "postgres-production-dump")
	const pod = "spec.jobTemplate.spec.template.spec."
	for path, want := range map[string]any{
		"metadata.name":                                                  "postgres-dump",
		"spec.schedule":                                                  "30 2 * * *",
		pod + "initContainers[0].name":                                   "pg-dump",
		pod + "initContainers[0].image":                                  data.PostgresImage,
		pod + "initContainers[0].env[0].value":                           "postgres-rw",
		pod + "initContainers[0].env[1].value":                           "app",
		pod + "initContainers[0].env[3].valueFrom.secretKeyRef.name":     "postgres-app",
		pod + "initContainers[0].securityContext.readOnlyRootFilesystem": true,
		pod + "initContainers[1].name":                                   "upload",
		pod + "automountServiceAccountToken":                             false,
	} {
		wantValue(t, job, path, want)
	}
	if args := strings.Join(stringsAt(t, job, pod+"initContainers[0].args"), " "); !strings.Contains(args, "pg_dump --format=custom") {
		t.Errorf("dump runs %s", args)
	}
	if args := strings.Join(stringsAt(t, job, pod+"initContainers[1].args"), " "); !strings.HasPrefix(args, "move /tmp/out dst:camps-prod-postgres/production/dumps/postgres ") {
		t.Errorf("upload runs rclone %s", args)
	}
	if args := strings.Join(stringsAt(t, job, pod+"containers[0].args"), " "); !strings.HasPrefix(args, "delete dst:camps-prod-postgres/production/dumps/postgres --min-age 30d") {
		t.Errorf("retention runs rclone %s", args)
	}
	off := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2", key("data"): `{"postgres":{"dumpSchedule":"off"}}`}})
	if _, ok := byType(off, "kubernetes:batch/v1:CronJob")["postgres-production-dump"]; ok {
		t.Error(`dumpSchedule "off" still dumps`)
	}
}

// TestRestoreDrills: every database, uat's and production's (phase 1 on
// uat's cluster, phase 2 on its own), is restored weekly in a namespace
// of its own: Pod Security restricted, default deny, no binding for
// people; the throwaway cluster recovers from the database's own backups;
// the canary and the WAL switch bound the RPO the drill measures.
func TestRestoreDrills(t *testing.T) {
	for _, tt := range []struct {
		stack, phase, ns, bucket string
	}{
		{"uat", "1", "uat", "camps-uat-postgres"},
		{"prod", "1", "production", "camps-prod-postgres"},
		{"prod", "2", "production", "camps-prod-postgres"},
	} {
		t.Run(tt.stack+" phase "+tt.phase, func(t *testing.T) {
			res := mustRun(t, stackrun.Options{Stack: tt.stack, Set: map[string]string{key("phase"): tt.phase}})
			drill := tt.ns + "-restore-drill"
			ns := find(t, res, "kubernetes:core/v1:Namespace", "restore-drill-"+tt.ns)
			wantValue(t, ns, "metadata.name", drill)
			wantValue(t, ns, `metadata.labels["pod-security.kubernetes.io/enforce"]`, "restricted")
			if !ns.Protect {
				t.Error("the drill's namespace is not protected")
			}
			find(t, res, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "restore-drill-"+tt.ns+"-default-deny")
			for _, b := range res.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding") {
				if b.String("metadata.namespace") == drill && b.String("subjects[0].kind") != "ServiceAccount" {
					t.Errorf("binding %s in the drill's namespace binds a %s", b.Name, b.String("subjects[0].kind"))
				}
			}
			job := find(t, res, "kubernetes:batch/v1:CronJob", "restore-drill-"+tt.ns)
			const pod = "spec.jobTemplate.spec.template.spec."
			for path, want := range map[string]any{
				"spec.schedule":                                              "0 4 * * 0",
				pod + "containers[0].image":                                  convention.KubectlImage,
				pod + "serviceAccountName":                                   "restore-drill",
				pod + "securityContext.runAsUser":                            65534,
				pod + "containers[0].securityContext.readOnlyRootFilesystem": true,
				"spec.jobTemplate.spec.backoffLimit":                         0,
			} {
				wantValue(t, job, path, want)
			}
			store := find(t, res, "kubernetes:barmancloud.cnpg.io/v1:ObjectStore", "restore-drill-"+tt.ns+"-recovery-source")
			wantValue(t, store, "spec.configuration.destinationPath", "s3://"+tt.bucket+"/"+tt.ns)
			if _, ok := store.Input("spec.retentionPolicy"); ok {
				t.Error("the drill's source store has a retention policy: it would delete backups")
			}
			cm := find(t, res, "kubernetes:core/v1:ConfigMap", "restore-drill-"+tt.ns)
			if m := cm.String(`data["cluster.json"]`); !strings.Contains(m, `"barmanObjectName": "drill-recovery-source"`) || !strings.Contains(m, `"storageClass": "longhorn-scratch"`) {
				t.Errorf("throwaway cluster:\n%s", m)
			}
			cluster := find(t, res, "kubernetes:postgresql.cnpg.io/v1:Cluster", "postgres-"+tt.ns)
			wantValue(t, cluster, `spec.postgresql.parameters["archive_timeout"]`, "150s")
			wantValue(t, cluster, "spec.monitoring.customQueriesConfigMap[0].name", "postgres-canary-queries")
			find(t, res, "kubernetes:apps/v1:Deployment", "postgres-"+tt.ns+"-canary")
		})
	}
	off := mustRun(t, stackrun.Options{Stack: "uat", Set: map[string]string{key("data"): `{"drill":{"schedule":"off"}}`}})
	if n := len(off.Recorder.OfType(data.RestoreDrillType)); n != 0 {
		t.Errorf("%d drills with the schedule off", n)
	}
}

// TestLonghornDrill: where Longhorn backs up (prod's phase 2), its newest
// backup is restored on its own schedule, by an account that may only
// read backups, create volumes and delete its own in longhorn-system, against
// the backups' longest interval as the RPO objective; uat's single node
// keeps snapshots only and has no such drill.
func TestLonghornDrill(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	job := find(t, res, "kubernetes:batch/v1:CronJob", "longhorn-restore-drill")
	wantValue(t, job, "metadata.namespace", "longhorn-system")
	// Two hours after the databases': one throwaway volume at a time.
	wantValue(t, job, "spec.schedule", "0 6 * * 0")
	env := map[string]string{}
	for i := 0; ; i++ {
		name, ok := job.Input(fmt.Sprintf("spec.jobTemplate.spec.template.spec.containers[0].env[%d].name", i))
		if !ok {
			break
		}
		v, _ := job.Input(fmt.Sprintf("spec.jobTemplate.spec.template.spec.containers[0].env[%d].value", i))
		if v.IsString() {
			env[name.StringValue()] = v.StringValue()
		}
	}
	if env["SOURCE_NAMESPACE"] != "longhorn-system" || env["RPO_OBJECTIVE"] != "93600" || env["RTO_OBJECTIVE"] != "1800" {
		t.Errorf("env %v", env)
	}
	role := find(t, res, "kubernetes:rbac.authorization.k8s.io/v1:Role", "longhorn-restore-drill")
	// It may create volumes, but read and delete only its own.
	if got := strings.Join(stringsAt(t, role, "rules[1].verbs"), ","); got != "create" || role.String("rules[1].resources[0]") != "volumes" {
		t.Errorf("volume rule %s on %s", got, role.String("rules[1].resources[0]"))
	}
	if got := strings.Join(stringsAt(t, role, "rules[2].verbs"), ","); got != "get,list,watch,delete" || role.String("rules[2].resourceNames[0]") != "restore-drill" {
		t.Errorf("own-volume rule %s on %v", got, stringsAt(t, role, "rules[2].resourceNames"))
	}
	if _, ok := byType(mustRun(t, stackrun.Options{Stack: "uat"}), "kubernetes:batch/v1:CronJob")["longhorn-restore-drill"]; ok {
		t.Error("uat has no Longhorn backups to drill")
	}
}
