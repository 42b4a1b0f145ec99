package data

import (
	"errors"
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// Logical dumps beside the physical backups: base backups and WAL give
// point-in-time recovery of the whole cluster, a dump gives one table, one
// schema, or the database on another PostgreSQL major version.

// PostgresDump takes a logical dump of the database on a schedule.
type PostgresDump struct {
	// Schedule is a five-field cron (the CronJob's).
	Schedule string
	// RetentionDays is how long dumps are kept; older ones are deleted
	// after each dump.
	RetentionDays int
}

// dumpResources size the dump's containers (pg_dump, then rclone): one at
// a time, so the pod takes one container's.
var dumpResources = convention.NewResources("50m", "64Mi", "500m", "256Mi")

// DumpJob is the CronJob that dumps the cluster named cluster,
// <cluster>-dump; the freshness alert selects it by the suffix.
func DumpJob(cluster string) string { return cluster + convention.DumpJobSuffix }

// DumpPath is where the dumps of a cluster go: beside its backups,
// s3://<bucket>/<namespace>/dumps/<cluster>/, one file
// <database>-<UTC time>.dump each (pg_dump's custom format, for
// pg_restore).
func (a *PostgresArgs) DumpPath() string {
	return fmt.Sprintf("%s/%s/dumps/%s", a.Backup.Bucket, a.NamespaceName, a.name())
}

func (d *PostgresDump) validate() error {
	switch {
	case d == nil:
		return nil
	case !isCron5(d.Schedule):
		return fmt.Errorf("dump schedule %q is not a five-field cron", d.Schedule)
	case d.RetentionDays < 1:
		return errors.New("dump retention: at least one day")
	}
	return nil
}

// newDump creates the CronJob: pg_dump (the cluster's PostgreSQL image,
// as the owner) writes the dump into the pod's /tmp, rclone moves it to
// DumpPath and then deletes the dumps older than the retention. Restricted
// like every rclone job; it reaches PostgreSQL within the namespace and S3
// over HTTPS.
func (a *PostgresArgs) newDump(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) error {
	n, d := a.name(), a.Dump
	fromSecret := func(key string) *corev1.EnvVarSourceArgs {
		return &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
			Name: pulumi.String(credentialsSecret(n)), Key: pulumi.String(key),
		}}
	}
	dst := "dst:" + a.DumpPath()
	_, err := newRcloneJob(ctx, name+"-dump", rcloneJob{
		Name: DumpJob(n), Namespace: a.Namespace, Schedule: d.Schedule,
		Remotes:   []remote{{"dst", a.ownSource().S3Location}},
		AccessKey: a.Backup.AccessKey, SecretKey: a.Backup.SecretKey,
		Before: []step{
			{
				Name: "pg-dump", Image: PostgresImage, Command: []string{"/bin/sh", "-c"},
				Args: []string{`mkdir -p /tmp/out && exec pg_dump --format=custom --file="/tmp/out/${PGDATABASE}-$(date -u +%Y%m%dT%H%M%SZ).dump"`},
				Env: corev1.EnvVarArray{
					corev1.EnvVarArgs{Name: pulumi.String("PGHOST"), Value: pulumi.String(n + "-rw")},
					corev1.EnvVarArgs{Name: pulumi.String("PGDATABASE"), Value: pulumi.String(a.Database)},
					corev1.EnvVarArgs{Name: pulumi.String("PGUSER"), ValueFrom: fromSecret("username")},
					corev1.EnvVarArgs{Name: pulumi.String("PGPASSWORD"), ValueFrom: fromSecret("password")},
				},
				Resources: dumpResources,
			},
			{Name: "upload", Args: []string{"move", "/tmp/out", dst}},
		},
		Args: []string{"delete", dst, "--min-age", fmt.Sprintf("%dd", d.RetentionDays), "--use-server-modtime"},
	}, opts...)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	return nil
}
