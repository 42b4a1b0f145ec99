package data

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ObjectExpiryType is the type token of the ObjectExpiry component.
const ObjectExpiryType = "camps:data:ObjectExpiry"

// ObjectExpiry deletes a bucket's objects once they are older than a
// retention, on a schedule: the retention of logs written to S3, where
// Infomaniak's S3 has no lifecycle rules.
type ObjectExpiry struct {
	pulumi.ResourceState

	// Job is the CronJob's name.
	Job pulumi.StringOutput `pulumi:"job"`
}

// ObjectExpiryArgs configure the expiry. Every field but Path is required.
type ObjectExpiryArgs struct {
	// Name of the CronJob, e.g. audit-retention.
	Name string
	// Namespace runs the CronJob.
	Namespace pulumi.StringInput
	// At is the bucket; Path a prefix inside it (default: the whole bucket).
	At   S3Location
	Path string
	// MaxAgeDays is the retention: older objects are deleted.
	MaxAgeDays int
	// Schedule is a five-field cron.
	Schedule string
	// AccessKey and SecretKey reach the bucket; SecretKey is kept secret.
	AccessKey, SecretKey pulumi.StringInput
}

func (a *ObjectExpiryArgs) validate() error {
	switch {
	case a == nil || a.Name == "":
		return errors.New("a name is required")
	case a.MaxAgeDays < 1:
		return fmt.Errorf("retention %d days: at least one day is required", a.MaxAgeDays)
	}
	if err := a.At.validate(); err != nil {
		return err
	}
	return validateJob(a.Namespace, a.AccessKey, a.SecretKey, a.Schedule)
}

// NewObjectExpiry runs `rclone delete --min-age <days>d` on the bucket on
// the schedule (the object's upload time, not a guess from its name).
func NewObjectExpiry(ctx *pulumi.Context, name string, args *ObjectExpiryArgs, opts ...pulumi.ResourceOption) (*ObjectExpiry, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("object expiry %q: %w", name, err)
	}
	c := &ObjectExpiry{}
	if err := ctx.RegisterComponentResource(ObjectExpiryType, name, c, opts...); err != nil {
		return nil, err
	}
	target := "store:" + args.At.Bucket
	if p := strings.Trim(args.Path, "/"); p != "" {
		target += "/" + p
	}
	job, err := newRcloneJob(ctx, name, rcloneJob{
		Name: args.Name, Namespace: args.Namespace, Schedule: args.Schedule,
		Remotes:   []remote{{"store", args.At}},
		AccessKey: args.AccessKey, SecretKey: args.SecretKey,
		Args: []string{"delete", target, "--min-age", fmt.Sprintf("%dd", args.MaxAgeDays), "--use-server-modtime"},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("object expiry %q: %w", name, err)
	}
	c.Job = job.Metadata.Name().Elem()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"job": c.Job})
}
