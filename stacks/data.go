package stacks

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/data"
	"gitlab.com/camps-ch/infra/infra/platform"
)

// DataConfig is the `data` key: the stack's object storage, Longhorn
// backups and PostgreSQL clusters.
type DataConfig struct {
	// Enabled creates the stack's buckets, its EC2 credential and, with
	// namespaces, their PostgreSQL clusters. Default: true.
	Enabled *bool `json:"enabled"`
	// S3Endpoint is the S3 endpoint of the buckets' region. Default: the
	// region's (dc3-a: https://s3.pub1.infomaniak.cloud, dc4-a:
	// https://s3.pub2.infomaniak.cloud).
	S3Endpoint string `json:"s3Endpoint"`
	// BucketPrefix names the buckets <prefix>-postgres, <prefix>-longhorn
	// and <prefix>-audit, and their copies <bucket>-copy. Default:
	// camps-<stack>.
	BucketPrefix string `json:"bucketPrefix"`
	// LonghornBackups backs every Longhorn volume up to the stack's bucket;
	// only a stack that installs the platform may. Default: true on several
	// nodes (phase 2), false on one (phase 1 keeps snapshots).
	LonghornBackups *bool `json:"longhornBackups"`
	// LonghornBackup is the recurring backup job. Default: daily at 03:00, 14 kept.
	LonghornBackup RecurringJobConfig `json:"longhornBackup"`
	// Postgres is the PostgreSQL cluster of each application namespace.
	Postgres PostgresConfig `json:"postgres"`
	// CopyRegion is the region every bucket that matters (the database
	// backups and dumps, the Longhorn backups, the audit log) is copied
	// to daily, each into <bucket>-copy; "none" copies nothing (a stack
	// that must not depend on the other region, such as the recovery
	// stack). Default: on several nodes the other region (dc3-a and
	// dc4-a); none on one.
	CopyRegion string `json:"copyRegion"`
	// CopySchedule is the copy's five-field cron. Default: by node count.
	CopySchedule string `json:"copySchedule"`
	// Drill restores each database's newest backup, and the newest
	// Longhorn backup where Longhorn backs up, on a schedule, and
	// measures the restores.
	Drill DrillConfig `json:"drill"`
}

// PostgresConfig is `data.postgres`.
type PostgresConfig struct {
	// Enabled creates a cluster in each namespace. Default: true.
	Enabled *bool `json:"enabled"`
	// Instances of each cluster, spread over the zones. Default: by node count.
	Instances *int `json:"instances"`
	// StorageSize of each instance's Longhorn volume. Default: by node count.
	StorageSize string `json:"storageSize"`
	// PoolerInstances run PgBouncer (transaction mode) in front of the
	// cluster, as the Service postgres-pooler-rw, which applications
	// connect to; PostgreSQL's max_connections follows limitsMemory and
	// the poolers share them. 0 runs none. Default: by node count.
	PoolerInstances *int `json:"poolerInstances"`
	// Database is the application's database. Default: by node count.
	Database string `json:"database"`
	// Owner is the database's owner; its password is generated and kept
	// in the Secret postgres-app (basic-auth). Default: by node count.
	Owner string `json:"owner"`
	// RequestsCPU is each instance's CPU request. Default: by node count.
	RequestsCPU string `json:"requestsCpu"`
	// RequestsMemory is each instance's memory request. Default: by node count.
	RequestsMemory string `json:"requestsMemory"`
	// LimitsCPU is each instance's CPU limit. Default: by node count.
	LimitsCPU string `json:"limitsCpu"`
	// LimitsMemory is each instance's memory limit. Default: by node count.
	LimitsMemory string `json:"limitsMemory"`
	// BackupSchedule is the base backups' six-field cron, seconds first.
	// WAL is archived continuously. Default: 0 0 1 * * * (01:00 daily).
	BackupSchedule string `json:"backupSchedule"`
	// Retention of backups and WAL. Default: by node count.
	Retention string `json:"retention"`
	// ServerName names the cluster's backups in the bucket. Default: by node count.
	ServerName string `json:"serverName"`
	// Recovery bootstraps new clusters from a backup. Default: none (initdb).
	Recovery *RecoveryConfig `json:"recovery"`
	// DumpSchedule is the five-field cron of the logical dump (pg_dump,
	// custom format) of each database to
	// s3://<prefix>-postgres/<namespace>/dumps/postgres/; "off" takes none.
	// Default: 30 2 * * * (02:30 daily, between the base backup and the
	// copy).
	DumpSchedule string `json:"dumpSchedule"`
	// DumpRetentionDays is how long dumps are kept. Default: by node count.
	DumpRetentionDays *int `json:"dumpRetentionDays"`
}

