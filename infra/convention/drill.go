package convention

import (
	_ "embed"
	"maps"
	"slices"
	"strconv"
	"time"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The restore drills: a database's (infra/data) and Longhorn's
// (infra/platform) run on a schedule, restore the newest backup, verify
// it and push what they measured to the Pushgateway. What they share is
// here: the image, the metrics, the script's common part.

// KubectlImage pins the drills' tools: kubectl with a shell, curl and awk
// (alpine-docker's image, community-maintained; it runs as any user).
const KubectlImage = "docker.io/alpine/kubectl:1.35.4"

// DrillLib is the drills' shared shell functions (drill.sh here), which
// each drill's script sources from lib.sh beside it.
//
//go:embed drill.sh
var DrillLib string

// DrillPods label the drills' pods.
var DrillPods = map[string]string{"app.kubernetes.io/name": RestoreDrillJob}

// DrillEnv is what DrillLib reads but NAMESPACE (the pod's own): the
// restored data's namespace, the Pushgateway and the objectives.
func DrillEnv(source, pushgateway string, rpo, rto time.Duration) map[string]string {
	return map[string]string{
		"SOURCE_NAMESPACE": source, "PUSHGATEWAY": pushgateway, "DRILL_JOB": RestoreDrillJob, "HOME": "/tmp",
		"RPO_OBJECTIVE": strconv.Itoa(int(rpo.Seconds())), "RTO_OBJECTIVE": strconv.Itoa(int(rto.Seconds())),
		"METRIC_LAST_RUN": DrillLastRun, "METRIC_SUCCESS": DrillSuccess,
		"METRIC_LAST_SUCCESS": DrillLastSuccess, "METRIC_RPO": DrillRPO, "METRIC_RTO": DrillRTO,
		"METRIC_RPO_OBJECTIVE": DrillRPOObjective, "METRIC_RTO_OBJECTIVE": DrillRTOObjective,
	}
}

// LonghornBackupMaxAge is how old a volume's newest backup may be: the
// daily backup and a margin. The backup alerts and Longhorn's restore
// drill (its RPO objective) read it.
const LonghornBackupMaxAge = 26 * time.Hour

// Metrics the restore drill pushes to the Pushgateway for each database
// it restores, grouped by job RestoreDrillJob and the drill's namespace,
// with the label source_namespace (the restored database's namespace).
const (
	RestoreDrillJob = "restore-drill"
	// DrillLastRun is when the last drill ended, failed or not.
	DrillLastRun = "camps_restore_drill_last_run_timestamp_seconds"
	// DrillSuccess is 1 when the last drill restored and verified the
	// database, 0 when it did not.
	DrillSuccess = "camps_restore_drill_success"
	// DrillLastSuccess is when a drill last succeeded.
	DrillLastSuccess = "camps_restore_drill_last_success_timestamp_seconds"
	// DrillRPO is the restored copy's age when the restore began: the data
	// a disaster at that moment would have lost.
	DrillRPO = "camps_restore_drill_rpo_seconds"
	// DrillRTO is the time from the restore's start to a ready, verified
	// database.
	DrillRTO = "camps_restore_drill_rto_seconds"
	// DrillRPOObjective and DrillRTOObjective are the objectives the stack
	// configured, pushed beside the measures so that the alerts compare
	// them whichever stack's Prometheus holds them.
	DrillRPOObjective = "camps_restore_drill_rpo_objective_seconds"
	DrillRTOObjective = "camps_restore_drill_rto_objective_seconds"
)

// DrillResources size a drill's container (kubectl and curl).
var DrillResources = NewResources("20m", "64Mi", "200m", "128Mi")

// DrillJob is a drill's CronJob: its script drill.sh and lib.sh in the
// ConfigMap Scripts, run by Account with Env (and TIMEOUT, DrillTimeout
// of RTO, in seconds), on Schedule, one attempt, for at most DrillTimeout
// and 20 minutes of preparing and cleaning up.
type DrillJob struct {
	Namespace        pulumi.StringInput
	Schedule         string
	RTO              time.Duration
	Account, Scripts pulumi.StringInput
	Env              map[string]string
	Labels           map[string]string // beside DrillPods, e.g. the Pushgateway's admission
}

// DrillTimeout is how long a drill waits for its restore: twice the RTO
// objective, so that a slow restore is measured, not cut short.
func DrillTimeout(rto time.Duration) time.Duration { return 2 * rto }

// NewDrillCronJob creates the CronJob RestoreDrillJob: Pod Security
// restricted (non-root, read-only, no capabilities), one attempt per run
// (a retry would restore again; the next schedule is the retry, and the
// failure is pushed), NAMESPACE from the pod.
func NewDrillCronJob(ctx *pulumi.Context, name string, j DrillJob, opts ...pulumi.ResourceOption) (*batchv1.CronJob, error) {
	vars := corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("NAMESPACE"), ValueFrom: &corev1.EnvVarSourceArgs{
		FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("metadata.namespace")},
	}}}
	env := maps.Clone(j.Env)
	env["TIMEOUT"] = strconv.Itoa(int(DrillTimeout(j.RTO).Seconds()))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		vars = append(vars, corev1.EnvVarArgs{Name: pulumi.String(k), Value: pulumi.String(env[k])})
	}
	labels := pulumi.StringMap{}
	for _, m := range []map[string]string{j.Labels, DrillPods} {
		for k, v := range m {
			labels[k] = pulumi.String(v)
		}
	}
	return batchv1.NewCronJob(ctx, name, &batchv1.CronJobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(RestoreDrillJob), Namespace: j.Namespace},
		Spec: &batchv1.CronJobSpecArgs{
			Schedule:                   pulumi.String(j.Schedule),
			ConcurrencyPolicy:          pulumi.String("Forbid"),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(3),
			JobTemplate: &batchv1.JobTemplateSpecArgs{Spec: &batchv1.JobSpecArgs{
				BackoffLimit:          pulumi.Int(0),
				ActiveDeadlineSeconds: pulumi.Int(int((DrillTimeout(j.RTO) + 20*time.Minute).Seconds())),
				Template: &corev1.PodTemplateSpecArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: labels},
					Spec: &corev1.PodSpecArgs{
						RestartPolicy:      pulumi.String("Never"),
						ServiceAccountName: j.Account,
						// Time for the trap to push the failure and clean
						// up when the pod is stopped.
						TerminationGracePeriodSeconds: pulumi.Int(90),
						SecurityContext:               RestrictedPod(65534),
						Containers: corev1.ContainerArray{corev1.ContainerArgs{
							Name:            pulumi.String("drill"),
							Image:           pulumi.String(KubectlImage),
							Command:         pulumi.ToStringArray([]string{"/bin/sh", "/drill/drill.sh"}),
							Env:             vars,
							Resources:       DrillResources.Args(),
							SecurityContext: RestrictedContainer(),
							VolumeMounts: corev1.VolumeMountArray{
								corev1.VolumeMountArgs{Name: pulumi.String("drill"), MountPath: pulumi.String("/drill"), ReadOnly: pulumi.Bool(true)},
								corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
							},
						}},
						Volumes: corev1.VolumeArray{
							corev1.VolumeArgs{Name: pulumi.String("drill"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: j.Scripts}},
							corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}},
						},
					},
				},
			}},
		},
	}, opts...)
}
