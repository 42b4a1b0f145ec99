// Package tenancy provides the application namespace (production, uat):
// Pod Security labels, quota, container limits, network isolation, the
// deployer role with its group and ServiceAccount, and the registry pull
// secret.
package tenancy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/externalsecret"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// ComponentType is the type token of the Namespace component.
const ComponentType = "camps:tenancy:Namespace"

// PullSecretName is the name of the registry pull secret in every
// application namespace; workloads list it in imagePullSecrets.
const PullSecretName = "gitlab-registry"

// Namespace is an application namespace and its guard rails.
type Namespace struct {
	pulumi.ResourceState

	// Name is the namespace's name.
	Name pulumi.StringOutput `pulumi:"name"`
	// PullSecret is the name of the registry pull secret.
	PullSecret pulumi.StringOutput `pulumi:"pullSecret"`
	// DeployerToken is the token of the deployer ServiceAccount, bound to
	// the deployer role of this namespace only. Always secret.
	DeployerToken pulumi.StringOutput `pulumi:"deployerToken"`
}

// DeployerName names the deployer Role, its RoleBinding and the
// ServiceAccount CI deploys with.
const DeployerName = "deployer"

// TokenGenerationAnnotation holds the deployer ServiceAccount's token
// generation (NamespaceArgs.DeployerTokenGeneration).
const TokenGenerationAnnotation = "camps.ch/token-generation"

// NamespaceArgs configure an application namespace. Every field is required
// unless it says otherwise.
type NamespaceArgs struct {
	// Labels are extra labels of the namespace (e.g. the environment).
	// Optional.
	Labels map[string]string
	// Quota is the namespace's ResourceQuota.
	Quota Quota
	// Limits are the per-container defaults and maxima.
	Limits Limits
	// IngressNamespace is the namespace of the ingress controller, admitted
	// to every pod of the namespace.
	IngressNamespace string
	// MonitoringNamespace is the namespace of Prometheus, admitted to
	// scrape every pod of the namespace.
	MonitoringNamespace string
	// PrivatePodsLabel is a label key whose pods (the databases) the
	// ingress and monitoring namespaces are not admitted to; their own
	// policy admits what they need. Optional.
	PrivatePodsLabel string
	// EgressCIDRs are extra destinations the pods may reach (a database,
	// an external API). Optional; by default pods reach only their own
	// namespace and the cluster DNS.
	EgressCIDRs []string
	// AllowExec lets the deployer group exec into pods and port-forward
	// (uat); otherwise it may not. Default: false.
	AllowExec bool
	// DeployerGroup is the group bound to the deployer role.
	DeployerGroup string
	// DeployerTokenGeneration names the deployer ServiceAccount's token
	// Secret (deployer-token-<generation>): a new generation replaces the
	// Secret, which issues a new token and revokes the old one. At least 1.
	DeployerTokenGeneration int
	// Registry is the private registry the pods pull from.
	Registry Registry
}

// Quota is a ResourceQuota; quantities in Kubernetes notation.
type Quota struct {
	RequestsCPU, RequestsMemory, LimitsCPU, LimitsMemory, RequestsStorage string
	Pods, PersistentVolumeClaims                                          int
}

// Limits are a LimitRange's container defaults and maxima.
type Limits struct {
	DefaultCPU, DefaultMemory, DefaultRequestCPU, DefaultRequestMemory, MaxCPU, MaxMemory string
}

// Registry is a private registry and its deploy token.
type Registry struct {
	// Server is the registry host, e.g. registry.gitlab.com.
	Server string
	// Username is the deploy token's username.
	Username string
	// Token is the deploy token; it stays secret end to end.
	Token pulumi.StringInput
	// External: the pull secret is an ExternalSecret from OpenBao
	// (security.externalSecrets), not written here; Token is unused.
	External bool
}

func (a *NamespaceArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.IngressNamespace == "" || a.MonitoringNamespace == "":
		return errors.New("the ingress and monitoring namespaces are required")
	case a.DeployerGroup == "":
		return errors.New("a deployer group is required")
	case a.DeployerTokenGeneration < 1:
		return fmt.Errorf("the deployer token generation is %d, want at least 1", a.DeployerTokenGeneration)
	case a.Registry.Server == "" || a.Registry.Username == "" || (a.Registry.Token == nil && !a.Registry.External):
		return errors.New("the registry server, username and token are required")
	}
	return nil
}

