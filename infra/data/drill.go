package data

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// RestoreDrillType is the type token of the RestoreDrill component.
const RestoreDrillType = "camps:data:RestoreDrill"

// drillScript is the drill's program (drill.sh).
//
//go:embed drill.sh
var drillScript string

// drillCluster is the throwaway cluster's name in the drill's namespace.
const drillCluster = "drill"

// drillPods are the drill job's pods.
var drillPods = convention.DrillPods

// DrillNamespace is the namespace of the drill of the database in ns.
func DrillNamespace(ns string) string { return ns + "-restore-drill" }

// RestoreDrillArgs configure a drill. Every field is required.
type RestoreDrillArgs struct {
	// Source is the drilled database's cluster, as its component was
	// configured: where its backups are, its size, its database.
	Source *PostgresArgs
	// Schedule is the drill's five-field cron.
	Schedule string
	// RPO and RTO are the objectives pushed with the measures.
	RPO, RTO time.Duration
	// Pushgateway is the URL the result is pushed to.
	Pushgateway string
	// PushingPods label the pods the Pushgateway admits.
	PushingPods map[string]string
	// StorageClass holds the throwaway cluster's volume; its volume must
	// be deleted with its claim (convention.ScratchStorageClass).
	StorageClass string
	// PluginReady is the Barman Cloud plugin's release (the object
	// store's CRD); empty when another stack installed it.
	PluginReady []pulumi.Resource
}

func (a *RestoreDrillArgs) validate() error {
	switch {
	case a == nil || a.Source == nil:
		return errors.New("the drilled database is required")
	case !isCron5(a.Schedule):
		return fmt.Errorf("schedule %q is not a five-field cron", a.Schedule)
	case a.RPO <= 0 || a.RTO <= 0:
		return fmt.Errorf("objectives RPO %s and RTO %s must be positive", a.RPO, a.RTO)
	case a.Pushgateway == "" || len(a.PushingPods) == 0 || a.StorageClass == "":
		return errors.New("the Pushgateway, the labels it admits and a storage class are required")
	}
	if !dnsLabel.MatchString(DrillNamespace(a.Source.NamespaceName)) {
		return fmt.Errorf("namespace %q is not a DNS label", DrillNamespace(a.Source.NamespaceName))
	}
	return nil
}

// throwaway is the drill's cluster as PostgresArgs: one instance in the
// drill's namespace on the scratch class, recovering from the source's
// backups, never archiving or backing up, no pooler, dump or canary
// writer of its own (the canary comes with the restored data).
func (a *RestoreDrillArgs) throwaway(namespace pulumi.StringInput) *PostgresArgs {
	src := a.Source
	t := *src
	t.Name, t.Namespace, t.NamespaceName = drillCluster, namespace, DrillNamespace(src.NamespaceName)
	t.Instances, t.PoolerInstances, t.ZoneSpread, t.StorageClass = 1, 0, false, a.StorageClass
	t.Dump, t.Recovery = nil, &PostgresRecovery{
		ServerName: src.serverName(), Bucket: src.Backup.Bucket, Namespace: src.NamespaceName,
		Endpoint: src.Backup.Endpoint, Region: src.Backup.Region,
	}
	t.Backup.ServerName = drillCluster
	t.OperatorReady, t.PluginReady, t.MonitoringReady = nil, a.PluginReady, nil
	return &t
}

// clusterManifest is the throwaway Cluster the drill creates: the
// recovery of clusterSpec without its WAL archiver.
func (t *PostgresArgs) clusterManifest() (string, error) {
	spec := t.clusterSpec()
	spec.Plugins = nil
	b, err := json.MarshalIndent(map[string]any{
		"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
		"metadata": map[string]any{"name": t.name(), "labels": map[string]any{"app.kubernetes.io/part-of": convention.RestoreDrillJob}},
		"spec":     spec,
	}, "", "  ")
	return string(b), err
}

// RestoreDrill restores a database's newest backup on a schedule and
// measures the restore.
type RestoreDrill struct {
	pulumi.ResourceState

	// Namespace is the drill's namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
}

