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
	"gitlab.com/camps-ch/infra/infra/kubeconfig"
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

// Deploy composes the stack from a valid configuration, top-down: the
// cluster, its object storage, the platform (when the stack installs it)
// and the audit sink, the edge, the application namespaces, the copy of
// the backups, the secrets operator. It returns the stack's outputs,
// assembled once from what those produced.
func Deploy(ctx *pulumi.Context, cfg *Config) (contract.Outputs, error) {
	target, err := resolveCluster(ctx, cfg)
	if err != nil {
		return contract.Outputs{}, err
	}
	// The audit sink's token goes into the API server's webhook
	// configuration, before the cluster exists.
	var audit *security.AuditWebhook
	if *cfg.Security.Audit.Enabled {
		if audit, err = security.NewAuditWebhook(ctx, "audit-webhook", cfg.Security.Audit.Host); err != nil {
			return contract.Outputs{}, err
		}
		target.args.Create.Audit = &cluster.Audit{Policy: audit.Policy, WebhookConfig: audit.Config}
	}
	k8s, err := cluster.New(ctx, "cluster", target.args)
	if err != nil {
		return contract.Outputs{}, err
	}
	var store *data.ObjectStorage
	if *cfg.Data.Enabled {
		if store, err = data.NewObjectStorage(ctx, "object-storage", cfg.objectStorageArgs()); err != nil {
			return contract.Outputs{}, err
		}
	}

	// The platform that serves the stack: its own, its cluster owner's, or
	// none but a configured address.
	served := target.served
	var ready platformReady
	if *cfg.Platform.Install {
		own, err := deployPlatform(ctx, cfg, k8s, store)
		if err != nil {
			return contract.Outputs{}, err
		}
		ready = own.ready
		served.grafanaURL, served.grafanaPassword = own.grafanaURL, own.grafanaPassword
		if own.ingressIP != nil {
			served.ingressIP = *own.ingressIP
		}
		if *cfg.Security.Audit.Enabled {
			if err := deployAuditSink(ctx, cfg, k8s, audit, store, ready); err != nil {
				return contract.Outputs{}, err
			}
		}
	}
	if cfg.Edge.Zone != "" {
		if _, err := edge.NewDNS(ctx, "dns", dnsArgs(cfg, served.ingressIP)); err != nil {
			return contract.Outputs{}, err
		}
	}

	providers := pulumi.Providers(k8s.Provider)
	created := map[string]*tenancy.Namespace{}
	for _, ns := range cfg.Namespaces {
		if created[ns.Name], err = deployNamespace(ctx, cfg, k8s, ns, store, ready); err != nil {
			return contract.Outputs{}, err
		}
	}
	// The copies to the other region run in the first namespace.
	if store != nil && len(cfg.Namespaces) > 0 {
		first := created[cfg.Namespaces[0].Name]
		for _, cp := range cfg.copies() {
			if _, err := data.NewBackupCopy(ctx, "backup-copy-"+cp.what, cfg.backupCopyArgs(cp, first.Name, store), providers); err != nil {
				return contract.Outputs{}, err
			}
		}
	}
	if *cfg.Security.OpenBao.Enabled {
		if _, err := security.NewExternalSecrets(ctx, "external-secrets", cfg.externalSecretsArgs(created, ready), providers); err != nil {
			return contract.Outputs{}, err
		}
	}
	return cfg.outputs(target, k8s, served, created), nil
}

