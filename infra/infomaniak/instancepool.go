package infomaniak

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// InstancePool is a pool of worker nodes of a KaaS cluster in one
// availability zone. Autoscaling is on when MaxInstances > MinInstances.
//
// kaasId, availabilityZone, flavor, labels and region force a replacement; name and
// the instance bounds are updated in place.
type InstancePool struct {
	pulumi.CustomResourceState

	// InstancePoolID is the API's id of the pool (instance_pool_id).
	InstancePoolID pulumi.IntOutput `pulumi:"instancePoolId"`
	// KaasID is the id of the cluster the pool belongs to.
	KaasID pulumi.IntOutput `pulumi:"kaasId"`
	// Name is the pool's name.
	Name pulumi.StringOutput `pulumi:"name"`
	// Flavor is the instance flavor, e.g. a4-ram8-disk50-perf1.
	Flavor pulumi.StringOutput `pulumi:"flavor"`
	// AvailabilityZone is the zone, e.g. az-1.
	AvailabilityZone pulumi.StringOutput `pulumi:"availabilityZone"`
	// Region is the cluster's region, e.g. dc4-a.
	Region pulumi.StringOutput `pulumi:"region"`
	// MinInstances is the lower bound of the node count.
	MinInstances pulumi.IntOutput `pulumi:"minInstances"`
	// MaxInstances is the upper bound of the node count.
	MaxInstances pulumi.IntOutput `pulumi:"maxInstances"`
	// Status is the API's status: Active, Creating, ScalingUp, ...
	Status pulumi.StringOutput `pulumi:"status"`
}

// InstancePoolArgs are the inputs of an InstancePool.
type InstancePoolArgs struct {
	// KaasID is the id of the cluster (Cluster.KaasID).
	KaasID pulumi.IntInput
	// Name of the pool: an RFC 1123 label of at most 40 characters.
	Name pulumi.StringInput
	// Flavor of the instances, a flavor name of the region.
	Flavor pulumi.StringInput
	// AvailabilityZone of the pool, e.g. az-1.
	AvailabilityZone pulumi.StringInput
	// Region is the cluster's region, e.g. dc4-a: the provider's Check
	// looks the zone and flavor up in its catalogue, so that a preview
	// names a flavor the region does not offer. Optional: unset, they are
	// checked only by the create.
	Region pulumi.StringInput
	// MinInstances is at least 1.
	MinInstances pulumi.IntInput
	// MaxInstances is at least MinInstances and at most 1000.
	MaxInstances pulumi.IntInput
	// Labels of the nodes; keys must have the prefix node-role.kubernetes.io
	// or belong to node-restriction.kubernetes.io or custom.kaas.infomaniak.cloud.
	Labels pulumi.StringMapInput
}

type instancePoolInputs struct {
	KaasID           pulumi.IntInput       `pulumi:"kaasId"`
	Name             pulumi.StringInput    `pulumi:"name"`
	Flavor           pulumi.StringInput    `pulumi:"flavor"`
	AvailabilityZone pulumi.StringInput    `pulumi:"availabilityZone"`
	Region           pulumi.StringInput    `pulumi:"region"`
	MinInstances     pulumi.IntInput       `pulumi:"minInstances"`
	MaxInstances     pulumi.IntInput       `pulumi:"maxInstances"`
	Labels           pulumi.StringMapInput `pulumi:"labels"`
}

type instancePoolState struct {
	KaasID           int               `pulumi:"kaasId"`
	Name             string            `pulumi:"name"`
	Flavor           string            `pulumi:"flavor"`
	AvailabilityZone string            `pulumi:"availabilityZone"`
	Region           string            `pulumi:"region"`
	MinInstances     int               `pulumi:"minInstances"`
	MaxInstances     int               `pulumi:"maxInstances"`
	Labels           map[string]string `pulumi:"labels"`
}

func (instancePoolInputs) ElementType() reflect.Type { return reflect.TypeFor[instancePoolState]() }

// NewInstancePool registers a worker pool of a KaaS cluster.
func NewInstancePool(ctx *pulumi.Context, name string, args *InstancePoolArgs, opts ...pulumi.ResourceOption) (*InstancePool, error) {
	if args == nil {
		args = &InstancePoolArgs{}
	}
	in := instancePoolInputs(*args)
	var p InstancePool
	if err := ctx.RegisterResource(InstancePoolType, name, in, &p, opts...); err != nil {
		return nil, err
	}
	return &p, nil
}