// NewRestoreDrill creates, in its own namespace <ns>-restore-drill (Pod
// Security restricted, default deny, no ingress, no binding for people,
// so no exec), what the drill needs to run on its schedule: the owner's
// credentials of the restored copy (generated), the S3 credential and a
// read-only object store on the source's backups, the exporter's canary
// query, the throwaway Cluster's manifest and the script in a ConfigMap,
// a service account allowed only Clusters and Pods in the namespace, and
// the CronJob. Each run deletes the last run's cluster, creates it from
// the newest backup (base backup and WAL), waits up to twice the RTO
// objective for it to be ready, reads its canary through its exporter,
// pushes last run, success, last success, RPO, RTO and the objectives to
// the Pushgateway, and deletes the cluster and its volume. A run that
// fails pushes success 0.
func NewRestoreDrill(ctx *pulumi.Context, name string, args *RestoreDrillArgs, opts ...pulumi.ResourceOption) (*RestoreDrill, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("restore drill %q: %w", name, err)
	}
	c := &RestoreDrill{}
	if err := ctx.RegisterComponentResource(RestoreDrillType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("restore drill %q: %w", name, err) }
	child := pulumi.Parent(c)
	nsName := DrillNamespace(args.Source.NamespaceName)
	ns, err := convention.NewIsolatedNamespace(ctx, name, nsName, convention.Restricted,
		map[string]string{"app.kubernetes.io/part-of": convention.RestoreDrillJob}, args.network(), child)
	if err != nil {
		return nil, wrap(err)
	}
	c.Namespace = ns.Name
	t := args.throwaway(ns.Name)
	if err := t.drillResources(ctx, name, child); err != nil {
		return nil, wrap(err)
	}
	// Only the drill's pod needs the allowances in place.
	if err := args.job(ctx, name, t, ns.Policies, child); err != nil {
		return nil, wrap(err)
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"namespace": c.Namespace})
}

// network: DNS for every pod; the drill calls the API server, the
// throwaway's exporter and the Pushgateway; the throwaway is admitted as
// any cluster of the project is (the operator, its own namespace) and
// reaches S3 and the API server.
func (a *RestoreDrillArgs) network() []netpol.Allow {
	instances := map[string]string{ClusterLabel: drillCluster}
	return []netpol.Allow{
		{Name: "dns", Egress: []netpol.Flow{netpol.DNS}},
		{Name: convention.RestoreDrillJob, Pods: drillPods, Egress: []netpol.Flow{
			netpol.APIServer,
			netpol.Within(instances, 9187),
			netpol.From(convention.MonitoringNamespace, convention.PushgatewayPods, 9091),
		}},
		{Name: "drill-metrics", Pods: instances, Ingress: []netpol.Flow{netpol.Within(drillPods, 9187)}},
	}
}

// drillResources are the throwaway's Secrets, object store, canary query
// and network policy, all in the drill's namespace.
func (t *PostgresArgs) drillResources(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) error {
	meta := func(obj string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(obj), Namespace: t.Namespace}
	}
	// The restored owner gets this password (recovery's secret), so the
	// copy never needs production's.
	if _, err := t.credentials(ctx, name, meta(credentialsSecret(drillCluster)), opts...); err != nil {
		return err
	}
	s3, err := corev1.NewSecret(ctx, name+"-backup-s3", &corev1.SecretArgs{
		Metadata: meta(s3Secret(drillCluster)),
		StringData: pulumi.ToSecret(pulumi.StringMap{
			"ACCESS_KEY_ID":     t.Backup.AccessKey,
			"ACCESS_SECRET_KEY": t.Backup.SecretKey,
			"RECOVERY_REGION":   pulumi.String(t.recoverySource().Region),
		}).(pulumi.StringMapOutput),
	}, opts...)
	if err != nil {
		return fmt.Errorf("S3 credentials: %w", err)
	}
	// Read only: no retention, and the throwaway never archives to it.
	if _, err := custom(ctx, name+"-recovery-source", "barmancloud.cnpg.io/v1", "ObjectStore", recoveryStore(drillCluster), t.Namespace,
		t.objectStoreSpec(t.recoverySource(), "RECOVERY_REGION", ""), append(opts, pulumi.DependsOn(append([]pulumi.Resource{s3}, t.PluginReady...)))...); err != nil {
		return err
	}
	if err := t.newCanaryQueries(ctx, name, drillCluster, t.Namespace, opts...); err != nil {
		return err
	}
	return t.networkPolicy(ctx, name, opts...)
}

