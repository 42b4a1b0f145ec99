package data

import (
	"errors"
	"fmt"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BackupCopyType is the type token of the BackupCopy component.
const BackupCopyType = "camps:data:BackupCopy"

// RcloneImage is the pinned rclone image the copy runs.
const RcloneImage = "docker.io/rclone/rclone:1.75.1"

// CopyJobName is the copy's CronJob; the freshness alert reads its last
// success from kube-state-metrics.
const CopyJobName = "backup-copy"

// BackupCopy copies a bucket to a bucket in another region on a schedule.
type BackupCopy struct {
	pulumi.ResourceState

	// Job is the CronJob's name.
	Job pulumi.StringOutput `pulumi:"job"`
}

// S3Location is a bucket at an endpoint, in its region (requests are
// signed for it).
type S3Location struct {
	Bucket, Endpoint, Region string
}

// BackupCopyArgs configure the copy. Every field is required.
type BackupCopyArgs struct {
	// Namespace runs the CronJob.
	Namespace pulumi.StringInput
	// From and To are the source and the copy.
	From, To S3Location
	// AccessKey and SecretKey reach both (an EC2 credential is the
	// project's, in every region); SecretKey is kept secret.
	AccessKey, SecretKey pulumi.StringInput
	// Schedule is a five-field cron.
	Schedule string
}

func (a *BackupCopyArgs) validate() error {
	switch {
	case a == nil || a.Namespace == nil:
		return errors.New("a namespace is required")
	case a.From.Bucket == "" || a.To.Bucket == "" || a.From == a.To:
		return errors.New("two different buckets are required")
	case !strings.HasPrefix(a.From.Endpoint, "https://") || !strings.HasPrefix(a.To.Endpoint, "https://"):
		return errors.New("the endpoints must be https:// URLs")
	case a.From.Region == "" || a.To.Region == "":
		return errors.New("both regions are required")
	case a.AccessKey == nil || a.SecretKey == nil:
		return errors.New("credentials are required")
	case len(strings.Fields(a.Schedule)) != 5:
		return fmt.Errorf("schedule %q is not a five-field cron", a.Schedule)
	}
	return nil
}

// NewBackupCopy mirrors From into To with rclone (sync: what the source's
// retention deletes goes from the copy too; the copy bucket's versioning
// keeps it a while longer), under Pod Security restricted, allowed out on
// HTTPS only.
func NewBackupCopy(ctx *pulumi.Context, name string, args *BackupCopyArgs, opts ...pulumi.ResourceOption) (*BackupCopy, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("backup copy %q: %w", name, err)
	}
	c := &BackupCopy{}
	if err := ctx.RegisterComponentResource(BackupCopyType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("backup copy %q: %w", name, err) }
	labels := pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(CopyJobName)}
	secret, err := corev1.NewSecret(ctx, name+"-credentials", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(CopyJobName + "-s3"), Namespace: args.Namespace},
		StringData: pulumi.ToSecret(pulumi.StringMap{
			"RCLONE_CONFIG_SRC_ACCESS_KEY_ID":     args.AccessKey,
			"RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY": args.SecretKey,
			"RCLONE_CONFIG_DST_ACCESS_KEY_ID":     args.AccessKey,
			"RCLONE_CONFIG_DST_SECRET_ACCESS_KEY": args.SecretKey,
		}).(pulumi.StringMapOutput),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	env := corev1.EnvVarArray{}
	for _, remote := range []struct {
		prefix string
		at     S3Location
	}{{"SRC", args.From}, {"DST", args.To}} {
		for _, kv := range [][2]string{{"TYPE", "s3"}, {"PROVIDER", "Other"}, {"ENDPOINT", remote.at.Endpoint}, {"REGION", remote.at.Region}, {"FORCE_PATH_STYLE", "true"}} {
			env = append(env, corev1.EnvVarArgs{Name: pulumi.String("RCLONE_CONFIG_" + remote.prefix + "_" + kv[0]), Value: pulumi.String(kv[1])})
		}
	}
	env = append(env, corev1.EnvVarArgs{Name: pulumi.String("HOME"), Value: pulumi.String("/tmp")})
	container := corev1.ContainerArgs{
		Name:  pulumi.String("rclone"),
		Image: pulumi.String(RcloneImage),
		Args: pulumi.ToStringArray([]string{"sync", "src:" + args.From.Bucket, "dst:" + args.To.Bucket,
			"--checksum", "--transfers", "4", "--stats-one-line", "-v"}),
		Env:     env,
		EnvFrom: corev1.EnvFromSourceArray{corev1.EnvFromSourceArgs{SecretRef: &corev1.SecretEnvSourceArgs{Name: secret.Metadata.Name()}}},
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("50m"), "memory": pulumi.String("64Mi")},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("500m"), "memory": pulumi.String("256Mi")},
		},
		SecurityContext: &corev1.SecurityContextArgs{
			AllowPrivilegeEscalation: pulumi.Bool(false),
			ReadOnlyRootFilesystem:   pulumi.Bool(true),
			Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
		},
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")}},
	}
	job, err := batchv1.NewCronJob(ctx, name, &batchv1.CronJobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(CopyJobName), Namespace: args.Namespace, Labels: labels},
		Spec: &batchv1.CronJobSpecArgs{
			Schedule:                   pulumi.String(args.Schedule),
			ConcurrencyPolicy:          pulumi.String("Forbid"),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(3),
			JobTemplate: &batchv1.JobTemplateSpecArgs{Spec: &batchv1.JobSpecArgs{
				BackoffLimit:          pulumi.Int(2),
				ActiveDeadlineSeconds: pulumi.Int(4 * 3600),
				Template: &corev1.PodTemplateSpecArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: labels},
					Spec: &corev1.PodSpecArgs{
						RestartPolicy:                pulumi.String("OnFailure"),
						AutomountServiceAccountToken: pulumi.Bool(false),
						SecurityContext: &corev1.PodSecurityContextArgs{
							RunAsNonRoot:   pulumi.Bool(true),
							RunAsUser:      pulumi.Int(65534),
							SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
						},
						Containers: corev1.ContainerArray{container},
						Volumes: corev1.VolumeArray{corev1.VolumeArgs{
							Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{},
						}},
					},
				},
			}},
		},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	// The namespace denies egress by default; the copy talks HTTPS to S3.
	if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-egress", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(CopyJobName), Namespace: args.Namespace},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(443)}},
			}},
		},
	}, pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}
	c.Job = job.Metadata.Name().Elem()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"job": c.Job})
}