// NewNamespace creates the namespace called name with its quota, limits,
// network policies (default deny; allow the namespace itself, the ingress
// controller, monitoring, DNS and EgressCIDRs), deployer Role bound to the
// deployer group and ServiceAccount, the ServiceAccount's token, and the
// registry pull secret. The namespace is protected:
// deleting it would delete its volumes.
func NewNamespace(ctx *pulumi.Context, name string, args *NamespaceArgs, opts ...pulumi.ResourceOption) (*Namespace, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("namespace %q: %w", name, err)
	}
	n := &Namespace{}
	if err := ctx.RegisterComponentResource(ComponentType, name, n, opts...); err != nil {
		return nil, err
	}
	// Every application namespace enforces, audits and warns at restricted.
	labels := map[string]string{"camps.ch/tenant": name}
	maps.Copy(labels, args.Labels)
	ns, err := convention.NewIsolatedNamespace(ctx, name, name, convention.Restricted, labels, network(args), pulumi.Parent(n))
	if err != nil {
		return nil, fmt.Errorf("namespace %q: %w", name, err)
	}
	n.Name = ns.Name
	meta := func(objName string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(objName), Namespace: n.Name}
	}
	child := []pulumi.ResourceOption{pulumi.Parent(n)}

	steps := []func() error{
		func() error { return n.guardRails(ctx, name, args, meta, child) },
		func() error { return n.deployer(ctx, name, args, meta, child) },
		func() error { return n.pullSecret(ctx, name, args.Registry, meta, child) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("namespace %q: %w", name, err)
		}
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{"name": n.Name, "pullSecret": n.PullSecret, "deployerToken": n.DeployerToken})
}

type metaFunc func(objName string) *metav1.ObjectMetaArgs

func (n *Namespace) guardRails(ctx *pulumi.Context, name string, args *NamespaceArgs, meta metaFunc, opts []pulumi.ResourceOption) error {
	q := args.Quota
	if _, err := corev1.NewResourceQuota(ctx, name+"-quota", &corev1.ResourceQuotaArgs{
		Metadata: meta("quota"),
		Spec: &corev1.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{
			"requests.cpu":           pulumi.String(q.RequestsCPU),
			"requests.memory":        pulumi.String(q.RequestsMemory),
			"limits.cpu":             pulumi.String(q.LimitsCPU),
			"limits.memory":          pulumi.String(q.LimitsMemory),
			"requests.storage":       pulumi.String(q.RequestsStorage),
			"pods":                   pulumi.Sprintf("%d", q.Pods),
			"persistentvolumeclaims": pulumi.Sprintf("%d", q.PersistentVolumeClaims),
		}},
	}, opts...); err != nil {
		return fmt.Errorf("resource quota: %w", err)
	}
	l := args.Limits
	if _, err := corev1.NewLimitRange(ctx, name+"-limits", &corev1.LimitRangeArgs{
		Metadata: meta("limits"),
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			Default:        pulumi.StringMap{"cpu": pulumi.String(l.DefaultCPU), "memory": pulumi.String(l.DefaultMemory)},
			DefaultRequest: pulumi.StringMap{"cpu": pulumi.String(l.DefaultRequestCPU), "memory": pulumi.String(l.DefaultRequestMemory)},
			Max:            pulumi.StringMap{"cpu": pulumi.String(l.MaxCPU), "memory": pulumi.String(l.MaxMemory)},
		}}},
	}, opts...); err != nil {
		return fmt.Errorf("limit range: %w", err)
	}
	return nil
}

