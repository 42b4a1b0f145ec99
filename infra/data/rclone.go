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

	"gitlab.com/camps-ch/infra/infra/convention"
)

// rcloneResources size each rclone container.
var rcloneResources = convention.NewResources("50m", "64Mi", "500m", "256Mi")

// rcloneJob is an rclone command on a schedule, against S3 remotes.
type rcloneJob struct {
	// Name of the CronJob, its Secret (<Name>-s3) and its network policy.
	Name      string
	Namespace pulumi.StringInput
	// Schedule is a five-field cron.
	Schedule string
	// Remotes are rclone's remotes: each an S3 bucket's endpoint and
	// region, reached with the one EC2 credential.
	Remotes              []remote
	AccessKey, SecretKey pulumi.StringInput
	// Args are rclone's command and arguments.
	Args []string
	// Before, when set, are run first, in order, as init containers
	// sharing /tmp with rclone: rclone commands (Args of each) or, with
	// an Image, another program (a database dump writing into /tmp).
	Before []step
}

// step is a container run before the job's rclone command. Without Image
// it is rclone with Args; with Image it runs Command with Env.
type step struct {
	Name, Image string
	Command     []string
	Args        []string
	Env         corev1.EnvVarArray
	Resources   convention.Resources
}

// validate refuses a location rclone cannot reach: no bucket, a plain
// HTTP endpoint, no region (requests are signed for it).
func (l S3Location) validate() error {
	switch {
	case !IsBucketName(l.Bucket):
		return fmt.Errorf("bucket %q: a bucket name is required", l.Bucket)
	case !strings.HasPrefix(l.Endpoint, "https://"):
		return fmt.Errorf("bucket %s: endpoint %q is not an https:// URL", l.Bucket, l.Endpoint)
	case l.Region == "":
		return fmt.Errorf("bucket %s: its region is required", l.Bucket)
	}
	return nil
}

// validateJob checks what every rclone job needs: where it runs, its
// credentials and its five-field cron schedule.
func validateJob(namespace pulumi.StringInput, accessKey, secretKey pulumi.StringInput, schedule string) error {
	switch {
	case namespace == nil:
		return errors.New("a namespace is required")
	case accessKey == nil || secretKey == nil:
		return errors.New("credentials are required")
	case len(strings.Fields(schedule)) != 5:
		return fmt.Errorf("schedule %q is not a five-field cron", schedule)
	}
	return nil
}

// remote is an rclone remote: a name and where it is.
type remote struct {
	Name string
	At   S3Location
}

// newRcloneJob creates the CronJob under Pod Security restricted (no
// service account token, read-only root), its credentials Secret, and
// its egress: HTTPS to S3 only.
func newRcloneJob(ctx *pulumi.Context, name string, j rcloneJob, opts ...pulumi.ResourceOption) (*batchv1.CronJob, error) {
	labels := pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(j.Name)}

	creds := pulumi.StringMap{}
	env := corev1.EnvVarArray{}
	for _, r := range j.Remotes {
		at, prefix := r.At, "RCLONE_CONFIG_"+strings.ToUpper(r.Name)+"_"
		creds[prefix+"ACCESS_KEY_ID"] = j.AccessKey
		creds[prefix+"SECRET_ACCESS_KEY"] = j.SecretKey
		for _, kv := range [][2]string{{"TYPE", "s3"}, {"PROVIDER", "Other"}, {"ENDPOINT", at.Endpoint}, {"REGION", at.Region}, {"FORCE_PATH_STYLE", "true"}} {
			env = append(env, corev1.EnvVarArgs{Name: pulumi.String(prefix + kv[0]), Value: pulumi.String(kv[1])})
		}
	}
	secret, err := corev1.NewSecret(ctx, name+"-credentials", &corev1.SecretArgs{
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(j.Name + "-s3"), Namespace: j.Namespace},
		StringData: pulumi.ToSecret(creds).(pulumi.StringMapOutput),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	env = append(env, corev1.EnvVarArgs{Name: pulumi.String("HOME"), Value: pulumi.String("/tmp")})
	secure := convention.RestrictedContainer()
	tmp := corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")}}
	rclone := func(name string, args []string) corev1.ContainerArgs {
		return corev1.ContainerArgs{
			Name:            pulumi.String(name),
			Image:           pulumi.String(RcloneImage),
			Args:            pulumi.ToStringArray(append(append([]string{}, args...), "--stats-one-line", "-v")),
			Env:             env,
			EnvFrom:         corev1.EnvFromSourceArray{corev1.EnvFromSourceArgs{SecretRef: &corev1.SecretEnvSourceArgs{Name: secret.Metadata.Name()}}},
			Resources:       rcloneResources.Args(),
			SecurityContext: secure,
			VolumeMounts:    tmp,
		}
	}
	var before corev1.ContainerArray
	for _, st := range j.Before {
		if st.Image == "" {
			before = append(before, rclone(st.Name, st.Args))
			continue
		}
		before = append(before, corev1.ContainerArgs{
			Name: pulumi.String(st.Name), Image: pulumi.String(st.Image),
			Command: pulumi.ToStringArray(st.Command), Args: pulumi.ToStringArray(st.Args), Env: st.Env,
			Resources: st.Resources.Args(), SecurityContext: secure, VolumeMounts: tmp,
		})
	}
	container := rclone("rclone", j.Args)
	job, err := batchv1.NewCronJob(ctx, name, &batchv1.CronJobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(j.Name), Namespace: j.Namespace, Labels: labels},
		Spec: &batchv1.CronJobSpecArgs{
			Schedule:                   pulumi.String(j.Schedule),
			ConcurrencyPolicy:          pulumi.String("Forbid"),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(3),
			JobTemplate: &batchv1.JobTemplateSpecArgs{Spec: &batchv1.JobSpecArgs{
				BackoffLimit:          pulumi.Int(2),
				ActiveDeadlineSeconds: pulumi.Int(4 * 3600),
				Template: &corev1.PodTemplateSpecArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: labels},
					Spec: &corev1.PodSpecArgs{
						InitContainers:               before,
						RestartPolicy:                pulumi.String("OnFailure"),
						AutomountServiceAccountToken: pulumi.Bool(false),
						SecurityContext:              convention.RestrictedPod(65534),
						Containers:                   corev1.ContainerArray{container},
						Volumes: corev1.VolumeArray{corev1.VolumeArgs{
							Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{},
						}},
					},
				},
			}},
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("cron job: %w", err)
	}
	// The namespace denies egress by default; rclone talks HTTPS to S3.
	if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-egress", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(j.Name), Namespace: j.Namespace},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(443)}},
			}},
		},
	}, opts...); err != nil {
		return nil, fmt.Errorf("network policy: %w", err)
	}
	return job, nil
}
