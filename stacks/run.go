package stacks

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/infra/cluster"
	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/data"
	"gitlab.com/camps-ch/infra/infra/edge"
	"gitlab.com/camps-ch/infra/infra/observability"
	"gitlab.com/camps-ch/infra/infra/openstackcloud"
	"gitlab.com/camps-ch/infra/infra/platform"
	"gitlab.com/camps-ch/infra/infra/security"
	"gitlab.com/camps-ch/infra/infra/tenancy"
)

// Run is the Pulumi program: it loads the stack's configuration, refuses
// invalid configuration before registering any resource, deploys the stack
// and exports its outputs.
func Run(ctx *pulumi.Context) error {
	_, err := Program(ctx)
	return err
}

// Deployment is what Program did: the configuration it used and the
// outputs it exported.
type Deployment struct {
	Config  *Config
	Outputs contract.Outputs
}

// Program is Run that also hands back the configuration and the exported
// outputs (the offline plan reports the budget, and feeds the outputs to
// stacks that reference this one).
func Program(ctx *pulumi.Context) (*Deployment, error) {
	cfg, err := Load(contextSource{ctx}, ctx.Stack())
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
	}
	out, err := Deploy(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", ctx.Stack(), err)
	}
	return &Deployment{Config: cfg, Outputs: out}, contract.Export(ctx, out)
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
	// The audit sink's token goes into the API server's webhook
	// configuration, before the cluster exists.
	var audit *security.AuditWebhook
	if *cfg.Security.Audit.Enabled {
		if audit, err = security.NewAuditWebhook(ctx, "audit-webhook", cfg.Security.Audit.Host); err != nil {
			return out, err
		}
		clusterArgs.Create.Audit = &cluster.Audit{Policy: audit.Policy, WebhookConfig: audit.Config}
	}
	k8s, err := cluster.New(ctx, "cluster", clusterArgs)
	if err != nil {
		return out, err
	}
	out.ClusterName = k8s.Name
	out.Kubeconfig = k8s.Kubeconfig

	var store *data.ObjectStorage
	if *cfg.Data.Enabled {
		if store, err = data.NewObjectStorage(ctx, "object-storage", cfg.objectStorageArgs()); err != nil {
			return out, err
		}
	}
	// What needs the monitoring or database CRDs waits for this stack's
	// releases; on a cluster another stack owns, they exist already.
	var ready platformReady
	if *cfg.Platform.Install {
		if ready, err = deployPlatform(ctx, cfg, k8s, store, &out); err != nil {
			return out, err
		}
		if *cfg.Security.Audit.Enabled {
			sink, err := security.NewAuditSink(ctx, "audit-sink", cfg.auditSinkArgs(audit.Token, store, ready),
				pulumi.Providers(k8s.Provider))
			if err != nil {
				return out, err
			}
			// The log's retention lives with the sink that writes it.
			if _, err := data.NewObjectExpiry(ctx, "audit-sink-retention", cfg.auditRetentionArgs(sink, store),
				pulumi.Parent(sink), pulumi.DependsOn(sink.Policies)); err != nil {
				return out, err
			}
		}
	}
	if out.IngressIP == (pulumi.StringOutput{}) {
		out.IngressIP = pulumi.String(cfg.Platform.Ingress.LoadBalancerIP).ToStringOutput()
	}
	if out.GrafanaURL == (pulumi.StringOutput{}) {
		out.GrafanaURL = pulumi.String("").ToStringOutput()
		out.GrafanaAdminPassword = pulumi.ToSecret(pulumi.String("")).(pulumi.StringOutput)
	}

	if cfg.Edge.Zone != "" {
		if _, err := edge.NewDNS(ctx, "dns", dnsArgs(cfg, out.IngressIP)); err != nil {
			return out, err
		}
	}

	names := make([]string, 0, len(cfg.Namespaces))
	created := map[string]pulumi.StringOutput{}
	for i, ns := range cfg.Namespaces {
		n, err := deployNamespace(ctx, cfg, k8s, ns, i == 0, store, ready)
		if err != nil {
			return out, err
		}
		names = append(names, ns.Name)
		created[ns.Name] = n
	}
	if *cfg.Security.OpenBao.Enabled {
		if _, err := security.NewExternalSecrets(ctx, "external-secrets", cfg.externalSecretsArgs(created, ready),
			pulumi.Providers(k8s.Provider)); err != nil {
			return out, err
		}
	}
	out.Namespaces = pulumi.ToStringArray(names).ToStringArrayOutput()
	return out, nil
}