// job creates the drill's manifest, script, account and CronJob.
func (a *RestoreDrillArgs) job(ctx *pulumi.Context, name string, t *PostgresArgs, policies []pulumi.Resource, opts ...pulumi.ResourceOption) error {
	manifest, err := t.clusterManifest()
	if err != nil {
		return err
	}
	cm, err := corev1.NewConfigMap(ctx, name, &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(convention.RestoreDrillJob), Namespace: t.Namespace},
		Data: pulumi.StringMap{"cluster.json": pulumi.String(manifest), "drill.sh": pulumi.String(drillScript),
			"lib.sh": pulumi.String(convention.DrillLib)},
	}, opts...)
	if err != nil {
		return fmt.Errorf("config map: %w", err)
	}
	sa, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(convention.RestoreDrillJob), Namespace: t.Namespace},
	}, opts...)
	if err != nil {
		return fmt.Errorf("service account: %w", err)
	}
	role, err := rbacv1.NewRole(ctx, name, &rbacv1.RoleArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(convention.RestoreDrillJob), Namespace: t.Namespace},
		Rules: rbacv1.PolicyRuleArray{
			// Create cannot be limited to a name; the rest can.
			rbacv1.PolicyRuleArgs{
				ApiGroups: pulumi.ToStringArray([]string{"postgresql.cnpg.io"}), Resources: pulumi.ToStringArray([]string{"clusters"}),
				Verbs: pulumi.ToStringArray([]string{"create"}),
			},
			rbacv1.PolicyRuleArgs{
				ApiGroups: pulumi.ToStringArray([]string{"postgresql.cnpg.io"}), Resources: pulumi.ToStringArray([]string{"clusters"}),
				ResourceNames: pulumi.ToStringArray([]string{drillCluster}),
				Verbs:         pulumi.ToStringArray([]string{"get", "list", "watch", "delete"}),
			},
			rbacv1.PolicyRuleArgs{
				ApiGroups: pulumi.ToStringArray([]string{""}), Resources: pulumi.ToStringArray([]string{"pods"}),
				Verbs: pulumi.ToStringArray([]string{"get", "list"}),
			},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("role: %w", err)
	}
	if _, err := rbacv1.NewRoleBinding(ctx, name, &rbacv1.RoleBindingArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(convention.RestoreDrillJob), Namespace: t.Namespace},
		RoleRef:  rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem()},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: sa.Metadata.Name().Elem(), Namespace: t.Namespace}},
	}, opts...); err != nil {
		return fmt.Errorf("role binding: %w", err)
	}
	_, err = convention.NewDrillCronJob(ctx, name, convention.DrillJob{
		Namespace: t.Namespace, Schedule: a.Schedule, RTO: a.RTO,
		Account: sa.Metadata.Name().Elem(), Scripts: cm.Metadata.Name().Elem(), Env: a.env(), Labels: a.PushingPods,
	}, append(opts, pulumi.DependsOn(policies))...)
	if err != nil {
		return fmt.Errorf("cron job: %w", err)
	}
	return nil
}

// env is what drill.sh reads, but NAMESPACE (the pod's) and TIMEOUT
// (the CronJob's).
func (a *RestoreDrillArgs) env() map[string]string {
	env := convention.DrillEnv(a.Source.NamespaceName, a.Pushgateway, a.RPO, a.RTO)
	env["CLUSTER"], env["MANIFEST"] = drillCluster, "/drill/cluster.json"
	env["CANARY_METRIC"] = convention.CanaryNewest
	return env
}

// Volumes are the throwaway cluster's volume, while a drill runs.
func (a *RestoreDrillArgs) Volumes() []convention.Volumes {
	return []convention.Volumes{{Name: "restore drill " + a.Source.NamespaceName, Count: 1, Size: a.Source.StorageSize, StorageClass: a.StorageClass}}
}