// outputs are the stack's outputs (the contract other teams read, and
// its operators' outputs).
func (c *Config) outputs(target *clusterTarget, k8s *cluster.Cluster, served servedPlatform, created map[string]*tenancy.Namespace) contract.Outputs {
	names := make([]string, 0, len(c.Namespaces))
	deployers := pulumi.StringMap{}
	for _, ns := range c.Namespaces {
		names = append(names, ns.Name)
		deployers[ns.Name] = deployerKubeconfig(ns.Name, k8s.Kubeconfig, created[ns.Name].DeployerToken)
	}
	// Only the stack that creates the cluster hands out its admin
	// credential, to its operators, and people's sign-in to it.
	admin := pulumi.ToSecret(pulumi.String("")).(pulumi.StringOutput)
	people := pulumi.String("").ToStringOutput()
	if c.Cluster.Mode == ModeCreate {
		admin = k8s.Kubeconfig
		if o := c.Security.OIDC; o != nil {
			// Of the admin kubeconfig it keeps the cluster entry only
			// (server and certificate authority), which is not secret.
			people = pulumi.Unsecret(k8s.Kubeconfig.ApplyT(func(kc string) (string, error) {
				return kubeconfig.WithOIDC(kc, c.Cluster.Name+"-oidc", o.IssuerURL, c.OIDCClientID)
			})).(pulumi.StringOutput)
		}
	}
	return contract.Outputs{
		Phase:                pulumi.Int(c.Phase).ToIntOutput(),
		ClusterMode:          pulumi.String(c.Cluster.Mode).ToStringOutput(),
		ClusterName:          k8s.Name,
		ClusterOwner:         target.owner,
		Region:               target.region,
		DeployerKubeconfigs:  pulumi.ToSecret(deployers.ToStringMapOutput()).(pulumi.StringMapOutput),
		AdminKubeconfig:      admin,
		OIDCKubeconfig:       people,
		PlatformInstalled:    pulumi.Bool(*c.Platform.Install).ToBoolOutput(),
		Namespaces:           pulumi.ToStringArray(names).ToStringArrayOutput(),
		IngressIP:            served.ingressIP,
		DatabaseHost:         pulumi.String(c.databaseHost()).ToStringOutput(),
		GrafanaURL:           served.grafanaURL,
		GrafanaAdminPassword: served.grafanaPassword,
	}
}

// deployerKubeconfig is the kubeconfig of namespace ns's deployer
// ServiceAccount: the admin kubeconfig's cluster with the deployer's token.
func deployerKubeconfig(ns string, admin, token pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.All(admin, token).ApplyT(func(v []any) (string, error) {
		kc, err := kubeconfig.WithToken(v[0].(string), ns+"-"+tenancy.DeployerName, ns, v[1].(string))
		if err != nil {
			return "", fmt.Errorf("deployer kubeconfig of namespace %s: %w", ns, err)
		}
		return kc, nil
	})).(pulumi.StringOutput)
}

// deployAuditSink creates the sink of the API server's audit log and the
// log's retention, which lives with the sink that writes it.
func deployAuditSink(ctx *pulumi.Context, cfg *Config, k8s *cluster.Cluster, audit *security.AuditWebhook, store *data.ObjectStorage, ready platformReady) error {
	sink, err := security.NewAuditSink(ctx, "audit-sink", cfg.auditSinkArgs(audit.Token, store, ready), pulumi.Providers(k8s.Provider))
	if err != nil {
		return err
	}
	_, err = data.NewObjectExpiry(ctx, "audit-sink-retention", cfg.auditRetentionArgs(sink, store),
		pulumi.Parent(sink), pulumi.DependsOn(sink.Policies))
	return err
}

