// Package data keeps the data: S3 object storage on Infomaniak (Swift
// containers and EC2 credentials), PostgreSQL clusters (CloudNativePG) with
// WAL archiving and scheduled base backups to it, recovery from it, and the
// copy of the backups to another region.
package data

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-openstack/sdk/v3/go/openstack/identity"
	"github.com/pulumi/pulumi-openstack/sdk/v3/go/openstack/objectstorage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/openstackcloud"
)

// ObjectStorageType is the type token of the ObjectStorage component.
const ObjectStorageType = "camps:data:ObjectStorage"

// Bucket is one Swift container, reachable over S3.
type Bucket struct {
	// Name is the bucket's name: lowercase letters, digits and dashes.
	Name string
	// Region is where it lives; default the provider's region.
	Region string
	// Unversioned keeps no old versions, for a bucket whose retention
	// must delete for good (the audit log); others keep every version.
	Unversioned bool
}

// ObjectStorage is a stack's buckets, versioned and protected, and one EC2
// credential to reach them over S3.
type ObjectStorage struct {
	pulumi.ResourceState

	// AccessKey is the EC2 credential's access key.
	AccessKey pulumi.StringOutput `pulumi:"accessKey"`
	// SecretKey is its secret key. Always secret.
	SecretKey pulumi.StringOutput `pulumi:"secretKey"`
}

// ObjectStorageArgs configure the buckets. Every field is required.
type ObjectStorageArgs struct {
	// OpenStack configures the explicit provider; its region is the
	// default region of the buckets.
	OpenStack openstackcloud.Args
	// Buckets to create.
	Buckets []Bucket
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// IsBucketName tells whether s is a bucket name: 3 to 63 lowercase
// letters, digits and dashes.
func IsBucketName(s string) bool { return bucketName.MatchString(s) }

func (a *ObjectStorageArgs) validate() error {
	if a == nil || len(a.Buckets) == 0 {
		return errors.New("at least one bucket is required")
	}
	seen := map[string]bool{}
	for _, b := range a.Buckets {
		if !bucketName.MatchString(b.Name) || seen[b.Name] {
			return fmt.Errorf("bucket %q: a unique name of 3 to 63 lowercase letters, digits and dashes is required", b.Name)
		}
		seen[b.Name] = true
	}
	return a.OpenStack.Validate()
}

// NewObjectStorage creates the buckets (Swift containers with versioning,
// protected, one explicit provider per region) and an EC2 credential of
// the project for S3 access.
func NewObjectStorage(ctx *pulumi.Context, name string, args *ObjectStorageArgs, opts ...pulumi.ResourceOption) (*ObjectStorage, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("object storage %q: %w", name, err)
	}
	c := &ObjectStorage{}
	if err := ctx.RegisterComponentResource(ObjectStorageType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("object storage %q: %w", name, err) }
	home, err := openstackcloud.NewProvider(ctx, name, args.OpenStack, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	providers := map[string]pulumi.ProviderResource{args.OpenStack.Region: home}
	for _, b := range args.Buckets {
		p, ok := providers[b.Region]
		if !ok {
			if p, err = openstackcloud.NewProvider(ctx, name+"-"+b.Region, args.OpenStack.InRegion(b.Region), pulumi.Parent(c)); err != nil {
				return nil, wrap(err)
			}
			providers[b.Region] = p
		}
		if _, err := objectstorage.NewContainer(ctx, b.Name, &objectstorage.ContainerArgs{
			Name:       pulumi.String(b.Name),
			Region:     openstackcloud.Optional(b.Region),
			Versioning: pulumi.Bool(!b.Unversioned),
			// A bucket with backups in it is never emptied by Pulumi.
			ForceDestroy: pulumi.Bool(false),
		}, pulumi.Parent(c), pulumi.Provider(p), pulumi.Protect(true)); err != nil {
			return nil, wrap(fmt.Errorf("bucket %s: %w", b.Name, err))
		}
	}
	cred, err := identity.NewEc2CredentialV3(ctx, name, &identity.Ec2CredentialV3Args{
		ProjectId: openstackcloud.Optional(args.OpenStack.ProjectID),
	}, pulumi.Parent(c), pulumi.Provider(home),
		pulumi.AdditionalSecretOutputs([]string{"secret"}))
	if err != nil {
		return nil, wrap(fmt.Errorf("EC2 credential: %w", err))
	}
	c.AccessKey = cred.Access
	c.SecretKey = pulumi.ToSecret(cred.Secret).(pulumi.StringOutput)
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"accessKey": c.AccessKey, "secretKey": c.SecretKey})
}
