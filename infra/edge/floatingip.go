// Package edge is the path from the Internet to the cluster: the reserved
// floating IP of the ingress load balancer (and, next, Cloudflare's
// records and zone settings in front of it).
package edge

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-openstack/sdk/v3/go/openstack"
	"github.com/pulumi/pulumi-openstack/sdk/v3/go/openstack/networking"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FloatingIPType is the type token of the FloatingIP component.
const FloatingIPType = "camps:edge:FloatingIP"

// DefaultPool is Infomaniak's external network for floating IPs.
const DefaultPool = "ext-floating1"

// FloatingIP is a floating IP reserved for the ingress load balancer. It
// outlives load balancers, so DNS never has to change; it is protected.
type FloatingIP struct {
	pulumi.ResourceState

	// Address is the reserved IPv4 address.
	Address pulumi.StringOutput `pulumi:"address"`
}

// OpenStackArgs configure the OpenStack provider the address is reserved
// with. Empty fields fall back to the provider's OS_* environment
// (OS_AUTH_URL, OS_REGION_NAME, OS_PROJECT_ID, OS_APPLICATION_CREDENTIAL_ID
// and OS_APPLICATION_CREDENTIAL_SECRET, or OS_USERNAME and OS_PASSWORD).
type OpenStackArgs struct {
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

// FloatingIPArgs configure a reserved floating IP.
type FloatingIPArgs struct {
	// Pool is the external network; default DefaultPool.
	Pool string
	// Description says what the address is for.
	Description string
	// OpenStack configures the explicit OpenStack provider.
	OpenStack OpenStackArgs
}

func (a *FloatingIPArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.OpenStack.ApplicationCredentialID != "" && a.OpenStack.ApplicationCredentialSecret == nil:
		return errors.New("an application credential needs its secret")
	}
	return nil
}

func optional(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}

// NewFloatingIP reserves a floating IP from the pool with an explicit
// OpenStack provider. The address is protected: a preview that would
// release it fails.
func NewFloatingIP(ctx *pulumi.Context, name string, args *FloatingIPArgs, opts ...pulumi.ResourceOption) (*FloatingIP, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("floating ip %q: %w", name, err)
	}
	c := &FloatingIP{}
	if err := ctx.RegisterComponentResource(FloatingIPType, name, c, opts...); err != nil {
		return nil, err
	}
	os := args.OpenStack
	pargs := &openstack.ProviderArgs{
		AuthUrl:                 optional(os.AuthURL),
		Region:                  optional(os.Region),
		TenantId:                optional(os.ProjectID),
		ApplicationCredentialId: optional(os.ApplicationCredentialID),
	}
	if os.ApplicationCredentialSecret != nil {
		pargs.ApplicationCredentialSecret = pulumi.ToSecret(os.ApplicationCredentialSecret.ToStringOutput()).(pulumi.StringOutput)
	}
	provider, err := openstack.NewProvider(ctx, name, pargs, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("floating ip %q: openstack provider: %w", name, err)
	}
	pool := args.Pool
	if pool == "" {
		pool = DefaultPool
	}
	fip, err := networking.NewFloatingIp(ctx, name, &networking.FloatingIpArgs{
		Pool:        pulumi.String(pool),
		Description: optional(args.Description),
		Tags:        pulumi.ToStringArray([]string{"camps-infra", "ingress"}),
	}, pulumi.Parent(c), pulumi.Provider(provider), pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("floating ip %q: %w", name, err)
	}
	c.Address = fip.Address
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"address": c.Address})
}