// deployNamespace creates an application namespace and what lives in it:
// its database and its SLOs.
func deployNamespace(ctx *pulumi.Context, cfg *Config, k8s *cluster.Cluster, ns Namespace,
	store *data.ObjectStorage, ready platformReady,
) (*tenancy.Namespace, error) {
	providers := pulumi.Providers(k8s.Provider)
	n, err := tenancy.NewNamespace(ctx, ns.Name, namespaceArgs(cfg, ns), providers)
	if err != nil {
		return nil, err
	}
	if store != nil && *cfg.Data.Postgres.Enabled {
		args := cfg.postgresArgs(ns, n.Name, store)
		args.OperatorReady, args.PluginReady, args.MonitoringReady = ready.operator, ready.plugin, ready.monitoring
		if _, err := data.NewPostgres(ctx, "postgres-"+ns.Name, args, providers); err != nil {
			return nil, err
		}
		if drill := cfg.restoreDrillArgs(args, ready); drill != nil {
			if _, err := data.NewRestoreDrill(ctx, "restore-drill-"+ns.Name, drill, providers); err != nil {
				return nil, err
			}
		}
	}
	if *cfg.SLO.Enabled && ns.Name == cfg.SLO.Namespace {
		args := cfg.sloArgs()
		args.Prober, args.Module = platform.BlackboxProber, platform.BlackboxModule
		args.RuleLabels = convention.RuleLabels(monitoringRelease)
		args.Namespace, args.MonitoringReady = n.Name, ready.monitoring
		if _, err := observability.NewSLO(ctx, "slo-"+ns.Name, args, providers); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// monitoringRelease is the name of the kube-prometheus-stack release, the
// same in every stack: stacks attached to a cluster label their rules for
// its owner's Prometheus with it.
const monitoringRelease = "kube-prometheus-stack"

// clusterTarget is where the stack deploys: the cluster component's
// arguments, the cluster's owner and region, and the platform that serves
// the stack unless it installs its own.
type clusterTarget struct {
	args          *cluster.Args
	owner, region pulumi.StringOutput
	served        servedPlatform
}

// servedPlatform is what the stack's outputs say of the platform that
// serves it: the ingress address and Grafana.
type servedPlatform struct {
	ingressIP, grafanaURL, grafanaPassword pulumi.StringOutput
}

// resolveCluster turns the cluster configuration into the cluster
// component's arguments, reading the owner stack's outputs when attaching
// to it.
func resolveCluster(ctx *pulumi.Context, cfg *Config) (*clusterTarget, error) {
	cl := cfg.Cluster
	// Without a platform of its own or an owner's: the configured
	// address, no Grafana.
	none := servedPlatform{
		ingressIP:       pulumi.String(cfg.Platform.Ingress.LoadBalancerIP).ToStringOutput(),
		grafanaURL:      pulumi.String("").ToStringOutput(),
		grafanaPassword: pulumi.ToSecret(pulumi.String("")).(pulumi.StringOutput),
	}
	switch {
	case cl.Mode == ModeCreate:
		return &clusterTarget{
			args:   &cluster.Args{Create: createArgs(cfg)},
			owner:  pulumi.String(qualifiedStack(ctx, ctx.Stack())).ToStringOutput(),
			region: pulumi.String(cl.Region).ToStringOutput(),
			served: none,
		}, nil
	case cl.AttachStack != "":
		ref, err := pulumi.NewStackReference(ctx, qualifiedStack(ctx, cl.AttachStack), nil)
		if err != nil {
			return nil, fmt.Errorf("reference to stack %s: %w", cl.AttachStack, err)
		}
		// The owner's admin kubeconfig deploys this stack; it is not
		// passed on in this stack's outputs. An empty one would send the
		// Kubernetes provider to the operator's current kube-context.
		owner := contract.ReadAsOperator(ref)
		adminKubeconfig := pulumi.ToSecret(owner.AdminKubeconfig.ApplyT(func(kc string) (string, error) {
			if kc == "" {
				return "", fmt.Errorf("cluster.attachStack: stack %s exports no adminKubeconfig: it does not create its cluster; attach to the stack that does (its clusterOwner output)", cl.AttachStack)
			}
			return kc, nil
		})).(pulumi.StringOutput)
		return &clusterTarget{
			args:   &cluster.Args{Attach: &cluster.AttachArgs{Name: owner.ClusterName, Kubeconfig: adminKubeconfig}},
			owner:  owner.ClusterOwner,
			region: owner.Region,
			// The owner's platform and address serve this stack too; its
			// Grafana password stays the owner's operators'.
			served: servedPlatform{ingressIP: owner.IngressIP, grafanaURL: owner.GrafanaURL, grafanaPassword: none.grafanaPassword},
		}, nil
	default:
		name := cl.Name
		if name == "" {
			name = "external"
		}
		// A cluster made elsewhere has no owner stack and no known region.
		return &clusterTarget{
			args: &cluster.Args{Attach: &cluster.AttachArgs{
				Name:       pulumi.String(name),
				Kubeconfig: pulumi.ToSecret(pulumi.String(cfg.Kubeconfig.Reveal())).(pulumi.StringOutput),
			}},
			owner:  pulumi.String("").ToStringOutput(),
			region: pulumi.String("").ToStringOutput(),
			served: none,
		}, nil
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
		IngressNamespace:        convention.IngressNamespace,
		MonitoringNamespace:     convention.MonitoringNamespace,
		PrivatePodsLabel:        data.ClusterLabel,
		EgressCIDRs:             ns.EgressCIDRs,
		DeployerGroup:           ns.DeployerGroup,
		DeployerTokenGeneration: *ns.DeployerTokenGeneration,
		AllowExec:               ns.AllowExec,
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
	// operator and plugin are CloudNativePG and its Barman Cloud plugin.
	operator, plugin []pulumi.Resource
	// storage is Longhorn (the default StorageClass).
	storage []pulumi.Resource
	// certManagerNamespace is cert-manager's namespace, once created.
	certManagerNamespace pulumi.StringOutput
}

// platformDeployment is what the stack's own platform produced.
type platformDeployment struct {
	ready                       platformReady
	grafanaURL, grafanaPassword pulumi.StringOutput
	// ingressIP is the reserved floating IP, when the stack reserves one.
	ingressIP *pulumi.StringOutput
}

// deployPlatform installs the platform releases, the dashboards and the
// platform's alert rules. The releases install in parallel; only what
// needs another's CRDs waits: the ServiceMonitors and rules for the
// monitoring release, the Barman Cloud plugin for cert-manager.
func deployPlatform(ctx *pulumi.Context, cfg *Config, k8s *cluster.Cluster, store *data.ObjectStorage) (platformDeployment, error) {
	providers := pulumi.Providers(k8s.Provider)
	alerting, err := cfg.alertmanagerConfig()
	if err != nil {
		return platformDeployment{}, err
	}
	in := platformInputs{alerting: pulumi.ToSecret(pulumi.String(alerting)).(pulumi.StringOutput), store: store}
	mon, err := platform.NewMonitoring(ctx, monitoringRelease, cfg.monitoringArgs(in), providers)
	if err != nil {
		return platformDeployment{}, err
	}
	in.monitoring = mon
	out := platformDeployment{grafanaURL: mon.GrafanaURL, grafanaPassword: mon.GrafanaAdminPassword}

	if _, err := platform.NewBlackbox(ctx, "blackbox-exporter", cfg.blackboxArgs(in), providers); err != nil {
		return platformDeployment{}, err
	}
	if _, err := platform.NewPushgateway(ctx, "pushgateway", cfg.pushgatewayArgs(in), providers); err != nil {
		return platformDeployment{}, err
	}
	if _, err := observability.NewPlatform(ctx, "observability", &observability.PlatformArgs{
		Namespace:        mon.Namespace,
		RuleLabels:       mon.RuleLabels,
		DashboardLabels:  map[string]string{convention.DashboardLabel: convention.DashboardLabelValue},
		FolderAnnotation: convention.DashboardFolderLabel,
		MonitoringReady:  in.monitoringReady(),
		Rules:            cfg.ruleOptions(),
		Watch:            cfg.watchURLs(),
		Prober:           platform.BlackboxProber,
		Module:           platform.BlackboxModule,
	}, providers); err != nil {
		return platformDeployment{}, err
	}
	if *cfg.Edge.ReserveIP {
		fip, err := edge.NewFloatingIP(ctx, "ingress-ip", floatingIPArgs(cfg))
		if err != nil {
			return platformDeployment{}, err
		}
		in.loadBalancerIP, out.ingressIP = fip.Address, &fip.Address
	}
	if _, err := platform.NewIngress(ctx, "nginx-ingress", cfg.ingressArgs(in), providers); err != nil {
		return platformDeployment{}, err
	}
	cm, err := platform.NewCertManager(ctx, "cert-manager", cfg.certManagerArgs(in), providers)
	if err != nil {
		return platformDeployment{}, err
	}
	in.certManager = cm
	longhorn, err := platform.NewLonghorn(ctx, "longhorn", cfg.longhornArgs(in), providers)
	if err != nil {
		return platformDeployment{}, err
	}
	cnpg, err := platform.NewCloudNativePG(ctx, "cloudnative-pg", cfg.cloudNativePGArgs(in), providers)
	if err != nil {
		return platformDeployment{}, err
	}
	if *cfg.Platform.MetricsServer.Enabled {
		if _, err := platform.NewMetricsServer(ctx, "metrics-server", cfg.metricsServerArgs(), providers); err != nil {
			return platformDeployment{}, err
		}
	}
	if *cfg.Security.OpenBao.Enabled {
		if _, err := security.NewOpenBao(ctx, "openbao", cfg.openBaoArgs(cm, mon, longhorn), providers); err != nil {
			return platformDeployment{}, err
		}
	}
	if g := cfg.Security.Groups; g != (GroupsConfig{}) {
		if _, err := security.NewAccessControl(ctx, "access-control", &security.AccessControlArgs{
			PlatformAdmins: g.PlatformAdmins, Auditors: g.Auditors, BreakGlass: g.BreakGlass,
		}, providers); err != nil {
			return platformDeployment{}, err
		}
	}
	out.ready = platformReady{
		monitoring: in.monitoringReady(), storage: []pulumi.Resource{longhorn.Release},
		operator: []pulumi.Resource{cnpg.Operator}, plugin: []pulumi.Resource{cnpg.Plugin},
		certManagerNamespace: cm.Namespace,
	}
	return out, nil
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