// DrillConfig is `data.drill`: the restore drill of each database, in
// the namespace <namespace>-restore-drill, and of Longhorn's newest backup,
// in longhorn-system.
type DrillConfig struct {
	// Schedule is the databases' drills' five-field cron; "off" runs no
	// drill. Default: 0 4 * * 0 (Sundays at 04:00, after the night's base
	// backups and dumps).
	Schedule string `json:"schedule"`
	// LonghornSchedule is Longhorn's drill's, apart from the databases'
	// so that one throwaway volume exists at a time (the databases'
	// drills give up after twice the RTO objective and 20 minutes).
	// Default: 0 6 * * 0 (Sundays at 06:00).
	LonghornSchedule string `json:"longhornSchedule"`
	// RPOObjective is the data a database's restore may lose, a Go
	// duration; the WAL is switched at least every half of it
	// (archive_timeout, at least 1m). Longhorn's objective is its backups'
	// longest interval, 26h. Default: 5m.
	RPOObjective string `json:"rpoObjective"`
	// RTOObjective is how long a restore may take until the database is
	// ready and verified, a Go duration; a drill waits twice as long.
	// Default: 30m.
	RTOObjective string `json:"rtoObjective"`
}

// RecoveryConfig is `data.postgres.recovery`: where the backups to
// recover from are, s3://<bucket>/<namespace>/<server name>/.
type RecoveryConfig struct {
	// ServerName is the backed-up cluster's server name, e.g. postgres.
	ServerName string `json:"serverName"`
	// TargetTime is the point in time, RFC 3339. Default: the latest.
	TargetTime string `json:"targetTime"`
	// Bucket holds the backups. Default: the stack's <prefix>-postgres;
	// e.g. another stack's for a drill, or <prefix>-postgres-copy.
	Bucket string `json:"bucket"`
	// Namespace is the backed-up cluster's namespace. Default: the
	// recovering namespace.
	Namespace string `json:"namespace"`
	// Region of the bucket (its S3 endpoint follows). Default: the stack's.
	Region string `json:"region"`
}

// s3Endpoints are Infomaniak's S3 endpoints by region.
var s3Endpoints = map[string]string{
	"dc3-a": "https://s3.pub1.infomaniak.cloud",
	"dc4-a": "https://s3.pub2.infomaniak.cloud",
}

// otherRegion is where backups are copied to.
var otherRegion = map[string]string{"dc3-a": "dc4-a", "dc4-a": "dc3-a"}

type dataPreset struct {
	longhornBackups                      bool
	instances, poolers, dumpDays         int
	storage, retention                   string
	reqCPU, reqMemory, limCPU, limMemory string
	copy                                 bool
}

var dataPresets = map[bool]dataPreset{
	false: {false, 1, 1, 7, "2Gi", "7d", "100m", "256Mi", "500m", "512Mi", false},
	// 3 × 10Gi on the local class: with the rest of phase 2's volumes
	// it fits three 50 GB disks (the plan's storage budget).
	true: {true, 3, 3, 30, "10Gi", "30d", "250m", "512Mi", "1", "1Gi", true},
}

