package data

import (
	"fmt"
	"time"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// The canary: a heartbeat row each database carries, so that any copy of
// it (a restore, a standby) says how old its data is. The writer upserts
// one row of camps.canary every CanaryInterval; CloudNativePG's exporter
// reports the row's time as convention.CanaryNewest, from the cluster and
// from a restored copy alike.

// CanaryInterval is how often the canary is written: the resolution of a
// measured RPO.
const CanaryInterval = time.Minute

// The custom query: CloudNativePG names its metric
// cnpg_<canaryQuery>_<canaryColumn>, convention.CanaryNewest (a test
// holds them together).
const (
	canaryQueriesKey = "queries"
	canaryQuery      = "camps_canary"
	canaryColumn     = "newest_timestamp_seconds"
)

// canaryResources size the writer: one psql a minute.
var canaryResources = convention.NewResources("10m", "16Mi", "100m", "64Mi")

// canaryQueries is the ConfigMap of the cluster named n with the exporter's
// custom query.
func canaryQueries(n string) string { return n + "-canary-queries" }

// canaryWriter is the Deployment that writes the canary.
func canaryWriter(n string) string { return n + "-canary" }

// canaryExporterRole is the role CloudNativePG's exporter runs custom
// queries as (since 1.29.1): pg_monitor only, so it needs the grants on
// the canary.
const canaryExporterRole = "cnpg_metrics_exporter"

// canarySQL creates the table once, lets the exporter read it, and
// upserts its one row.
const (
	canaryTable = "CREATE SCHEMA IF NOT EXISTS camps; CREATE TABLE IF NOT EXISTS camps.canary (id int PRIMARY KEY, written_at timestamptz NOT NULL); " +
		"GRANT USAGE ON SCHEMA camps TO " + canaryExporterRole + "; GRANT SELECT ON camps.canary TO " + canaryExporterRole + ";"
	canaryUpsert = "INSERT INTO camps.canary VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at;"
)

// canaryQueriesYAML is the exporter's custom query (CloudNativePG's
// format, postgres_exporter's): the metric is cnpg_<query>_<column>,
// convention.CanaryNewest, read from the application's database, named
// rather than left to the bootstrap's default.
func (a *PostgresArgs) canaryQueriesYAML() (string, error) {
	b, err := yaml.Marshal(map[string]any{canaryQuery: map[string]any{
		"query":            "SELECT extract(epoch FROM max(written_at)) AS " + canaryColumn + " FROM camps.canary",
		"target_databases": []string{a.Database},
		"metrics": []any{map[string]any{canaryColumn: map[string]any{
			"usage":       "GAUGE",
			"description": "Time of the newest canary row, seconds since the epoch",
		}}},
	}})
	return string(b), err
}

// canaryMonitoring points the cluster's exporter at the custom query.
func canaryMonitoring(n string) *monitoring {
	return &monitoring{CustomQueriesConfigMap: []configMapKey{{Name: canaryQueries(n), Key: canaryQueriesKey}}}
}

// newCanaryQueries creates the custom query's ConfigMap in namespace.
func (a *PostgresArgs) newCanaryQueries(ctx *pulumi.Context, name, n string, namespace pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	queries, err := a.canaryQueriesYAML()
	if err != nil {
		return err
	}
	_, err = corev1.NewConfigMap(ctx, name+"-canary-queries", &corev1.ConfigMapArgs{
		// The label makes the operator reload the queries when they change.
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(canaryQueries(n)), Namespace: namespace,
			Labels: pulumi.StringMap{"cnpg.io/reload": pulumi.String("")}},
		Data: pulumi.StringMap{canaryQueriesKey: pulumi.String(queries)},
	}, opts...)
	if err != nil {
		return fmt.Errorf("canary queries: %w", err)
	}
	return nil
}

// newCanary creates the writer: the cluster's PostgreSQL image running
// psql as the owner against <cluster>-rw, under Pod Security restricted.
// A failed write is logged and retried at the next beat; the exporter's
// metric then ages, which the canary alert reads.
func (a *PostgresArgs) newCanary(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) error {
	n := a.name()
	if err := a.newCanaryQueries(ctx, name, n, a.Namespace, opts...); err != nil {
		return err
	}
	fromSecret := func(key string) *corev1.EnvVarSourceArgs {
		return &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
			Name: pulumi.String(credentialsSecret(n)), Key: pulumi.String(key),
		}}
	}
	script := fmt.Sprintf(`until psql -v ON_ERROR_STOP=1 -qc %q; do sleep 10; done
while :; do
  psql -v ON_ERROR_STOP=1 -qc %q || echo "canary: write failed" >&2
  sleep %d
done`, canaryTable, canaryUpsert, int(CanaryInterval.Seconds()))
	labels := pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(canaryWriter(n))}
	_, err := appsv1.NewDeployment(ctx, name+"-canary", &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(canaryWriter(n)), Namespace: a.Namespace, Labels: labels},
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext:              convention.RestrictedPod(26),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:    pulumi.String("canary"),
						Image:   pulumi.String(PostgresImage),
						Command: pulumi.ToStringArray([]string{"/bin/sh", "-c", script}),
						Env: corev1.EnvVarArray{
							corev1.EnvVarArgs{Name: pulumi.String("PGHOST"), Value: pulumi.String(n + "-rw")},
							corev1.EnvVarArgs{Name: pulumi.String("PGDATABASE"), Value: pulumi.String(a.Database)},
							corev1.EnvVarArgs{Name: pulumi.String("PGUSER"), ValueFrom: fromSecret("username")},
							corev1.EnvVarArgs{Name: pulumi.String("PGPASSWORD"), ValueFrom: fromSecret("password")},
							corev1.EnvVarArgs{Name: pulumi.String("PGAPPNAME"), Value: pulumi.String("camps-canary")},
						},
						Resources:       canaryResources.Args(),
						SecurityContext: convention.RestrictedContainer(),
					}},
				},
			},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("canary: %w", err)
	}
	return nil
}
