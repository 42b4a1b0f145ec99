package policy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"gitlab.com/camps-ch/infra/internal/policy"
	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
	"gitlab.com/camps-ch/infra/stacks"
)

// Plans are the offline plans of every stack and phase.
var plans = []stackrun.Options{
	{Stack: "uat"},
	{Stack: "uat", Set: map[string]string{stacks.FullKey("phase"): "2"}},
	{Stack: "prod"},
	{Stack: "prod", Set: map[string]string{stacks.FullKey("phase"): "2"}},
	{Stack: "prod", Set: map[string]string{stacks.FullKey("phase"): "2", stacks.FullKey("security"): `{"groups":{"platformAdmins":"oidc:platform-admins","auditors":"oidc:auditors","breakGlass":"oidc:break-glass"}}`}},
	{Stack: "prod", Set: map[string]string{stacks.FullKey("phase"): "2", stacks.FullKey("security"): `{"externalSecrets":true}`}},
}

func plan(t *testing.T, opts stackrun.Options) policy.Plan {
	t.Helper()
	opts.Dir = "../.."
	opts.Secrets = stackrun.OperatorValues()
	res, err := stackrun.Run(opts)
	if err != nil {
		t.Fatalf("plan %s %v: %v", opts.Stack, opts.Set, err)
	}
	return policy.Plan{Resources: res.Recorder.Resources(), Outputs: res.Outputs}
}

func TestEveryPlanPasses(t *testing.T) {
	for _, opts := range plans {
		t.Run(fmt.Sprintf("%s %v", opts.Stack, opts.Set), func(t *testing.T) {
			for _, v := range policy.Check(plan(t, opts)) {
				t.Error(v)
			}
		})
	}
}

// find returns the first resource of a type, optionally with a name.
func find(t *testing.T, rs []*recorder.Resource, typ, name string) *recorder.Resource {
	t.Helper()
	for _, r := range rs {
		if r.Type == typ && (name == "" || r.Name == name) {
			return r
		}
	}
	t.Fatalf("no %s %s in the plan", typ, name)
	return nil
}

// without drops a resource from the plan.
func without(rs []*recorder.Resource, typ, name string) []*recorder.Resource {
	var out []*recorder.Resource
	for _, r := range rs {
		if r.Type != typ || r.Name != name {
			out = append(out, r)
		}
	}
	return out
}

// set replaces the input at a top-level key.
func set(r *recorder.Resource, key string, v resource.PropertyValue) {
	r.Inputs[resource.PropertyKey(key)] = v
}

