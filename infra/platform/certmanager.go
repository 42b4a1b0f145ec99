package platform

import (
	"errors"
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/externalsecret"
	"gitlab.com/camps-ch/infra/infra/helm"
)

// CertManagerType is the type token of the CertManager component.
const CertManagerType = "camps:platform:CertManager"

// CertManagerChart is the pinned cert-manager chart.
var CertManagerChart = helm.Chart{Name: "cert-manager", Version: "v1.21.1", Repository: "https://charts.jetstack.io"}

// Let's Encrypt ACME directories.
const (
	LetsEncryptProduction = "https://acme-v02.api.letsencrypt.org/directory"
	LetsEncryptStaging    = "https://acme-staging-v02.api.letsencrypt.org/directory"
)

// CertManagerResources size cert-manager's long-running containers and its
// post-install API check.
type CertManagerResources struct {
	Controller, Webhook, CAInjector, StartupAPICheck convention.Resources
}

// DefaultCertManagerResources fit a cluster with a few dozen certificates.
var DefaultCertManagerResources = CertManagerResources{
	Controller:      convention.NewResources("25m", "96Mi", "500m", "256Mi"),
	Webhook:         convention.NewResources("10m", "32Mi", "200m", "64Mi"),
	CAInjector:      convention.NewResources("10m", "96Mi", "200m", "256Mi"),
	StartupAPICheck: convention.NewResources("10m", "32Mi", "100m", "64Mi"),
}

// CertManager is cert-manager with Let's Encrypt ClusterIssuers solving
// ACME DNS-01 challenges on Cloudflare.
type CertManager struct {
	pulumi.ResourceState

	// Namespace is cert-manager's namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// Issuers are the ClusterIssuers' names: staging and production.
	Issuers pulumi.StringArrayOutput `pulumi:"issuers"`
	// Release is the Helm release; what needs cert-manager's CRDs and
	// webhook (Certificates, Issuers) depends on it.
	Release *helm.Release `pulumi:"-"`
}

// CloudflareTokenSpec is the ExternalSecret that replaces the DNS-01
// token's Secret in cert-manager's namespace (created as namespace) once
// it comes from OpenBao (ExternalToken): same name, its one key at
// cert-manager/cloudflare-api-token in the store.
func CloudflareTokenSpec(namespace pulumi.StringInput) externalsecret.Spec {
	return externalsecret.Spec{
		Name: convention.CloudflareTokenSecret, Namespace: namespace, Type: "Opaque",
		Fields: []externalsecret.Field{
			externalsecret.Mirrored(convention.CertManagerNamespace, convention.CloudflareTokenSecret, convention.CloudflareTokenKey),
		},
	}
}

// CertManagerArgs configure cert-manager.
type CertManagerArgs struct {
	// Chart overrides the chart's source; default CertManagerChart.
	Chart *helm.Chart
	// Email is the ACME account's contact; optional.
	Email string
	// CloudflareToken is the API token for DNS-01 (Zone.DNS edit, Zone.Zone
	// read); required, kept secret.
	CloudflareToken pulumi.StringInput
	// ExternalToken: the token's Secret is an ExternalSecret from OpenBao
	// (security.externalSecrets), not written here; CloudflareToken is
	// unused.
	ExternalToken bool
	// Resources of the containers; default DefaultCertManagerResources.
	Resources *CertManagerResources
	// MonitoringReady are what the ServiceMonitor waits for (the monitoring CRDs).
	MonitoringReady []pulumi.Resource
}

func (a *CertManagerArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.CloudflareToken == nil && !a.ExternalToken:
		return errors.New("a Cloudflare API token is required")
	}
	return nil
}

func (a *CertManagerArgs) resources() CertManagerResources {
	if a.Resources != nil {
		return *a.Resources
	}
	return DefaultCertManagerResources
}

// Requests are the CPU and memory cert-manager's long-running pods ask
// for (the post-install check Job is not counted).
func (a *CertManagerArgs) Requests() convention.Requests {
	r := a.resources()
	return convention.RequestsOf(1, r.Controller, r.Webhook, r.CAInjector)
}

type certManagerValues struct {
	CRDs            crds                 `json:"crds"`
	Prometheus      certManagerMetrics   `json:"prometheus"`
	Resources       convention.Resources `json:"resources"`
	Webhook         resourcesOnly        `json:"webhook"`
	CAInjector      resourcesOnly        `json:"cainjector"`
	StartupAPICheck startupAPICheck      `json:"startupapicheck"`
	Global          certManagerGlobal    `json:"global"`
}

type crds struct {
	Enabled bool `json:"enabled"`
	Keep    bool `json:"keep"`
}

type certManagerMetrics struct {
	Enabled        bool        `json:"enabled"`
	ServiceMonitor enabledOnly `json:"servicemonitor"`
}

type enabledOnly struct {
	Enabled bool `json:"enabled"`
}