// network admits, past the namespace's default deny, the namespace's own
// pods, the ingress controller and Prometheus (not to private pods: the
// databases), DNS, and egress to EgressCIDRs.
func network(args *NamespaceArgs) []netpol.Allow {
	fromNamespace := func(suffix, ns string) netpol.Allow {
		return netpol.Allow{Name: suffix, Without: args.PrivatePodsLabel,
			Ingress: []netpol.Flow{{Peers: []netpol.Peer{{Namespace: ns}}}}}
	}
	allows := []netpol.Allow{
		{Name: "same-namespace", Ingress: []netpol.Flow{netpol.Within(nil)}, Egress: []netpol.Flow{netpol.Within(nil)}},
		fromNamespace("from-ingress", args.IngressNamespace),
		fromNamespace("from-monitoring", args.MonitoringNamespace),
		{Name: "dns", Egress: []netpol.Flow{netpol.DNS}},
	}
	if len(args.EgressCIDRs) > 0 {
		cidrs := netpol.Flow{}
		for _, cidr := range args.EgressCIDRs {
			cidrs.Peers = append(cidrs.Peers, netpol.Peer{CIDR: cidr})
		}
		allows = append(allows, netpol.Allow{Name: "egress-cidrs", Egress: []netpol.Flow{cidrs}})
	}
	return allows
}

// deployerRules let a CI deployer ship and observe an application, but not
// change RBAC, quotas or policies, nor exec into pods.
var deployerRules = []struct{ groups, resources, verbs []string }{
	{[]string{""}, []string{"configmaps", "secrets", "services", "persistentvolumeclaims", "serviceaccounts"}, readWrite},
	{[]string{""}, []string{"pods"}, []string{"get", "list", "watch", "delete"}},
	{[]string{""}, []string{"pods/log", "events"}, []string{"get", "list", "watch"}},
	{[]string{"apps"}, []string{"deployments", "statefulsets", "replicasets"}, readWrite},
	{[]string{"batch"}, []string{"jobs", "cronjobs"}, readWrite},
	{[]string{"networking.k8s.io"}, []string{"ingresses"}, readWrite},
	{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, readWrite},
	{[]string{"policy"}, []string{"poddisruptionbudgets"}, readWrite},
}

var readWrite = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

func (n *Namespace) deployer(ctx *pulumi.Context, name string, args *NamespaceArgs, meta metaFunc, opts []pulumi.ResourceOption) error {
	rules := rbacv1.PolicyRuleArray{}
	for _, r := range deployerRules {
		rules = append(rules, rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray(r.groups),
			Resources: pulumi.ToStringArray(r.resources),
			Verbs:     pulumi.ToStringArray(r.verbs),
		})
	}
	if args.AllowExec {
		rules = append(rules, rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{""}),
			Resources: pulumi.ToStringArray([]string{"pods/exec", "pods/portforward"}),
			Verbs:     pulumi.ToStringArray([]string{"get", "create"}),
		})
	}
	role, err := rbacv1.NewRole(ctx, name+"-deployer", &rbacv1.RoleArgs{Metadata: meta(DeployerName), Rules: rules}, opts...)
	if err != nil {
		return fmt.Errorf("deployer role: %w", err)
	}
	// CI's identity: no token is mounted into pods (none run as it); its
	// token is the Secret below. A new generation replaces the account
	// itself (deleted first: the name stays), which revokes every token of
	// it, also one a deployer made with its right to create Secrets.
	saMeta := meta(DeployerName)
	saMeta.Annotations = pulumi.StringMap{TokenGenerationAnnotation: pulumi.Sprintf("%d", args.DeployerTokenGeneration)}
	sa, err := corev1.NewServiceAccount(ctx, name+"-deployer", &corev1.ServiceAccountArgs{
		Metadata:                     saMeta,
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, append(opts, pulumi.ReplaceOnChanges([]string{"metadata.annotations"}), pulumi.DeleteBeforeReplace(true))...)
	if err != nil {
		return fmt.Errorf("deployer service account: %w", err)
	}
	if _, err := rbacv1.NewRoleBinding(ctx, name+"-deployer", &rbacv1.RoleBindingArgs{
		Metadata: meta(DeployerName),
		RoleRef: &rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"),
			Kind:     pulumi.String("Role"),
			Name:     role.Metadata.Name().Elem(),
		},
		Subjects: rbacv1.SubjectArray{
			rbacv1.SubjectArgs{
				ApiGroup: pulumi.String("rbac.authorization.k8s.io"),
				Kind:     pulumi.String("Group"),
				Name:     pulumi.String(args.DeployerGroup),
			},
			rbacv1.SubjectArgs{
				Kind:      pulumi.String("ServiceAccount"),
				Name:      sa.Metadata.Name().Elem(),
				Namespace: n.Name,
			},
		},
	}, opts...); err != nil {
		return fmt.Errorf("deployer role binding: %w", err)
	}
	// A long-lived token, as CI outside the cluster needs one: the token
	// controller fills the Secret, and the Kubernetes provider waits until
	// it has. Deleting the Secret revokes the token.
	token, err := corev1.NewSecret(ctx, fmt.Sprintf("%s-deployer-token-%d", name, args.DeployerTokenGeneration), &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.Sprintf("%s-token-%d", DeployerName, args.DeployerTokenGeneration),
			Namespace:   n.Name,
			Annotations: pulumi.StringMap{"kubernetes.io/service-account.name": sa.Metadata.Name().Elem()},
		},
		Type: pulumi.String("kubernetes.io/service-account-token"),
	}, append(opts, pulumi.AdditionalSecretOutputs([]string{"data"}))...)
	if err != nil {
		return fmt.Errorf("deployer token: %w", err)
	}
	n.DeployerToken = pulumi.ToSecret(token.Data.ApplyT(func(data map[string]string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(data["token"])
		if err != nil || len(b) == 0 {
			return "", fmt.Errorf("deployer token of namespace %q: the Secret holds no token (is the token controller running?)", name)
		}
		return string(b), nil
	})).(pulumi.StringOutput)
	return nil
}

