package security

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/customresource"
	"gitlab.com/camps-ch/infra/infra/externalsecret"
	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// ExternalSecretsType is the type token of the ExternalSecrets component.
const ExternalSecretsType = "camps:security:ExternalSecrets"

// ExternalSecretsChart is the External Secrets Operator's chart (app
// v2.9.0).
var ExternalSecretsChart = helm.Chart{Name: "external-secrets", Version: "2.9.0", Repository: "https://charts.external-secrets.io"}

// The operator's namespace, its service account (the chart's full name)
// and the ClusterSecretStore.
const (
	ExternalSecretsNamespace = "external-secrets"
	ESOServiceAccount        = "external-secrets"
	// StoreName is the ClusterSecretStore on OpenBao.
	StoreName = "openbao"
)

// ExternalSecrets is the External Secrets Operator and its
// ClusterSecretStore on OpenBao.
type ExternalSecrets struct {
	pulumi.ResourceState

	// Store is where ExternalSecrets read, with what they wait for.
	Store externalsecret.Store
}

// ExternalSecretsArgs configure the operator.
type ExternalSecretsArgs struct {
	// Chart overrides the chart's source; default ExternalSecretsChart.
	Chart *helm.Chart
	// Namespaces may read the store: the application namespaces and
	// cert-manager's. Others are refused by the store's conditions.
	Namespaces []string
	// Ready are what the release waits for (the monitoring CRDs).
	Ready []pulumi.Resource
	// Secrets are the ExternalSecrets that replace Secrets Pulumi wrote
	// (security.externalSecrets); none until the switch is on.
	Secrets []externalsecret.Spec
}

func (a *ExternalSecretsArgs) validate() error {
	if a == nil || len(a.Namespaces) == 0 {
		return errors.New("the namespaces that may read the store are required")
	}
	return nil
}

// esoNetwork: the API server calls the webhook (10250), Prometheus
// scrapes every component (8080), the controller reads OpenBao (8200).
func esoNetwork() []netpol.Allow {
	return []netpol.Allow{
		convention.DNSAndAPI,
		{Name: "webhook", Pods: map[string]string{"app.kubernetes.io/name": "external-secrets-webhook"},
			Ingress: []netpol.Flow{netpol.Anywhere(10250)}},
		{Name: "prometheus", Ingress: []netpol.Flow{{Peers: []netpol.Peer{convention.PrometheusPeer}, Ports: netpol.TCP(8080)}}},
		{Name: "openbao", Pods: map[string]string{"app.kubernetes.io/name": "external-secrets"},
			Egress: []netpol.Flow{netpol.From(OpenBaoNamespace, openBaoPods, 8200)}},
	}
}

// esoChartValues: one replica of each component, sized; CRDs kept if the
// release goes (deleting them would delete every ExternalSecret and, with
// them, the Secrets they own); ServiceMonitors on. The chart's security
// contexts already satisfy Pod Security restricted.
func esoChartValues() esoValues {
	return esoValues{
		InstallCRDs:    true,
		CRDs:           esoCRDs{Annotations: map[string]string{"helm.sh/resource-policy": "keep"}},
		ReplicaCount:   1,
		Resources:      esoResources.controller,
		ServiceMonitor: enabled{true},
		Webhook:        esoComponent{ReplicaCount: 1, Resources: esoResources.webhook},
		CertController: esoComponent{Resources: esoResources.certController},
	}
}

// esoResources size the operator's three components.
var esoResources = struct{ controller, webhook, certController convention.Resources }{
	controller:     convention.NewResources("25m", "64Mi", "200m", "256Mi"),
	webhook:        convention.NewResources("10m", "32Mi", "100m", "128Mi"),
	certController: convention.NewResources("10m", "32Mi", "100m", "128Mi"),
}

// ExternalSecretsRequests are the CPU and memory the operator asks for.
func ExternalSecretsRequests() convention.Requests {
	return convention.RequestsOf(1, esoResources.controller, esoResources.webhook, esoResources.certController)
}

// NewExternalSecrets creates the namespace (restricted, default deny), the
// operator's release and the ClusterSecretStore: OpenBao's KV engine over
// TLS (its private CA), Kubernetes auth with the operator's service
// account for the audience the OpenBao role requires.
func NewExternalSecrets(ctx *pulumi.Context, name string, args *ExternalSecretsArgs, opts ...pulumi.ResourceOption) (*ExternalSecrets, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("external secrets %q: %w", name, err)
	}
	c := &ExternalSecrets{}
	if err := ctx.RegisterComponentResource(ExternalSecretsType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("external secrets %q: %w", name, err) }
	ns, err := convention.NewIsolatedNamespace(ctx, name, ExternalSecretsNamespace, convention.Restricted, nil, esoNetwork(), pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	values, err := helm.Values(esoChartValues())
	if err != nil {
		return nil, wrap(err)
	}
	release, err := helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: helm.Override(ExternalSecretsChart, args.Chart), Name: "external-secrets", Namespace: ns.Name, Values: values,
	}, pulumi.Parent(c), pulumi.DependsOn(args.Ready))
	if err != nil {
		return nil, wrap(err)
	}
	store, err := customresource.New(ctx, name+"-store", customresource.Object{
		APIVersion: "external-secrets.io/v1", Kind: "ClusterSecretStore", Name: StoreName,
	}, storeSpec(args.Namespaces), pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{release}))
	if err != nil {
		return nil, wrap(err)
	}
	c.Store = externalsecret.Store{Name: StoreName, Ready: []pulumi.Resource{release, store}}
	for _, s := range args.Secrets {
		if _, err := externalsecret.New(ctx, name+"-"+s.ResourceName(), c.Store, s, pulumi.Parent(c)); err != nil {
			return nil, wrap(err)
		}
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"store": pulumi.String(StoreName)})
}

// storeSpec is the ClusterSecretStore's spec.
func storeSpec(namespaces []string) map[string]any {
	return map[string]any{
		"provider": map[string]any{"vault": map[string]any{
			"server": OpenBaoAddress, "path": KVMount, "version": "v2",
			"caProvider": map[string]any{"type": "Secret", "name": OpenBaoCASecret, "key": "ca.crt", "namespace": OpenBaoNamespace},
			"auth": map[string]any{"kubernetes": map[string]any{
				"mountPath": "kubernetes", "role": ESORole,
				"serviceAccountRef": map[string]any{
					"name": ESOServiceAccount, "namespace": ExternalSecretsNamespace, "audiences": []string{ESOAudience},
				},
			}},
		}},
		"conditions": []any{map[string]any{"namespaces": namespaces}},
	}
}
