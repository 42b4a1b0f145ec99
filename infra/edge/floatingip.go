// Package edge is the path from the Internet to the cluster: the reserved
// floating IP of the ingress load balancer (and, next, Cloudflare's
// records and zone settings in front of it).
package edge

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-openstack/sdk/v3/go/openstack/networking"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/openstackcloud"
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

// FloatingIPArgs configure a reserved floating IP.
type FloatingIPArgs struct {
	// Pool is the external network; default DefaultPool.
	Pool string
	// Description says what the address is for.
	Description string
	// OpenStack configures the explicit OpenStack provider.
	OpenStack openstackcloud.Args
}

func (a *FloatingIPArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	return a.OpenStack.Validate()
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
	provider, err := openstackcloud.NewProvider(ctx, name, args.OpenStack, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("floating ip %q: %w", name, err)
	}
	pool := args.Pool
	if pool == "" {
		pool = DefaultPool
	}
	fip, err := networking.NewFloatingIp(ctx, name, &networking.FloatingIpArgs{
		Pool:        pulumi.String(pool),
		Description: openstackcloud.Optional(args.Description),
		Tags:        pulumi.ToStringArray([]string{"camps-infra", "ingress"}),
	}, pulumi.Parent(c), pulumi.Provider(provider), pulumi.Protect(true))
	if err != nil {
		return nil, fmt.Errorf("floating ip %q: %w", name, err)
	}
	c.Address = fip.Address
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"address": c.Address})
}