func TestSeededViolationsFail(t *testing.T) {
	obj := func(m map[string]any) resource.PropertyValue {
		return resource.NewProperty(resource.NewPropertyMapFromMap(m))
	}
	tests := []struct {
		name   string
		seed   func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource
		policy string
		want   string
	}{
		{"a chart version range", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			set(find(t, rs, "kubernetes:helm.sh/v3:Release", "longhorn"), "version", resource.NewProperty("~1.12"))
			return rs
		}, "charts-pinned", `chart "longhorn" has version "~1.12"`},
		{"no chart version", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			delete(find(t, rs, "kubernetes:helm.sh/v3:Release", "cert-manager").Inputs, "version")
			return rs
		}, "charts-pinned", `chart "cert-manager" has version ""`},
		{"a LoadBalancer Service", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			return append(rs, &recorder.Resource{Type: "kubernetes:core/v1:Service", Name: "grafana-lb", Custom: true,
				Inputs: resource.NewPropertyMapFromMap(map[string]any{"spec": map[string]any{"type": "LoadBalancer"}})})
		}, "one-load-balancer", "is a Service of type LoadBalancer"},
		{"a chart asked for a load balancer", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			set(find(t, rs, "kubernetes:helm.sh/v3:Release", "kube-prometheus-stack"), "values",
				obj(map[string]any{"grafana": map[string]any{"service": map[string]any{"type": "LoadBalancer"}}}))
			return rs
		}, "one-load-balancer", "values.grafana.service.type asks for a Service of type LoadBalancer"},
		{"a namespace without Pod Security", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			set(find(t, rs, "kubernetes:core/v1:Namespace", "uat"), "metadata", obj(map[string]any{"name": "uat"}))
			return rs
		}, "namespaces-labelled", `pod-security.kubernetes.io/enforce is ""`},
		{"a namespace warning at another level", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			ns := find(t, rs, "kubernetes:core/v1:Namespace", "uat")
			set(ns, "metadata", obj(map[string]any{"name": "uat", "labels": map[string]any{
				"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/audit": "restricted",
				"pod-security.kubernetes.io/warn": "baseline", "app.kubernetes.io/managed-by": "pulumi"}}))
			return rs
		}, "namespaces-labelled", `pod-security.kubernetes.io/warn is "baseline", not the enforced "restricted"`},
		{"an unprotected cluster", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			find(t, rs, "infomaniak:kaas:Cluster", "").Protect = false
			return rs
		}, "stateful-protected", "infomaniak:kaas:Cluster cluster: is stateful but not protected"},
		{"an unprotected Longhorn", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			find(t, rs, "kubernetes:helm.sh/v3:Release", "longhorn").Protect = false
			return rs
		}, "stateful-protected", "kubernetes:helm.sh/v3:Release longhorn: is stateful but not protected"},
		{"a plain Secret", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			set(find(t, rs, "kubernetes:core/v1:Secret", "uat-pull-secret"), "stringData",
				obj(map[string]any{".dockerconfigjson": `{"auths":{}}`}))
			return rs
		}, "no-plaintext-secrets", "stringData..dockerconfigjson is not a secret"},
		{"a user bound to cluster-admin", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			return append(rs, &recorder.Resource{Type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", Name: "ops", Custom: true,
				Inputs: resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"name": "ops-admin"},
					"roleRef": map[string]any{"name": "cluster-admin"}, "subjects": []any{map[string]any{"kind": "User", "name": "bob"}}})})
		}, "break-glass-only", "binds cluster-admin; only camps-break-glass may"},
		{"a service account in the break-glass binding", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			return append(rs, &recorder.Resource{Type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", Name: "bg", Custom: true,
				Inputs: resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"name": "camps-break-glass"},
					"roleRef": map[string]any{"name": "cluster-admin"}, "subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "ci"}}})})
		}, "break-glass-only", "subjects[0] is a ServiceAccount"},
		{"a namespace without a default deny", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			return without(rs, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "cert-manager-default-deny")
		}, "namespaces-default-deny", `namespace "cert-manager" has no NetworkPolicy default-deny`},
		{"a default deny that allows", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			deny := find(t, rs, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "uat-default-deny")
			set(deny, "spec", obj(map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"},
				"ingress": []any{map[string]any{}}}))
			return rs
		}, "namespaces-default-deny", `namespace "uat" has no NetworkPolicy default-deny`},
		{"a default deny of some pods", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			deny := find(t, rs, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "longhorn-default-deny")
			set(deny, "spec", obj(map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "x"}},
				"policyTypes": []any{"Ingress", "Egress"}}))
			return rs
		}, "namespaces-default-deny", `namespace "longhorn-system" has no NetworkPolicy default-deny`},
		{"a plain kubeconfig", func(t *testing.T, rs []*recorder.Resource) []*recorder.Resource {
			set(find(t, rs, "pulumi:providers:kubernetes", "cluster"), "kubeconfig", resource.NewProperty("apiVersion: v1"))
			return rs
		}, "no-plaintext-secrets", "kubeconfig holds a credential in plain text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(t, plans[0])
			p.Resources = tt.seed(t, p.Resources)
			vs := policy.Check(p)
			if len(vs) == 0 {
				t.Fatal("the seeded violation passed")
			}
			found := false
			for _, v := range vs {
				found = found || (v.Policy == tt.policy && strings.Contains(v.String(), tt.want))
			}
			if !found {
				t.Errorf("violations %v lack [%s] %q", vs, tt.policy, tt.want)
			}
		})
	}
}

// TestUnprotectedOpenBaoFails: OpenBao's volumes hold every secret; its
// release (prod's phase 2) must be protected.
func TestUnprotectedOpenBaoFails(t *testing.T) {
	p := plan(t, plans[3])
	find(t, p.Resources, "kubernetes:helm.sh/v3:Release", "openbao").Protect = false
	for _, v := range policy.Check(p) {
		if v.Policy == "stateful-protected" && strings.Contains(v.Resource, "openbao") {
			return
		}
	}
	t.Error("an unprotected OpenBao release passed")
}

