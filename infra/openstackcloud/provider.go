// Package openstackcloud is the explicit OpenStack provider of Infomaniak's
// Public Cloud, shared by the components that create OpenStack resources
// (the edge's floating IP, the data's object storage).
package openstackcloud

import (
	"fmt"

	"github.com/pulumi/pulumi-openstack/sdk/v3/go/openstack"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configure the provider. Empty fields fall back to the provider's
// OS_* environment (OS_AUTH_URL, OS_REGION_NAME, OS_PROJECT_ID,
// OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET, or
// OS_USERNAME and OS_PASSWORD).
type Args struct {
	// AuthURL is the identity endpoint.
	AuthURL string
	// Region is the region, e.g. dc4-a.
	Region string
	// ProjectID is the project (tenant) id, PCP-….
	ProjectID string
	// ApplicationCredentialID names an application credential.
	ApplicationCredentialID string
	// ApplicationCredentialSecret is its secret; kept secret.
	ApplicationCredentialSecret pulumi.StringInput
}

// Validate checks that an application credential comes with its secret.
func (a Args) Validate() error {
	if a.ApplicationCredentialID != "" && a.ApplicationCredentialSecret == nil {
		return fmt.Errorf("an application credential needs its secret")
	}
	return nil
}

// InRegion returns the same settings for another region.
func (a Args) InRegion(region string) Args {
	a.Region = region
	return a
}

// Optional is nil for "", else the string.
func Optional(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}

// NewProvider creates the explicit provider; the credential's secret stays
// secret.
func NewProvider(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*openstack.Provider, error) {
	pargs := &openstack.ProviderArgs{
		AuthUrl:                 Optional(a.AuthURL),
		Region:                  Optional(a.Region),
		TenantId:                Optional(a.ProjectID),
		ApplicationCredentialId: Optional(a.ApplicationCredentialID),
	}
	if a.ApplicationCredentialSecret != nil {
		pargs.ApplicationCredentialSecret = pulumi.ToSecret(a.ApplicationCredentialSecret.ToStringOutput()).(pulumi.StringOutput)
	}
	p, err := openstack.NewProvider(ctx, name, pargs, opts...)
	if err != nil {
		return nil, fmt.Errorf("openstack provider: %w", err)
	}
	return p, nil
}
