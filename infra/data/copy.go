package data

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// BackupCopyType is the type token of the BackupCopy component.
const BackupCopyType = "camps:data:BackupCopy"

// RcloneImage is the pinned rclone image the copy runs.
const RcloneImage = "docker.io/rclone/rclone:1.75.1"

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
	// Job names the CronJob, convention.BackupCopyJobPrefix and what it
	// copies: the freshness alert reads each one's last success from
	// kube-state-metrics.
	Job string
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
	if a == nil {
		return errors.New("args are required")
	}
	if !strings.HasPrefix(a.Job, convention.BackupCopyJobPrefix) || !dnsLabel.MatchString(a.Job) {
		return fmt.Errorf("job %q is not %s<what>, a DNS label", a.Job, convention.BackupCopyJobPrefix)
	}
	if a.From == a.To {
		return errors.New("two different buckets are required")
	}
	for _, l := range []S3Location{a.From, a.To} {
		if err := l.validate(); err != nil {
			return err
		}
	}
	return validateJob(a.Namespace, a.AccessKey, a.SecretKey, a.Schedule)
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
	job, err := newRcloneJob(ctx, name, rcloneJob{
		Name: args.Job, Namespace: args.Namespace, Schedule: args.Schedule,
		Remotes:   []remote{{"src", args.From}, {"dst", args.To}},
		AccessKey: args.AccessKey, SecretKey: args.SecretKey,
		Args: []string{"sync", "src:" + args.From.Bucket, "dst:" + args.To.Bucket, "--checksum", "--transfers", "4"},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.Job = job.Metadata.Name().Elem()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"job": c.Job})
}
