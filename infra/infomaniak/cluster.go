package infomaniak

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cluster is an Infomaniak managed Kubernetes cluster (KaaS).
//
// region and packName force a replacement; name, kubernetesVersion and
// apiServer are updated in place (a version change is a rolling upgrade of
// one minor version at a time).
type Cluster struct {
	pulumi.CustomResourceState

	// KaasID is the API's id of the cluster (kaas_id).
	KaasID pulumi.IntOutput `pulumi:"kaasId"`
	// Name is the cluster's name.
	Name pulumi.StringOutput `pulumi:"name"`
	// Region is the region, e.g. dc4-a.
	Region pulumi.StringOutput `pulumi:"region"`
	// PackName is the control plane pack, e.g. shared.
	PackName pulumi.StringOutput `pulumi:"packName"`
	// KubernetesVersion is the Kubernetes minor version, e.g. 1.35.
	KubernetesVersion pulumi.StringOutput `pulumi:"kubernetesVersion"`
	// Status is the API's status: Active, Creating, Updating, ...
	Status pulumi.StringOutput `pulumi:"status"`
	// Kubeconfig is the admin kubeconfig of the cluster. Always secret.
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`
}

// ClusterArgs are the inputs of a Cluster.
type ClusterArgs struct {
	// Name of the cluster, at most 40 characters.
	Name pulumi.StringInput
	// Region of the cluster, e.g. dc4-a. Changing it replaces the cluster.
	Region pulumi.StringInput
	// PackName is the control plane pack (GET /1/public_clouds/kaas/packs),
	// e.g. shared. Changing it replaces the cluster.
	PackName pulumi.StringInput
	// KubernetesVersion is a minor version offered by the API, e.g. 1.35.
	KubernetesVersion pulumi.StringInput
	// APIServer holds the API server options; nil leaves them untouched.
	APIServer *APIServerArgs
}

// APIServerArgs are the API server options of a cluster.
type APIServerArgs struct {
	// IPFilters is the CIDR allow-list of the control plane; empty admits all.
	IPFilters pulumi.StringArrayInput `pulumi:"ipFilters"`
	// AuditPolicy is a YAML audit policy (audit-policy).
	AuditPolicy pulumi.StringPtrInput `pulumi:"auditPolicy"`
	// AuditWebhookConfig is the YAML kubeconfig of the audit webhook sink (audit-webhook-config).
	AuditWebhookConfig pulumi.StringPtrInput `pulumi:"auditWebhookConfig"`
	// OIDC configures OIDC authentication; nil disables it.
	OIDC *OIDCArgs `pulumi:"oidc"`
}

// OIDCArgs configures the API server's OIDC flags (--oidc-*).
type OIDCArgs struct {
	// IssuerURL is --oidc-issuer-url.
	IssuerURL pulumi.StringInput `pulumi:"issuerUrl"`
	// ClientID is --oidc-client-id.
	ClientID pulumi.StringInput `pulumi:"clientId"`
	// UsernameClaim is --oidc-username-claim: email, name or sub.
	UsernameClaim pulumi.StringPtrInput `pulumi:"usernameClaim"`
	// UsernamePrefix is --oidc-username-prefix.
	UsernamePrefix pulumi.StringPtrInput `pulumi:"usernamePrefix"`
	// GroupsClaim is --oidc-groups-claim.
	GroupsClaim pulumi.StringPtrInput `pulumi:"groupsClaim"`
	// GroupsPrefix is --oidc-groups-prefix.
	GroupsPrefix pulumi.StringPtrInput `pulumi:"groupsPrefix"`
	// SigningAlgs is --oidc-signing-algs, e.g. RS256.
	SigningAlgs pulumi.StringPtrInput `pulumi:"signingAlgs"`
	// RequiredClaim is --oidc-required-claim, as key=value.
	RequiredClaim pulumi.StringPtrInput `pulumi:"requiredClaim"`
	// CA is the PEM CA of the issuer (oidc_ca).
	CA pulumi.StringPtrInput `pulumi:"ca"`
}

type clusterInputs struct {
	Name              pulumi.StringInput `pulumi:"name"`
	Region            pulumi.StringInput `pulumi:"region"`
	PackName          pulumi.StringInput `pulumi:"packName"`
	KubernetesVersion pulumi.StringInput `pulumi:"kubernetesVersion"`
	APIServer         *APIServerArgs     `pulumi:"apiServer"`
}

// clusterState is the element type of clusterInputs. Nested option blocks
// keep their Args types: the SDK marshals a plain struct field only when
// its value's type is assignable to it.
type clusterState struct {
	Name              string         `pulumi:"name"`
	Region            string         `pulumi:"region"`
	PackName          string         `pulumi:"packName"`
	KubernetesVersion string         `pulumi:"kubernetesVersion"`
	APIServer         *APIServerArgs `pulumi:"apiServer"`
}

func (clusterInputs) ElementType() reflect.Type { return reflect.TypeFor[clusterState]() }

// secretAPIServer copies the API server options with the audit webhook's
// kubeconfig and the OIDC CA made secret: the first may carry credentials.
func secretAPIServer(a *APIServerArgs) *APIServerArgs {
	if a == nil {
		return nil
	}
	out := *a
	if out.AuditWebhookConfig != nil {
		out.AuditWebhookConfig = pulumi.ToSecret(out.AuditWebhookConfig.ToStringPtrOutput()).(pulumi.StringPtrOutput)
	}
	if a.OIDC != nil && a.OIDC.CA != nil {
		o := *a.OIDC
		o.CA = pulumi.ToSecret(o.CA.ToStringPtrOutput()).(pulumi.StringPtrOutput)
		out.OIDC = &o
	}
	return &out
}

// NewCluster registers a KaaS cluster. The kubeconfig output is always
// secret, and so are the audit webhook kubeconfig and the OIDC CA inputs.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if args == nil {
		args = &ClusterArgs{}
	}
	in := clusterInputs{
		Name:              args.Name,
		Region:            args.Region,
		PackName:          args.PackName,
		KubernetesVersion: args.KubernetesVersion,
		APIServer:         secretAPIServer(args.APIServer),
	}
	opts = append(opts, pulumi.AdditionalSecretOutputs([]string{"kubeconfig"}))
	var c Cluster
	if err := ctx.RegisterResource(ClusterType, name, in, &c, opts...); err != nil {
		return nil, err
	}
	return &c, nil
}
