package stacks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/infra/cluster"
	"gitlab.com/camps-ch/infra/infra/tenancy"
)

// Namespaces of the platform that application namespaces admit traffic from.
const (
	ingressNamespace    = "ingress-nginx"
	monitoringNamespace = "monitoring"
)

// Run is the Pulumi program: it loads the stack's configuration, refuses
// invalid configuration before registering any resource, deploys the stack
// and exports its outputs.
func Run(ctx *pulumi.Context) error {
	_, err := Program(ctx)
	return err
}

// Program is Run that also hands back the exported outputs (the offline
// plan feeds them to stacks that reference this one).
func Program(ctx *pulumi.Context) (contract.Outputs, error) {
	cfg, err := Load(contextSource{ctx}, ctx.Stack())
	if err != nil {
		return contract.Outputs{}, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
	}
	out, err := Deploy(ctx, cfg)
	if err != nil {
		return contract.Outputs{}, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
	}
	return out, contract.Export(ctx, out)
}

// Deploy composes the stack from a valid configuration.
func Deploy(ctx *pulumi.Context, cfg *Config) (contract.Outputs, error) {
	out := contract.Outputs{
		Phase:             pulumi.Int(cfg.Phase).ToIntOutput(),
		ClusterMode:       pulumi.String(cfg.Cluster.Mode).ToStringOutput(),
		PlatformInstalled: pulumi.Bool(*cfg.Platform.Install).ToBoolOutput(),
	}
	clusterArgs, err := clusterArgs(ctx, cfg, &out)
	if err != nil {
		return out, err
	}
	k8s, err := cluster.New(ctx, "cluster", clusterArgs)
	if err != nil {
		return out, err
	}
	out.ClusterName = k8s.Name
	out.Kubeconfig = k8s.Kubeconfig

	names := make([]string, 0, len(cfg.Namespaces))
	for _, ns := range cfg.Namespaces {
		if _, err := tenancy.NewNamespace(ctx, ns.Name, namespaceArgs(cfg, ns), pulumi.Providers(k8s.Provider)); err != nil {
			return out, err
		}
		names = append(names, ns.Name)
	}
	out.Namespaces = pulumi.ToStringArray(names).ToStringArrayOutput()
	return out, nil
}

// clusterArgs turns the cluster configuration into the cluster component's
// arguments, reading the owner stack's outputs when attaching to it, and
// fills the cluster's share of the outputs.
func clusterArgs(ctx *pulumi.Context, cfg *Config, out *contract.Outputs) (*cluster.Args, error) {
	cl := cfg.Cluster
	self := qualifiedStack(ctx, ctx.Stack())
	switch {
	case cl.Mode == ModeCreate:
		out.ClusterOwner = pulumi.String(self).ToStringOutput()
		out.Region = pulumi.String(cl.Region).ToStringOutput()
		return &cluster.Args{Create: createArgs(cfg)}, nil
	case cl.AttachStack != "":
		ref, err := pulumi.NewStackReference(ctx, qualifiedStack(ctx, cl.AttachStack), nil)
		if err != nil {
			return nil, fmt.Errorf("reference to stack %s: %w", cl.AttachStack, err)
		}
		owner := contract.Read(ref)
		out.ClusterOwner = owner.ClusterOwner
		out.Region = owner.Region
		return &cluster.Args{Attach: &cluster.AttachArgs{Name: owner.ClusterName, Kubeconfig: owner.Kubeconfig}}, nil
	default:
		name := cl.Name
		if name == "" {
			name = "external"
		}
		// A cluster made elsewhere has no owner stack and no known region.
		out.ClusterOwner = pulumi.String("").ToStringOutput()
		out.Region = pulumi.String("").ToStringOutput()
		return &cluster.Args{Attach: &cluster.AttachArgs{
			Name:       pulumi.String(name),
			Kubeconfig: pulumi.ToSecret(pulumi.String(cfg.Kubeconfig.Reveal())).(pulumi.StringOutput),
		}}, nil
	}
}

// qualifiedStack names a stack as org/project/stack, the form
// StackReference needs.
func qualifiedStack(ctx *pulumi.Context, stack string) string {
	switch strings.Count(stack, "/") {
	case 0:
		return ctx.Organization() + "/" + ctx.Project() + "/" + stack
	case 1:
		return ctx.Organization() + "/" + stack
	}
	return stack
}

func createArgs(cfg *Config) *cluster.CreateArgs {
	cl := cfg.Cluster
	args := &cluster.CreateArgs{
		Name:               cl.Name,
		Region:             cl.Region,
		Pack:               cl.Pack,
		KubernetesVersion:  cl.KubernetesVersion,
		APIServerIPFilters: cl.APIServerIPFilters,
	}
	for _, p := range cl.Pools {
		args.Pools = append(args.Pools, cluster.PoolArgs{
			Name: p.Name, Zone: p.Zone, Flavor: p.Flavor,
			MinInstances: *p.MinInstances, MaxInstances: *p.MaxInstances,
			Labels: p.Labels,
		})
	}
	api := &args.API
	if cfg.InfomaniakToken.IsSet() {
		api.Token = pulumi.ToSecret(pulumi.String(cfg.InfomaniakToken.Reveal())).(pulumi.StringOutput)
	}
	if id := cfg.Infomaniak.PublicCloudID; id > 0 {
		api.PublicCloudID = pulumi.Int(id)
	}
	if id := cfg.Infomaniak.ProjectID; id > 0 {
		api.ProjectID = pulumi.Int(id)
	}
	return args
}

func namespaceArgs(cfg *Config, ns Namespace) *tenancy.NamespaceArgs {
	q, l := ns.Quota, ns.Limits
	return &tenancy.NamespaceArgs{
		Labels: map[string]string{"camps.ch/stack": cfg.Stack},
		Quota: tenancy.Quota{
			RequestsCPU: q.RequestsCPU, RequestsMemory: q.RequestsMemory,
			LimitsCPU: q.LimitsCPU, LimitsMemory: q.LimitsMemory,
			RequestsStorage: q.RequestsStorage,
			Pods:            *q.Pods, PersistentVolumeClaims: *q.PersistentVolumeClaims,
		},
		Limits: tenancy.Limits{
			DefaultCPU: l.DefaultCPU, DefaultMemory: l.DefaultMemory,
			DefaultRequestCPU: l.DefaultRequestCPU, DefaultRequestMemory: l.DefaultRequestMemory,
			MaxCPU: l.MaxCPU, MaxMemory: l.MaxMemory,
		},
		IngressNamespace:    ingressNamespace,
		MonitoringNamespace: monitoringNamespace,
		EgressCIDRs:         ns.EgressCIDRs,
		DeployerGroup:       ns.DeployerGroup,
		Registry: tenancy.Registry{
			Server:   cfg.Registry.Server,
			Username: cfg.Registry.Username,
			Token:    pulumi.ToSecret(pulumi.String(cfg.RegistryToken.Reveal())).(pulumi.StringOutput),
		},
	}
}