type resourcesOnly struct {
	Resources convention.Resources `json:"resources"`
}

type startupAPICheck struct {
	Enabled   bool                 `json:"enabled"`
	Resources convention.Resources `json:"resources"`
}

type certManagerGlobal struct {
	LeaderElection leaderElection `json:"leaderElection"`
}

type leaderElection struct {
	Namespace string `json:"namespace"`
}

func (a *CertManagerArgs) values() certManagerValues {
	r := a.resources()
	return certManagerValues{
		// CRDs come with the chart and stay when it is uninstalled, so
		// certificates are never deleted with it.
		CRDs: crds{Enabled: true, Keep: true},
		// Metrics on; the ServiceMonitor is ours, created once the
		// monitoring CRDs exist, so the releases install in parallel.
		Prometheus:      certManagerMetrics{Enabled: true},
		Resources:       r.Controller,
		Webhook:         resourcesOnly{r.Webhook},
		CAInjector:      resourcesOnly{r.CAInjector},
		StartupAPICheck: startupAPICheck{Enabled: true, Resources: r.StartupAPICheck},
		// Leader election in cert-manager's namespace, not kube-system.
		Global: certManagerGlobal{LeaderElection: leaderElection{Namespace: convention.CertManagerNamespace}},
	}
}

// NewCertManager installs cert-manager with its CRDs, a ServiceMonitor, a
// Secret holding the Cloudflare token and the ClusterIssuers
// letsencrypt-staging and letsencrypt-prod. The release waits for the
// chart's post-install check, which passes once the CRDs and the webhook
// answer, and the issuers wait for the release: no race on first install.
func NewCertManager(ctx *pulumi.Context, name string, args *CertManagerArgs, opts ...pulumi.ResourceOption) (*CertManager, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("cert-manager %q: %w", name, err)
	}
	c := &CertManager{}
	if err := ctx.RegisterComponentResource(CertManagerType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("cert-manager %q: %w", name, err) }
	ns, err := convention.NewIsolatedNamespace(ctx, name, convention.CertManagerNamespace, convention.Restricted, nil, certManagerNetwork(name), pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.Namespace = ns.Name
	values, err := helm.Values(args.values())
	if err != nil {
		return nil, wrap(err)
	}
	chart := helm.Override(CertManagerChart, args.Chart)
	release, err := helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: chart, Name: name, Namespace: c.Namespace, Values: values,
		// The startupapicheck Job is a post-install hook: waiting for it
		// means waiting for the CRDs and the webhook.
		WaitForJobs: true,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	if err := serviceMonitor(ctx, name, c.Namespace,
		map[string]any{"app.kubernetes.io/instance": name},
		map[string]any{"targetPort": "http-metrics", "path": "/metrics", "interval": "60s"},
		args.MonitoringReady, pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}

	issuerDeps := []pulumi.Resource{release}
	if !args.ExternalToken {
		token, err := corev1.NewSecret(ctx, name+"-cloudflare-token", &corev1.SecretArgs{
			Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(convention.CloudflareTokenSecret), Namespace: c.Namespace},
			Type:       pulumi.String("Opaque"),
			StringData: pulumi.StringMap{convention.CloudflareTokenKey: pulumi.ToSecret(args.CloudflareToken.ToStringOutput()).(pulumi.StringOutput)},
			// Retained when the program drops it: the switch to an
			// ExternalSecret (ExternalToken) adopts it by name.
		}, pulumi.Parent(c), pulumi.RetainOnDelete(true))
		if err != nil {
			return nil, wrap(fmt.Errorf("cloudflare token secret: %w", err))
		}
		issuerDeps = append(issuerDeps, token)
	}
	issuers := []struct{ name, server string }{
		{convention.IssuerStaging, LetsEncryptStaging},
		{convention.IssuerProduction, LetsEncryptProduction},
	}
	for _, is := range issuers {
		acme := map[string]any{
			"server":              is.server,
			"privateKeySecretRef": map[string]any{"name": is.name + "-account-key"},
			"solvers": []any{map[string]any{"dns01": map[string]any{"cloudflare": map[string]any{
				"apiTokenSecretRef": map[string]any{"name": convention.CloudflareTokenSecret, "key": convention.CloudflareTokenKey},
			}}}},
		}
		if args.Email != "" {
			acme["email"] = args.Email
		}
		if _, err := customResource(ctx, name+"-"+is.name, "cert-manager.io/v1", "ClusterIssuer", is.name, nil,
			map[string]any{"acme": acme}, pulumi.Parent(c), pulumi.DependsOn(issuerDeps)); err != nil {
			return nil, wrap(err)
		}
	}
	c.Release = release
	c.Issuers = pulumi.ToStringArray([]string{convention.IssuerStaging, convention.IssuerProduction}).ToStringArrayOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"namespace": c.Namespace, "issuers": c.Issuers})
}