func (c *Config) applyDataPresets() {
	d, p := &c.Data, dataPresets[c.multiNode()]
	if d.Enabled == nil {
		d.Enabled = ptr(true)
	}
	region := c.OpenStack.Region
	fill(&d.S3Endpoint, s3Endpoints[region])
	fill(&d.BucketPrefix, "camps-"+c.Stack)
	if d.LonghornBackups == nil {
		d.LonghornBackups = ptr(p.longhornBackups && *c.Platform.Install)
	}
	fill(&d.LonghornBackup.Cron, "0 3 * * *")
	if d.LonghornBackup.Retain == nil {
		d.LonghornBackup.Retain = ptr(14)
	}
	switch {
	case d.CopyRegion == noCopy:
		d.CopyRegion = ""
	case d.CopyRegion == "" && p.copy:
		d.CopyRegion = otherRegion[region]
	}
	fill(&d.CopySchedule, "0 5 * * *")
	pg := &d.Postgres
	if pg.Enabled == nil {
		pg.Enabled = ptr(true)
	}
	if pg.Instances == nil {
		pg.Instances = ptr(p.instances)
	}
	if pg.PoolerInstances == nil {
		pg.PoolerInstances = ptr(p.poolers)
	}
	fill(&pg.StorageSize, p.storage)
	fill(&pg.Database, "app")
	fill(&pg.Owner, "app")
	fill(&pg.RequestsCPU, p.reqCPU)
	fill(&pg.RequestsMemory, p.reqMemory)
	fill(&pg.LimitsCPU, p.limCPU)
	fill(&pg.LimitsMemory, p.limMemory)
	fill(&pg.BackupSchedule, "0 0 1 * * *")
	fill(&pg.Retention, p.retention)
	fill(&pg.ServerName, "postgres")
	fill(&pg.DumpSchedule, "30 2 * * *")
	fill(&d.Drill.Schedule, "0 4 * * 0")
	fill(&d.Drill.LonghornSchedule, "0 6 * * 0")
	fill(&d.Drill.RPOObjective, "5m")
	fill(&d.Drill.RTOObjective, "30m")
	if pg.DumpRetentionDays == nil {
		pg.DumpRetentionDays = ptr(p.dumpDays)
	}
}

// noCopy is data.copyRegion's value that copies nothing.
const noCopy = "none"

// scheduleOff is the schedule's value (data.postgres.dumpSchedule,
// data.drill.schedule) that runs none.
const scheduleOff = "off"

