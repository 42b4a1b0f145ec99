package platform

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// longhornDrillScript is Longhorn's drill (longhorn-drill.sh).
//
//go:embed longhorn-drill.sh
var longhornDrillScript string

// longhornDrillVolume is the drill's restored volume.
const longhornDrillVolume = "restore-drill"

// LonghornDrill restores the newest Longhorn backup on a schedule and
// measures the restore.
type LonghornDrill struct {
	// Schedule is a five-field cron.
	Schedule string
	// RTO is the restore's objective; the drill waits twice as long. The
	// RPO objective is convention.LonghornBackupMaxAge.
	RTO time.Duration
	// Pushgateway is where the result goes (PushgatewayURL).
	Pushgateway string
}

func (d *LonghornDrill) validate() error {
	switch {
	case d == nil:
		return nil
	case len(d.Schedule) == 0 || d.RTO <= 0 || d.Pushgateway == "":
		return errors.New("the restore drill needs a schedule, an RTO objective and the Pushgateway")
	}
	return nil
}

// LonghornDrillVolume is the Volume the drill creates to restore the
// backup at url: one replica, a block device, not a standby.
func LonghornDrillVolume(url string) string {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "longhorn.io/v1beta2", "kind": "Volume",
		// A recurring-job group label takes it out of the default group:
		// nothing snapshots or backs up the drill's copy.
		"metadata": map[string]any{"name": longhornDrillVolume, "labels": map[string]any{
			"app.kubernetes.io/part-of":                                     convention.RestoreDrillJob,
			"recurring-job-group.longhorn.io/" + convention.RestoreDrillJob: "enabled",
		}},
		"spec": map[string]any{"fromBackup": url, "frontend": "blockdev", "numberOfReplicas": 1, "Standby": false},
	})
	return string(b)
}

// env is what the script reads, but NAMESPACE.
func (d *LonghornDrill) env() map[string]string {
	env := convention.DrillEnv(convention.LonghornNamespace, d.Pushgateway, convention.LonghornBackupMaxAge, d.RTO)
	env["VOLUME"] = longhornDrillVolume
	// A printf format: the manifest holds no other %.
	env["VOLUME_MANIFEST"] = LonghornDrillVolume("%s") + "\n"
	env["TIMEOUT"] = strconv.Itoa(int((2 * d.RTO).Seconds()))
	return env
}

// longhornDrillNetwork: the drill calls the API server (DNSAndAPI) and
// pushes to the Pushgateway.
func longhornDrillNetwork() []netpol.Allow {
	return []netpol.Allow{{Name: convention.RestoreDrillJob, Pods: convention.DrillPods, Egress: []netpol.Flow{
		netpol.From(convention.MonitoringNamespace, pushgatewayPods, 9091),
	}}}
}

// newLonghornDrill creates the drill in Longhorn's namespace: its account,
// allowed only to read backups, to create volumes, and to read, watch and
// delete its own; its script; the CronJob (restricted, one attempt per
// run).
func newLonghornDrill(ctx *pulumi.Context, name string, namespace pulumi.StringInput, d *LonghornDrill, opts ...pulumi.ResourceOption) error {
	n := name + "-restore-drill"
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(convention.RestoreDrillJob), Namespace: namespace}
	policies, err := netpol.Add(ctx, n, namespace, longhornDrillNetwork(), opts...)
	if err != nil {
		return err
	}
	cm, err := corev1.NewConfigMap(ctx, n, &corev1.ConfigMapArgs{
		Metadata: meta,
		Data:     pulumi.StringMap{"drill.sh": pulumi.String(longhornDrillScript), "lib.sh": pulumi.String(convention.DrillLib)},
	}, opts...)
	if err != nil {
		return fmt.Errorf("drill script: %w", err)
	}
	sa, err := corev1.NewServiceAccount(ctx, n, &corev1.ServiceAccountArgs{Metadata: meta}, opts...)
	if err != nil {
		return fmt.Errorf("drill account: %w", err)
	}
	role, err := rbacv1.NewRole(ctx, n, &rbacv1.RoleArgs{
		Metadata: meta,
		Rules: rbacv1.PolicyRuleArray{
			rbacv1.PolicyRuleArgs{ApiGroups: pulumi.ToStringArray([]string{"longhorn.io"}), Resources: pulumi.ToStringArray([]string{"backups"}),
				Verbs: pulumi.ToStringArray([]string{"get", "list"})},
			// Create cannot be limited to a name; the rest can: the drill
			// may read, watch and delete its own volume only, never a
			// production one.
			rbacv1.PolicyRuleArgs{ApiGroups: pulumi.ToStringArray([]string{"longhorn.io"}), Resources: pulumi.ToStringArray([]string{"volumes"}),
				Verbs: pulumi.ToStringArray([]string{"create"})},
			rbacv1.PolicyRuleArgs{ApiGroups: pulumi.ToStringArray([]string{"longhorn.io"}), Resources: pulumi.ToStringArray([]string{"volumes"}),
				ResourceNames: pulumi.ToStringArray([]string{longhornDrillVolume}),
				Verbs:         pulumi.ToStringArray([]string{"get", "list", "watch", "delete"})},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("drill role: %w", err)
	}
	if _, err := rbacv1.NewRoleBinding(ctx, n, &rbacv1.RoleBindingArgs{
		Metadata: meta,
		RoleRef:  rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem()},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: sa.Metadata.Name().Elem(), Namespace: namespace}},
	}, opts...); err != nil {
		return fmt.Errorf("drill binding: %w", err)
	}
	_, err = convention.NewDrillCronJob(ctx, n, convention.DrillJob{
		Namespace: namespace, Schedule: d.Schedule, RTO: d.RTO,
		Account: sa.Metadata.Name().Elem(), Scripts: cm.Metadata.Name().Elem(), Env: d.env(), Labels: PushingPods,
	}, append(opts, pulumi.DependsOn(policies))...)
	if err != nil {
		return fmt.Errorf("drill: %w", err)
	}
	return nil
}
