package security

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// Audit levels of audit.k8s.io/v1.
const (
	LevelNone     = "None"
	LevelMetadata = "Metadata"
	LevelRequest  = "Request"
)

// AuditRule is an audit.k8s.io/v1 PolicyRule: the first rule a request
// matches sets its level.
type AuditRule struct {
	Level           string          `json:"level"`
	Users           []string        `json:"users,omitempty"`
	Verbs           []string        `json:"verbs,omitempty"`
	Resources       []GroupResource `json:"resources,omitempty"`
	NonResourceURLs []string        `json:"nonResourceURLs,omitempty"`
}

// GroupResource is an audit.k8s.io/v1 GroupResources.
type GroupResource struct {
	Group     string   `json:"group"`
	Resources []string `json:"resources"`
}

var (
	writes = []string{"create", "update", "patch", "delete", "deletecollection"}
	reads  = []string{"get", "list", "watch"}
)

// AuditRules are the API server's audit policy, in order:
//   - nothing for health checks, discovery, events and leader-election
//     leases (noise, and events are their own record);
//   - metadata (who, what, when; never the content) for every access to
//     Secrets, ConfigMaps, service account tokens and token reviews, reads
//     included;
//   - the request body for changes to RBAC and namespaces;
//   - metadata for shells and proxies into pods, services and nodes;
//   - nothing for other reads (controllers list and watch all day);
//   - metadata for every other change.
var AuditRules = []AuditRule{
	{Level: LevelNone, NonResourceURLs: []string{"/healthz*", "/livez*", "/readyz*", "/version", "/metrics", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"}},
	{Level: LevelNone, Resources: []GroupResource{{Group: "", Resources: []string{"events"}}, {Group: "events.k8s.io", Resources: []string{"events"}}}},
	{Level: LevelNone, Resources: []GroupResource{{Group: "coordination.k8s.io", Resources: []string{"leases"}}}},
	{Level: LevelMetadata, Resources: []GroupResource{
		{Group: "", Resources: []string{"secrets", "configmaps", "serviceaccounts/token"}},
		{Group: "authentication.k8s.io", Resources: []string{"tokenreviews"}},
	}},
	{Level: LevelRequest, Verbs: writes, Resources: []GroupResource{
		{Group: "rbac.authorization.k8s.io", Resources: []string{"clusterroles", "clusterrolebindings", "roles", "rolebindings"}},
		{Group: "", Resources: []string{"namespaces"}},
	}},
	{Level: LevelMetadata, Resources: []GroupResource{
		{Group: "", Resources: []string{"pods/exec", "pods/attach", "pods/portforward", "pods/proxy", "services/proxy", "nodes/proxy"}},
	}},
	{Level: LevelNone, Verbs: reads},
	{Level: LevelMetadata},
}

// auditPolicy is an audit.k8s.io/v1 Policy.
type auditPolicy struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	OmitStages []string    `json:"omitStages"`
	Rules      []AuditRule `json:"rules"`
}

// AuditPolicy is the audit policy as YAML, the form the KaaS API takes
// (audit-policy). Events are recorded once a response is ready: the
// RequestReceived stage is omitted.
func AuditPolicy() (string, error) {
	return toYAML(auditPolicy{
		APIVersion: "audit.k8s.io/v1", Kind: "Policy",
		OmitStages: []string{"RequestReceived"},
		Rules:      AuditRules,
	})
}

// toYAML renders v's JSON form as YAML (keys sorted).
func toYAML(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return "", err
	}
	out, err := yaml.Marshal(generic)
	if err != nil {
		return "", fmt.Errorf("yaml: %w", err)
	}
	return string(out), nil
}

// AuditWebhookType is the type token of the AuditWebhook component.
const AuditWebhookType = "camps:security:AuditWebhook"

// AuditWebhook is the API server's side of audit logging: the policy, the
// bearer token it presents to the sink, and the webhook kubeconfig that
// carries both the sink's URL and the token.
type AuditWebhook struct {
	pulumi.ResourceState

	// Policy is the audit policy (AuditPolicy).
	Policy pulumi.StringOutput `pulumi:"policy"`
	// Token is the bearer token: 48 letters and digits (safe in Vector's
	// configuration), secret.
	Token pulumi.StringOutput `pulumi:"token"`
	// Config is the webhook's kubeconfig, secret.
	Config pulumi.StringOutput `pulumi:"config"`
}

// NewAuditWebhook generates the token (with its own random provider) and
// renders the policy and the kubeconfig for the sink at host.
func NewAuditWebhook(ctx *pulumi.Context, name, host string, opts ...pulumi.ResourceOption) (*AuditWebhook, error) {
	if host == "" {
		return nil, fmt.Errorf("audit webhook %q: the sink's host is required", name)
	}
	policy, err := AuditPolicy()
	if err != nil {
		return nil, fmt.Errorf("audit webhook %q: policy: %w", name, err)
	}
	c := &AuditWebhook{}
	if err := ctx.RegisterComponentResource(AuditWebhookType, name, c, opts...); err != nil {
		return nil, err
	}
	rnd, err := random.NewProvider(ctx, name, nil, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("audit webhook %q: random provider: %w", name, err)
	}
	token, err := random.NewRandomPassword(ctx, name+"-token", &random.RandomPasswordArgs{
		Length: pulumi.Int(48), Special: pulumi.Bool(false),
	}, pulumi.Parent(c), pulumi.Provider(rnd))
	if err != nil {
		return nil, fmt.Errorf("audit webhook %q: token: %w", name, err)
	}
	c.Policy = pulumi.String(policy).ToStringOutput()
	c.Token = pulumi.ToSecret(token.Result).(pulumi.StringOutput)
	c.Config = pulumi.ToSecret(c.Token.ApplyT(func(t string) (string, error) {
		return webhookKubeconfig(host, t)
	})).(pulumi.StringOutput)
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"policy": c.Policy, "token": c.Token, "config": c.Config})
}

// webhookKubeconfig is the kubeconfig the API server sends its events
// with: the sink's URL and the bearer token.
func webhookKubeconfig(host, token string) (string, error) {
	return toYAML(map[string]any{
		"apiVersion": "v1", "kind": "Config",
		"clusters":        []any{map[string]any{"name": "audit-sink", "cluster": map[string]any{"server": "https://" + host + "/"}}},
		"users":           []any{map[string]any{"name": "kube-apiserver", "user": map[string]any{"token": token}}},
		"contexts":        []any{map[string]any{"name": "audit-sink", "context": map[string]any{"cluster": "audit-sink", "user": "kube-apiserver"}}},
		"current-context": "audit-sink",
	})
}