// DockerConfigJSON renders the .dockerconfigjson of a registry credential.
func DockerConfigJSON(server, username, token string) (string, error) {
	type auth struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
	}
	b, err := json.Marshal(map[string]map[string]auth{"auths": {server: {
		Username: username,
		Password: token,
		Auth:     base64.StdEncoding.EncodeToString([]byte(username + ":" + token)),
	}}})
	return string(b), err
}

// PullSecretSpec is the ExternalSecret that replaces the pull secret of
// the namespace ns (created as namespace) once the registry token comes
// from OpenBao (Registry.External): same name, same type, the
// .dockerconfigjson rendered from the username and password at
// ns/gitlab-registry in the store.
func PullSecretSpec(ns string, namespace pulumi.StringInput, server string) externalsecret.Spec {
	quoted, _ := json.Marshal(server)
	dockerConfig := `{"auths":{` + string(quoted) + `:{"username":{{ .username | toJson }},"password":{{ .password | toJson }},` +
		`"auth":{{ printf "%s:%s" .username .password | b64enc | toJson }}}}}`
	return externalsecret.Spec{
		Name: PullSecretName, Namespace: namespace, Type: "kubernetes.io/dockerconfigjson",
		Fields: []externalsecret.Field{
			externalsecret.Mirrored(ns, PullSecretName, "username"), externalsecret.Mirrored(ns, PullSecretName, "password"),
		},
		Template: map[string]string{".dockerconfigjson": dockerConfig},
	}
}

func (n *Namespace) pullSecret(ctx *pulumi.Context, name string, reg Registry, meta metaFunc, opts []pulumi.ResourceOption) error {
	if reg.External {
		n.PullSecret = pulumi.String(PullSecretName).ToStringOutput()
		return nil
	}
	config := pulumi.ToSecret(reg.Token.ToStringOutput().ApplyT(func(token string) (string, error) {
		return DockerConfigJSON(reg.Server, reg.Username, token)
	})).(pulumi.StringOutput)
	// Retained when the program drops it: the switch to an ExternalSecret
	// (Registry.External) adopts it by name, with no gap for the pods.
	secret, err := corev1.NewSecret(ctx, name+"-pull-secret", &corev1.SecretArgs{
		Metadata:   meta(PullSecretName),
		Type:       pulumi.String("kubernetes.io/dockerconfigjson"),
		StringData: pulumi.StringMap{".dockerconfigjson": config},
	}, append(opts, pulumi.RetainOnDelete(true))...)
	if err != nil {
		return fmt.Errorf("pull secret: %w", err)
	}
	n.PullSecret = secret.Metadata.Name().Elem()
	return nil
}