var (
	prefixName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$`)
)

func (c *Config) validateData(ps *Problems) {
	d := c.Data
	if !*d.Enabled {
		if *d.LonghornBackups {
			ps.add("data.longhornBackups", "needs data.enabled (the bucket)")
		}
		return
	}
	if !strings.HasPrefix(d.S3Endpoint, "https://") {
		ps.add("data.s3Endpoint", "%q is not an https:// URL; set it for region %q", d.S3Endpoint, c.OpenStack.Region)
	}
	if !prefixName.MatchString(d.BucketPrefix) {
		ps.add("data.bucketPrefix", "%q is not 3 to 42 lowercase letters, digits and dashes", d.BucketPrefix)
	}
	if *d.LonghornBackups {
		switch {
		case !*c.Platform.Install:
			ps.add("data.longhornBackups", "is true, but this stack does not install the platform (Longhorn is its cluster owner's)")
		case c.Platform.Longhorn.BackupTarget != "":
			ps.add("data.longhornBackups", "and platform.longhorn.backupTarget both set Longhorn's backup target: set one of them")
		}
		if f := strings.Fields(d.LonghornBackup.Cron); len(f) != 5 || !allMatch(f, cronField) {
			ps.add("data.longhornBackup.cron", "%q is not a five-field cron schedule", d.LonghornBackup.Cron)
		}
		if *d.LonghornBackup.Retain < 1 {
			ps.add("data.longhornBackup.retain", "%d is below 1", *d.LonghornBackup.Retain)
		}
	}
	if r := d.CopyRegion; r != "" {
		switch {
		case s3Endpoints[r] == "":
			ps.add("data.copyRegion", "%q is not a region with S3 (dc3-a, dc4-a)", r)
		case r == c.OpenStack.Region:
			ps.add("data.copyRegion", "%q is the buckets' own region; a copy belongs in the other one", r)
		}
		if f := strings.Fields(d.CopySchedule); len(f) != 5 || !allMatch(f, cronField) {
			ps.add("data.copySchedule", "%q is not a five-field cron schedule", d.CopySchedule)
		}
	}
	if s := d.Drill.Schedule; s != scheduleOff {
		if f := strings.Fields(s); len(f) != 5 || !allMatch(f, cronField) {
			ps.add("data.drill.schedule", "%q is not a five-field cron schedule (or off)", s)
		}
		if f := strings.Fields(d.Drill.LonghornSchedule); len(f) != 5 || !allMatch(f, cronField) {
			ps.add("data.drill.longhornSchedule", "%q is not a five-field cron schedule", d.Drill.LonghornSchedule)
		}
		for i, ns := range c.Namespaces {
			if n := data.DrillNamespace(ns.Name); !data.IsDNSLabel(n) {
				ps.add(fmt.Sprintf("namespaces[%d].name", i), "%q is too long for its drill's namespace %s (a DNS label of at most 50 characters)", ns.Name, n)
			}
		}
	}
	for _, o := range []struct{ key, value string }{{"rpoObjective", d.Drill.RPOObjective}, {"rtoObjective", d.Drill.RTOObjective}} {
		if d, err := time.ParseDuration(o.value); err != nil || d < time.Minute || d%time.Second != 0 {
			ps.add("data.drill."+o.key, "%q is not a duration of whole seconds, at least 1m, such as 5m", o.value)
		}
	}
	pg := d.Postgres
	if !*pg.Enabled || len(c.Namespaces) == 0 {
		return
	}
	if n := *pg.Instances; n < 1 || n > 9 {
		ps.add("data.postgres.instances", "%d is not between 1 and 9", n)
	}
	if n := *pg.PoolerInstances; n < 0 || n > 9 {
		ps.add("data.postgres.poolerInstances", "%d is not between 0 and 9", n)
	}
	if q, err := parseQuantity(pg.LimitsMemory); err == nil && q.Value() < 64<<20 {
		ps.add("data.postgres.limitsMemory", "%s is below 64Mi: PostgreSQL's shared buffers and connections are sized from it", pg.LimitsMemory)
	}
	for _, q := range [][2]string{{"storageSize", pg.StorageSize}, {"requestsCpu", pg.RequestsCPU},
		{"requestsMemory", pg.RequestsMemory}, {"limitsCpu", pg.LimitsCPU}, {"limitsMemory", pg.LimitsMemory}} {
		if _, err := parseQuantity(q[1]); err != nil {
			ps.add("data.postgres."+q[0], "%v", err)
		}
	}
	for _, id := range [][2]string{{"database", pg.Database}, {"owner", pg.Owner}} {
		if !data.IsSQLIdentifier(id[1]) {
			ps.add("data.postgres."+id[0], "%q is not a lowercase SQL identifier", id[1])
		}
	}
	if !data.IsBackupSchedule(pg.BackupSchedule) {
		ps.add("data.postgres.backupSchedule", "%q is not a six-field cron schedule (seconds first, e.g. 0 0 1 * * *)", pg.BackupSchedule)
	}
	if !data.IsRetention(pg.Retention) {
		ps.add("data.postgres.retention", "%q is not a number of days, weeks or months such as 30d", pg.Retention)
	}
	if !dnsLabel.MatchString(pg.ServerName) {
		ps.add("data.postgres.serverName", "%q is not a DNS label", pg.ServerName)
	}
	if s := pg.DumpSchedule; s != scheduleOff {
		if f := strings.Fields(s); len(f) != 5 || !allMatch(f, cronField) {
			ps.add("data.postgres.dumpSchedule", "%q is not a five-field cron schedule (or off)", s)
		}
		if *pg.DumpRetentionDays < 1 {
			ps.add("data.postgres.dumpRetentionDays", "%d is below 1", *pg.DumpRetentionDays)
		}
	}
	if r := pg.Recovery; r != nil {
		switch {
		case !dnsLabel.MatchString(r.ServerName):
			ps.add("data.postgres.recovery.serverName", "%q is not a DNS label", r.ServerName)
		case r.ServerName == pg.ServerName && r.Bucket == "" && r.Namespace == "" && r.Region == "":
			ps.add("data.postgres.recovery.serverName", "%q is also data.postgres.serverName: the recovered cluster must back up under a new name", r.ServerName)
		}
		if r.Bucket != "" && !data.IsBucketName(r.Bucket) {
			ps.add("data.postgres.recovery.bucket", "%q is not a bucket name", r.Bucket)
		}
		if r.Namespace != "" && !dnsLabel.MatchString(r.Namespace) {
			ps.add("data.postgres.recovery.namespace", "%q is not a namespace name", r.Namespace)
		}
		if r.Region != "" && s3Endpoints[r.Region] == "" {
			ps.add("data.postgres.recovery.region", "%q is not a region with S3 (dc3-a, dc4-a)", r.Region)
		}
		if r.TargetTime != "" {
			if _, err := time.Parse(time.RFC3339, r.TargetTime); err != nil {
				ps.add("data.postgres.recovery.targetTime", "%q is not an RFC 3339 time such as 2026-11-28T08:00:00Z", r.TargetTime)
			}
		}
	}
}

// buckets are the stack's buckets.
func (c *Config) buckets() (longhorn, postgres string) {
	p := c.Data.BucketPrefix
	return p + "-longhorn", p + "-postgres"
}

// bucketCopy is a bucket the stack copies to the other region: what it
// holds (naming the CronJob) and the two buckets.
type bucketCopy struct {
	what, from, to string
}

// copies are the stack's buckets that hold what a disaster must not take
// along, each copied to <bucket>-copy in data.copyRegion: the database
// backups (and dumps), the Longhorn backups and the audit log, as far as
// the stack has them. None without a copy region.
func (c *Config) copies() []bucketCopy {
	if c.Data.CopyRegion == "" || !*c.Data.Enabled {
		return nil
	}
	lh, pg := c.buckets()
	out := []bucketCopy{{"postgres", pg, pg + "-copy"}}
	if *c.Data.LonghornBackups {
		out = append(out, bucketCopy{"longhorn", lh, lh + "-copy"})
	}
	if *c.Security.Audit.Enabled {
		out = append(out, bucketCopy{"audit", c.auditBucket(), c.auditBucket() + "-copy"})
	}
	return out
}

// objectStorageArgs are the buckets of the stack.
func (c *Config) objectStorageArgs() *data.ObjectStorageArgs {
	lh, pg := c.buckets()
	args := &data.ObjectStorageArgs{OpenStack: c.openStackArgs(), Buckets: []data.Bucket{{Name: pg}}}
	if *c.Data.LonghornBackups {
		args.Buckets = append(args.Buckets, data.Bucket{Name: lh})
	}
	if *c.Security.Audit.Enabled {
		args.Buckets = append(args.Buckets, data.Bucket{Name: c.auditBucket(), Unversioned: true})
	}
	// Copies are versioned, the audit log's too: what a sync deletes
	// stays a while as a version.
	for _, cp := range c.copies() {
		args.Buckets = append(args.Buckets, data.Bucket{Name: cp.to, Region: c.Data.CopyRegion})
	}
	return args
}

// auditBucket holds the API server's audit log.
func (c *Config) auditBucket() string { return c.Data.BucketPrefix + "-audit" }

// longhornBackupTarget is Longhorn's target on the stack's bucket.
func (c *Config) longhornBackupTarget(store *data.ObjectStorage) (*platform.BackupTarget, *platform.RecurringJob) {
	lh, _ := c.buckets()
	return &platform.BackupTarget{
			URL:              fmt.Sprintf("s3://%s@%s/", lh, c.OpenStack.Region),
			CredentialSecret: "longhorn-backup-s3",
			Credentials: &platform.S3Credentials{
				Endpoint: c.Data.S3Endpoint, AccessKey: store.AccessKey, SecretKey: store.SecretKey,
			},
		}, &platform.RecurringJob{
			Cron: c.Data.LonghornBackup.Cron, Retain: *c.Data.LonghornBackup.Retain,
		}
}

// postgresArgs are the cluster of an application namespace.
func (c *Config) postgresArgs(ns Namespace, namespace pulumi.StringInput, store *data.ObjectStorage) *data.PostgresArgs {
	pg, d := c.Data.Postgres, c.Data
	_, bucket := c.buckets()
	args := &data.PostgresArgs{
		Namespace: namespace, NamespaceName: ns.Name,
		Instances:       *pg.Instances,
		PoolerInstances: *pg.PoolerInstances,
		ZoneSpread:      *pg.Instances > 1 && c.multiNode(),
		StorageSize:     pg.StorageSize,
		StorageClass:    storageClassFor(*pg.Instances),
		Requests:        map[string]string{"cpu": pg.RequestsCPU, "memory": pg.RequestsMemory},
		Limits:          map[string]string{"cpu": pg.LimitsCPU, "memory": pg.LimitsMemory},
		Database:        pg.Database, Owner: pg.Owner,
		Backup: data.PostgresBackup{
			Bucket: bucket, Endpoint: d.S3Endpoint, Region: c.OpenStack.Region,
			Schedule: pg.BackupSchedule, Retention: pg.Retention, ServerName: pg.ServerName,
		},
		OperatorNamespace:   convention.CloudNativePGNamespace,
		MonitoringNamespace: convention.MonitoringNamespace,
		ExternalCredentials: *c.Security.ExternalSecrets,
	}
	if store != nil {
		args.Backup.AccessKey, args.Backup.SecretKey = store.AccessKey, store.SecretKey
	}
	if pg.DumpSchedule != scheduleOff {
		args.Dump = &data.PostgresDump{Schedule: pg.DumpSchedule, RetentionDays: *pg.DumpRetentionDays}
	}
	if rpo, err := time.ParseDuration(d.Drill.RPOObjective); err == nil {
		args.ArchiveTimeout = max((rpo / 2).Truncate(time.Second), time.Minute)
	}
	if r := pg.Recovery; r != nil {
		args.Recovery = &data.PostgresRecovery{
			ServerName: r.ServerName, TargetTime: r.TargetTime,
			Bucket: r.Bucket, Namespace: r.Namespace, Region: r.Region, Endpoint: s3Endpoints[r.Region],
		}
	}
	return args
}

// restoreDrillArgs are the drill of the database pg, nil when the drills
// are off.
func (c *Config) restoreDrillArgs(pg *data.PostgresArgs, ready platformReady) *data.RestoreDrillArgs {
	dr := c.Data.Drill
	if dr.Schedule == scheduleOff {
		return nil
	}
	rpo, _ := time.ParseDuration(dr.RPOObjective)
	rto, _ := time.ParseDuration(dr.RTOObjective)
	return &data.RestoreDrillArgs{
		Source: pg, Schedule: dr.Schedule, RPO: rpo, RTO: rto,
		Pushgateway: platform.PushgatewayURL, PushingPods: platform.PushingPods,
		StorageClass: convention.ScratchStorageClass,
		PluginReady:  ready.plugin,
	}
}

// databaseHost is where each namespace's applications reach their
// database, the same name in every namespace; empty without databases.
func (c *Config) databaseHost() string {
	if !c.postgres() || len(c.Namespaces) == 0 {
		return ""
	}
	ns := c.Namespaces[0]
	return c.postgresArgs(ns, pulumi.String(ns.Name), nil).ServiceHost()
}

// backupCopyArgs copy one of the stack's buckets to the other region.
func (c *Config) backupCopyArgs(cp bucketCopy, namespace pulumi.StringInput, store *data.ObjectStorage) *data.BackupCopyArgs {
	return &data.BackupCopyArgs{
		Job:       convention.BackupCopyJobPrefix + cp.what,
		Namespace: namespace,
		From:      data.S3Location{Bucket: cp.from, Endpoint: c.Data.S3Endpoint, Region: c.OpenStack.Region},
		To:        data.S3Location{Bucket: cp.to, Endpoint: s3Endpoints[c.Data.CopyRegion], Region: c.Data.CopyRegion},
		AccessKey: store.AccessKey, SecretKey: store.SecretKey,
		Schedule: c.Data.CopySchedule,
	}
}