// TestConsumersGetNoClusterCredential seeds a cluster-wide credential into
// the consumers' outputs of uat's plan, or widens its deployer account.
func TestConsumersGetNoClusterCredential(t *testing.T) {
	kubeconfig := func(user string) resource.PropertyValue {
		return resource.MakeSecret(resource.NewProperty(resource.NewPropertyMapFromMap(map[string]any{"uat": "apiVersion: v1\n" +
			"clusters: [{name: c, cluster: {server: https://c:6443}}]\nusers: [{name: u, user: " + user + "}]\n"})))
	}
	subject := map[string]any{"kind": "ServiceAccount", "name": "deployer", "namespace": "uat"}
	tests := []struct {
		name string
		seed func(t *testing.T, p *policy.Plan)
		want string
	}{
		{"the admin kubeconfig", func(t *testing.T, p *policy.Plan) {
			p.Outputs["deployerKubeconfigs"] = kubeconfig("{token: test-token}")
		}, `output deployerKubeconfigs.uat: user "u" holds a token of no ServiceAccount of this plan`},
		{"a client certificate", func(t *testing.T, p *policy.Plan) {
			p.Outputs["deployerKubeconfigs"] = kubeconfig("{client-certificate-data: Y2VydA==, client-key-data: a2V5}")
		}, `authenticates with [client-certificate-data client-key-data], not a ServiceAccount token`},
		{"a cluster entry with a proxy password", func(t *testing.T, p *policy.Plan) {
			p.Outputs["oidcKubeconfig"] = resource.NewProperty("clusters: [{name: c, cluster: {server: https://c, proxy-url: 'http://u:s3cr3t@proxy'}}]")
		}, `output oidcKubeconfig: cluster "c" carries proxy-url, which may hold a credential`},
		{"a sign-in with an environment", func(t *testing.T, p *policy.Plan) {
			p.Outputs["oidcKubeconfig"] = resource.NewProperty("users: [{name: u, user: {exec: {command: kubectl, env: [{name: TOKEN, value: s3cr3t}]}}}]")
		}, `output oidcKubeconfig: user "u" signs in with an environment, which may carry a credential`},
		{"a sign-in with a client secret", func(t *testing.T, p *policy.Plan) {
			p.Outputs["oidcKubeconfig"] = resource.NewProperty("users: [{name: u, user: {exec: {command: kubectl, args: [oidc-login, --oidc-client-secret=s3cr3t]}}}]")
		}, `user "u" signs in with a secret argument`},
		{"the deployer bound cluster-wide", func(t *testing.T, p *policy.Plan) {
			p.Resources = append(p.Resources, &recorder.Resource{Type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", Name: "ci", Custom: true,
				Inputs: resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"name": "ci-view"},
					"roleRef": map[string]any{"kind": "ClusterRole", "name": "view"}, "subjects": []any{subject}})})
		}, `user "uat-deployer" is ServiceAccount uat/deployer, bound cluster-wide by ClusterRoleBinding ci-view`},
		{"the deployer bound to a ClusterRole", func(t *testing.T, p *policy.Plan) {
			p.Resources = append(p.Resources, &recorder.Resource{Type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", Name: "ci", Custom: true,
				Inputs: resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"name": "ci-admin", "namespace": "uat"},
					"roleRef": map[string]any{"kind": "ClusterRole", "name": "admin"}, "subjects": []any{subject}})})
		}, `bound to ClusterRole admin by RoleBinding ci-admin`},
		{"a deployer Role that grants RBAC", func(t *testing.T, p *policy.Plan) {
			role := find(t, p.Resources, "kubernetes:rbac.authorization.k8s.io/v1:Role", "uat-deployer")
			rules := append(role.Inputs["rules"].ArrayValue(), resource.NewProperty(resource.NewPropertyMapFromMap(map[string]any{
				"apiGroups": []any{"rbac.authorization.k8s.io"}, "resources": []any{"rolebindings"}, "verbs": []any{"create"}})))
			set(role, "rules", resource.NewProperty(rules))
		}, `whose Role deployer grants RBAC`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(t, plans[0])
			tt.seed(t, &p)
			var got []string
			for _, v := range policy.Check(p) {
				if v.Policy == "consumers-scoped" {
					got = append(got, v.String())
				}
			}
			if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("consumers-scoped violations %v lack %q", got, tt.want)
			}
		})
	}
}
