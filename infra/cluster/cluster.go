// Package cluster yields the Kubernetes cluster a stack deploys to, as one
// explicit kubernetes.Provider: either an Infomaniak KaaS cluster it
// creates (with one instance pool per availability zone), or a cluster made
// elsewhere that it attaches to through a kubeconfig.
package cluster

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/infomaniak"
)

// ComponentType is the type token of the Cluster component.
const ComponentType = "camps:cluster:Cluster"

// Cluster is the cluster a stack deploys to.
type Cluster struct {
	pulumi.ResourceState

	// Name is the cluster's name.
	Name pulumi.StringOutput `pulumi:"name"`
	// Kubeconfig is the cluster's admin kubeconfig. Always secret.
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`
	// Provider is the one Kubernetes provider of the cluster: every
	// in-cluster resource must use it.
	Provider *kubernetes.Provider `pulumi:"-"`
}

// Args chooses the mode: exactly one of Create and Attach is set.
type Args struct {
	// Create makes a new Infomaniak KaaS cluster.
	Create *CreateArgs
	// Attach uses a cluster made elsewhere.
	Attach *AttachArgs
}

// CreateArgs describe a KaaS cluster. The cluster and its pools are
// protected: a preview that would delete them fails.
type CreateArgs struct {
	// Name of the cluster.
	Name string
	// Region, e.g. dc4-a.
	Region string
	// Pack is the control plane pack, e.g. shared.
	Pack string
	// KubernetesVersion is a minor version, e.g. 1.35.
	KubernetesVersion string
	// APIServerIPFilters restricts the API server to these CIDRs; empty admits all.
	APIServerIPFilters []string
	// OIDC, when set, lets the API server authenticate people with the
	// identity provider's tokens.
	OIDC *OIDC
	// Audit, when set, makes the API server log requests by a policy and
	// send them to a webhook.
	Audit *Audit
	// Pools are the instance pools; at least one.
	Pools []PoolArgs
	// API configures the Infomaniak provider the cluster is created with.
	API infomaniak.ProviderArgs
}

// OIDC is the API server's OIDC authentication.
type OIDC struct {
	// IssuerURL and ClientID identify the identity provider and the
	// cluster's client there.
	IssuerURL, ClientID string
	// UsernameClaim and GroupsClaim are the token's claims for the user
	// and the groups.
	UsernameClaim, GroupsClaim string
	// UsernamePrefix and GroupsPrefix are put before the claims' values, so
	// that OIDC names never collide with Kubernetes' own.
	UsernamePrefix, GroupsPrefix string
}

// Audit is the API server's audit logging.
type Audit struct {
	// Policy is the audit.k8s.io/v1 Policy, as YAML.
	Policy pulumi.StringInput
	// WebhookConfig is the kubeconfig (YAML) of the webhook that receives
	// the events; it holds the webhook's credential, so it is a secret.
	WebhookConfig pulumi.StringInput
}

// PoolArgs describe one instance pool.
type PoolArgs struct {
	// Name of the pool.
	Name string
	// Zone is the availability zone, e.g. az-1.
	Zone string
	// Flavor of the nodes.
	Flavor string
	// MinInstances and MaxInstances bound the node count; autoscaling when they differ.
	MinInstances, MaxInstances int
	// Labels of the nodes.
	Labels map[string]string
}

// AttachArgs describe a cluster made elsewhere.
type AttachArgs struct {
	// Name of the cluster, for outputs.
	Name pulumi.StringInput
	// Kubeconfig of the cluster; it is treated as a secret.
	Kubeconfig pulumi.StringInput
}

func (a *Args) validate() error {
	if a == nil || (a.Create == nil) == (a.Attach == nil) {
		return errors.New("exactly one of Create and Attach must be set")
	}
	if c := a.Create; c != nil {
		if c.Name == "" || c.Region == "" || c.Pack == "" || c.KubernetesVersion == "" {
			return errors.New("create: name, region, pack and Kubernetes version are required")
		}
		if len(c.Pools) == 0 {
			return errors.New("create: at least one pool is required")
		}
		for _, p := range c.Pools {
			if p.Name == "" || p.Zone == "" || p.Flavor == "" || p.MinInstances < 1 || p.MaxInstances < p.MinInstances {
				return fmt.Errorf("create: pool %q needs a name, a zone, a flavor and 1 <= min <= max", p.Name)
			}
		}
	}
	if a.Attach != nil && (a.Attach.Kubeconfig == nil || a.Attach.Name == nil) {
		return errors.New("attach: name and kubeconfig are required")
	}
	return nil
}

// New creates or attaches the cluster and its Kubernetes provider.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", name, err)
	}
	c := &Cluster{}
	if err := ctx.RegisterComponentResource(ComponentType, name, c, opts...); err != nil {
		return nil, err
	}
	var ready []pulumi.Resource
	if args.Create != nil {
		kc, deps, err := c.create(ctx, name, args.Create)
		if err != nil {
			return nil, err
		}
		c.Kubeconfig, ready = kc, deps
		c.Name = pulumi.String(args.Create.Name).ToStringOutput()
	} else {
		c.Kubeconfig = pulumi.ToSecret(args.Attach.Kubeconfig.ToStringOutput()).(pulumi.StringOutput)
		c.Name = args.Attach.Name.ToStringOutput()
	}

	// The provider waits for the pools, so nothing is deployed into a
	// cluster without nodes. It is replaced only when the cluster's name
	// changes, never because its kubeconfig was rotated or is unknown
	// during an upgrade: replacing it would replace every in-cluster resource.
	provider, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig:        c.Kubeconfig,
		ClusterIdentifier: c.Name,
	}, pulumi.Parent(c), pulumi.DependsOn(ready))
	if err != nil {
		return nil, fmt.Errorf("cluster %q: kubernetes provider: %w", name, err)
	}
	c.Provider = provider
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"name": c.Name, "kubeconfig": c.Kubeconfig})
}

func (c *Cluster) create(ctx *pulumi.Context, name string, args *CreateArgs) (pulumi.StringOutput, []pulumi.Resource, error) {
	api, err := infomaniak.NewProvider(ctx, name, &args.API, pulumi.Parent(c))
	if err != nil {
		return pulumi.StringOutput{}, nil, fmt.Errorf("cluster %q: infomaniak provider: %w", name, err)
	}
	var apiServer *infomaniak.APIServerArgs
	if len(args.APIServerIPFilters) > 0 || args.OIDC != nil || args.Audit != nil {
		apiServer = &infomaniak.APIServerArgs{}
	}
	if len(args.APIServerIPFilters) > 0 {
		apiServer.IPFilters = pulumi.ToStringArray(args.APIServerIPFilters)
	}
	if o := args.OIDC; o != nil {
		apiServer.OIDC = &infomaniak.OIDCArgs{
			IssuerURL: pulumi.String(o.IssuerURL), ClientID: pulumi.String(o.ClientID),
			UsernameClaim: pulumi.String(o.UsernameClaim), GroupsClaim: pulumi.String(o.GroupsClaim),
			UsernamePrefix: pulumi.String(o.UsernamePrefix), GroupsPrefix: pulumi.String(o.GroupsPrefix),
		}
	}
	if a := args.Audit; a != nil {
		apiServer.AuditPolicy = a.Policy
		apiServer.AuditWebhookConfig = pulumi.ToSecret(a.WebhookConfig).(pulumi.StringOutput)
	}
	kaas, err := infomaniak.NewCluster(ctx, name, &infomaniak.ClusterArgs{
		Name:              pulumi.String(args.Name),
		Region:            pulumi.String(args.Region),
		PackName:          pulumi.String(args.Pack),
		KubernetesVersion: pulumi.String(args.KubernetesVersion),
		APIServer:         apiServer,
	}, pulumi.Parent(c), pulumi.Provider(api), pulumi.Protect(true))
	if err != nil {
		return pulumi.StringOutput{}, nil, fmt.Errorf("cluster %q: kaas cluster: %w", name, err)
	}
	pools := make([]pulumi.Resource, 0, len(args.Pools))
	for _, p := range args.Pools {
		pool, err := infomaniak.NewInstancePool(ctx, name+"-"+p.Name, &infomaniak.InstancePoolArgs{
			KaasID:           kaas.KaasID,
			Name:             pulumi.String(p.Name),
			Flavor:           pulumi.String(p.Flavor),
			AvailabilityZone: pulumi.String(p.Zone),
			Region:           pulumi.String(args.Region),
			MinInstances:     pulumi.Int(p.MinInstances),
			MaxInstances:     pulumi.Int(p.MaxInstances),
			Labels:           pulumi.ToStringMap(p.Labels),
		}, pulumi.Parent(c), pulumi.Provider(api), pulumi.Protect(true))
		if err != nil {
			return pulumi.StringOutput{}, nil, fmt.Errorf("cluster %q: pool %q: %w", name, p.Name, err)
		}
		pools = append(pools, pool)
	}
	return pulumi.ToSecret(kaas.Kubeconfig).(pulumi.StringOutput), pools, nil
}