// deployNamespace creates an application namespace and what lives in it:
// its database, its SLOs and, in the first namespace, the copy of the
// backups to the other region. It returns the namespace's name.
func deployNamespace(ctx *pulumi.Context, cfg *Config, k8s *cluster.Cluster, ns Namespace, first bool,
	store *data.ObjectStorage, ready platformReady,
) (pulumi.StringOutput, error) {
	providers := pulumi.Providers(k8s.Provider)
	n, err := tenancy.NewNamespace(ctx, ns.Name, namespaceArgs(cfg, ns), providers)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if store != nil && cfg.Data.CopyRegion != "" && first {
		if _, err := data.NewBackupCopy(ctx, "backup-copy", cfg.backupCopyArgs(n.Name, store), providers); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	if store != nil && *cfg.Data.Postgres.Enabled {
		args := cfg.postgresArgs(ns, n.Name, store)
		args.Ready = append(append([]pulumi.Resource{}, ready.monitoring...), ready.databases...)
		if _, err := data.NewPostgres(ctx, "postgres-"+ns.Name, args, providers); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	if *cfg.SLO.Enabled && ns.Name == cfg.SLO.Namespace {
		args := cfg.sloArgs()
		args.Prober, args.Module = platform.BlackboxProber, platform.BlackboxModule
		args.RuleLabels = convention.RuleLabels(monitoringRelease)
		args.Namespace, args.MonitoringReady = n.Name, ready.monitoring
		if _, err := observability.NewSLO(ctx, "slo-"+ns.Name, args, providers); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return n.Name, nil
}

// monitoringRelease is the name of the kube-prometheus-stack release, the
// same in every stack: stacks attached to a cluster label their rules for
// its owner's Prometheus with it.
const monitoringRelease = "kube-prometheus-stack"

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
		// The owner's platform and address serve this stack too.
		out.GrafanaURL, out.GrafanaAdminPassword = owner.GrafanaURL, owner.GrafanaAdminPassword
		out.IngressIP = owner.IngressIP
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
		OIDC:               cfg.oidc(),
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
	args := &tenancy.NamespaceArgs{
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
		IngressNamespace:    convention.IngressNamespace,
		MonitoringNamespace: convention.MonitoringNamespace,
		PrivatePodsLabel:    data.ClusterLabel,
		EgressCIDRs:         ns.EgressCIDRs,
		DeployerGroup:       ns.DeployerGroup,
		AllowExec:           ns.AllowExec,
		Registry: tenancy.Registry{
			Server:   cfg.Registry.Server,
			Username: cfg.Registry.Username,
			External: *cfg.Security.ExternalSecrets,
		},
	}
	if !*cfg.Security.ExternalSecrets {
		args.Registry.Token = pulumi.ToSecret(pulumi.String(cfg.RegistryToken.Reveal())).(pulumi.StringOutput)
	}
	return args
}

// platformReady are the releases whose CRDs others wait for.
type platformReady struct {
	// monitoring is kube-prometheus-stack (ServiceMonitors, rules).
	monitoring []pulumi.Resource
	// databases are CloudNativePG and its Barman Cloud plugin.
	databases []pulumi.Resource
	// storage is Longhorn (the default StorageClass).
	storage []pulumi.Resource
	// secrets is OpenBao's release, when the stack runs it.
	secrets []pulumi.Resource
	// certManagerNamespace is cert-manager's namespace, once created.
	certManagerNamespace pulumi.StringOutput
}

// deployPlatform installs the platform releases, the dashboards and the
// platform's alert rules. The releases install in parallel; only what
// needs another's CRDs waits: the ServiceMonitors and rules for the
// monitoring release, the Barman Cloud plugin for cert-manager.
func deployPlatform(ctx *pulumi.Context, cfg *Config, k8s *cluster.Cluster, store *data.ObjectStorage, out *contract.Outputs) (platformReady, error) {
	providers := pulumi.Providers(k8s.Provider)
	a := cfg.platformArgs()

	alerting, err := cfg.alertmanagerConfig()
	if err != nil {
		return platformReady{}, err
	}
	a.Monitoring.AlertmanagerConfig = pulumi.ToSecret(pulumi.String(alerting)).(pulumi.StringOutput)
	mon, err := platform.NewMonitoring(ctx, monitoringRelease, a.Monitoring, providers)
	if err != nil {
		return platformReady{}, err
	}
	out.GrafanaURL, out.GrafanaAdminPassword = mon.GrafanaURL, mon.GrafanaAdminPassword
	ready := []pulumi.Resource{mon.Release}

	a.Blackbox.Namespace = mon.Namespace
	if _, err := platform.NewBlackbox(ctx, "blackbox-exporter", a.Blackbox, providers); err != nil {
		return platformReady{}, err
	}
	if _, err := observability.NewPlatform(ctx, "observability", &observability.PlatformArgs{
		Namespace:        mon.Namespace,
		RuleLabels:       mon.RuleLabels,
		DashboardLabels:  map[string]string{convention.DashboardLabel: convention.DashboardLabelValue},
		FolderAnnotation: convention.DashboardFolderLabel,
		MonitoringReady:  ready,
		Rules:            cfg.ruleOptions(),
	}, providers); err != nil {
		return platformReady{}, err
	}

	a.Ingress.MonitoringReady = ready
	if ip := cfg.Platform.Ingress.LoadBalancerIP; ip != "" {
		a.Ingress.LoadBalancerIP = pulumi.String(ip)
	}
	if *cfg.Edge.ReserveIP {
		fip, err := edge.NewFloatingIP(ctx, "ingress-ip", floatingIPArgs(cfg))
		if err != nil {
			return platformReady{}, err
		}
		a.Ingress.LoadBalancerIP = fip.Address
		out.IngressIP = fip.Address
	}
	if _, err := platform.NewIngress(ctx, "nginx-ingress", a.Ingress, providers); err != nil {
		return platformReady{}, err
	}
	a.CertManager.MonitoringReady = ready
	if *cfg.Security.ExternalSecrets {
		a.CertManager.ExternalToken = true
	} else {
		a.CertManager.CloudflareToken = pulumi.ToSecret(pulumi.String(cfg.DNSToken.Reveal())).(pulumi.StringOutput)
	}
	cm, err := platform.NewCertManager(ctx, "cert-manager", a.CertManager, providers)
	if err != nil {
		return platformReady{}, err
	}
	a.Longhorn.MonitoringReady = ready
	if *cfg.Data.LonghornBackups {
		a.Longhorn.BackupTarget, a.Longhorn.Backup = cfg.longhornBackupTarget(store)
	}
	longhorn, err := platform.NewLonghorn(ctx, "longhorn", a.Longhorn, providers)
	if err != nil {
		return platformReady{}, err
	}
	a.CloudNativePG.CertManagerReady = []pulumi.Resource{cm.Release}
	a.CloudNativePG.MonitoringReady = ready
	cnpg, err := platform.NewCloudNativePG(ctx, "cloudnative-pg", a.CloudNativePG, providers)
	if err != nil {
		return platformReady{}, err
	}
	var secrets []pulumi.Resource
	if *cfg.Security.OpenBao.Enabled {
		bao, err := security.NewOpenBao(ctx, "openbao", cfg.openBaoArgs(cm, mon, longhorn), providers)
		if err != nil {
			return platformReady{}, err
		}
		secrets = []pulumi.Resource{bao.Release}
	}
	if g := cfg.Security.Groups; g != (GroupsConfig{}) {
		if _, err := security.NewAccessControl(ctx, "access-control", &security.AccessControlArgs{
			PlatformAdmins: g.PlatformAdmins, Auditors: g.Auditors, BreakGlass: g.BreakGlass,
		}, providers); err != nil {
			return platformReady{}, err
		}
	}
	return platformReady{
		monitoring: ready, databases: cnpg.Ready, storage: []pulumi.Resource{longhorn.Release},
		secrets: secrets, certManagerNamespace: cm.Namespace,
	}, nil
}

func floatingIPArgs(cfg *Config) *edge.FloatingIPArgs {
	return &edge.FloatingIPArgs{
		Pool:        cfg.Edge.FloatingIPPool,
		Description: fmt.Sprintf("ingress load balancer of %s (stack %s)", cfg.Cluster.Name, cfg.Stack),
		OpenStack:   cfg.openStackArgs(),
	}
}

// openStackArgs are the explicit OpenStack provider's settings.
func (c *Config) openStackArgs() openstackcloud.Args {
	os := c.OpenStack
	args := openstackcloud.Args{
		AuthURL: os.AuthURL, Region: os.Region, ProjectID: os.ProjectID,
		ApplicationCredentialID: os.ApplicationCredentialID,
	}
	if c.OpenStackSecret.IsSet() {
		args.ApplicationCredentialSecret = pulumi.ToSecret(pulumi.String(c.OpenStackSecret.Reveal())).(pulumi.StringOutput)
	}
	return args
}

// dnsArgs builds the stack's records: A records without content point at
// the ingress address (reserved here, or the owner's).
func dnsArgs(cfg *Config, address pulumi.StringOutput) *edge.DNSArgs {
	args := &edge.DNSArgs{Zone: cfg.Edge.Zone, ZoneSettings: cfg.Edge.ZoneSettings, Owner: cfg.Stack}
	if cfg.CloudflareToken.IsSet() {
		args.APIToken = pulumi.ToSecret(pulumi.String(cfg.CloudflareToken.Reveal())).(pulumi.StringOutput)
	}
	// An attached stack's owner may export no address: fail rather than
	// write empty records.
	checked := address.ApplyT(func(ip string) (string, error) {
		if ip == "" {
			return "", fmt.Errorf("stack %s: no ingress address to point the records at (the cluster's owner reserved none)", cfg.Stack)
		}
		return ip, nil
	}).(pulumi.StringOutput)
	for _, r := range cfg.dnsRecords() {
		var content pulumi.StringInput = pulumi.String(r.Content)
		if r.Content == "" {
			content = checked
		}
		args.Records = append(args.Records, edge.Record{Name: r.Name, Type: r.Type, Content: content, Proxied: *r.Proxied})
	}
	return args
}
