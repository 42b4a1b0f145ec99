package security_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/serializer"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/audit"
	"k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"gitlab.com/camps-ch/infra/infra/security"
)

// loadPolicy decodes the generated policy strictly (an unknown or
// misspelt field fails) into audit.k8s.io/v1, then loads it the way
// kube-apiserver does (validation included).
func loadPolicy(t *testing.T) *auditinternal.Policy {
	t.Helper()
	text, err := security.AuditPolicy()
	if err != nil {
		t.Fatal(err)
	}
	strict := serializer.NewCodecFactory(audit.Scheme, serializer.EnableStrict).UniversalDecoder()
	_, gvk, err := strict.Decode([]byte(text), nil, &auditinternal.Policy{})
	if err != nil {
		t.Fatalf("strict decoding:\n%s\n%v", text, err)
	}
	if gvk.GroupVersion().String() != "audit.k8s.io/v1" || gvk.Kind != "Policy" {
		t.Errorf("decoded as %v", gvk)
	}
	p, err := policy.LoadPolicyFromBytes([]byte(text))
	if err != nil {
		t.Fatalf("kube-apiserver refuses the policy: %v", err)
	}
	return p
}

func TestAuditPolicyDecodesStrictly(t *testing.T) {
	p := loadPolicy(t)
	if len(p.OmitStages) != 1 || p.OmitStages[0] != auditinternal.StageRequestReceived {
		t.Errorf("omitStages = %v", p.OmitStages)
	}
}

// TestAuditLevels evaluates requests against the policy with the API
// server's own rule matcher.
func TestAuditLevels(t *testing.T) {
	eval := policy.NewPolicyRuleEvaluator(loadPolicy(t))
	person := &user.DefaultInfo{Name: "oidc:anna@camps.ch", Groups: []string{"oidc:platform-admins"}}
	controller := &user.DefaultInfo{Name: "system:serviceaccount:longhorn-system:longhorn-service-account"}
	res := func(u user.Info, verb, group, resource, sub, ns string) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: verb, APIGroup: group, Resource: resource, Subresource: sub,
			Namespace: ns, ResourceRequest: true}
	}
	for _, tc := range []struct {
		name  string
		attrs authorizer.AttributesRecord
		want  auditinternal.Level
	}{
		{"reading a Secret", res(person, "get", "", "secrets", "", "production"), auditinternal.LevelMetadata},
		{"a controller listing Secrets", res(controller, "list", "", "secrets", "", ""), auditinternal.LevelMetadata},
		{"changing a ConfigMap", res(person, "update", "", "configmaps", "", "uat"), auditinternal.LevelMetadata},
		{"creating a service account token", res(controller, "create", "", "serviceaccounts", "token", "uat"), auditinternal.LevelMetadata},
		{"binding cluster-admin", res(person, "create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""), auditinternal.LevelRequest},
		{"changing a Role", res(person, "patch", "rbac.authorization.k8s.io", "roles", "", "uat"), auditinternal.LevelRequest},
		{"deleting a namespace", res(person, "delete", "", "namespaces", "", ""), auditinternal.LevelRequest},
		{"reading RBAC", res(person, "list", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""), auditinternal.LevelNone},
		{"a shell into a pod", res(person, "create", "", "pods", "exec", "uat"), auditinternal.LevelMetadata},
		{"a websocket shell (get)", res(person, "get", "", "pods", "exec", "uat"), auditinternal.LevelMetadata},
		{"a port-forward", res(person, "create", "", "pods", "portforward", "production"), auditinternal.LevelMetadata},
		{"watching pods", res(controller, "watch", "", "pods", "", ""), auditinternal.LevelNone},
		{"reading logs", res(person, "get", "", "pods", "log", "uat"), auditinternal.LevelNone},
		{"deploying", res(person, "patch", "apps", "deployments", "", "production"), auditinternal.LevelMetadata},
		{"deleting a volume", res(person, "delete", "", "persistentvolumeclaims", "", "production"), auditinternal.LevelMetadata},
		{"leader election", res(controller, "update", "coordination.k8s.io", "leases", "", "kube-system"), auditinternal.LevelNone},
		{"an event", res(controller, "create", "", "events", "", "uat"), auditinternal.LevelNone},
		{"a health check", authorizer.AttributesRecord{User: controller, Verb: "get", Path: "/readyz"}, auditinternal.LevelNone},
		{"discovery", authorizer.AttributesRecord{User: person, Verb: "get", Path: "/apis/apps/v1"}, auditinternal.LevelNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := eval.EvaluatePolicyRule(tc.attrs).Level; got != tc.want {
				t.Errorf("level %s, want %s", got, tc.want)
			}
		})
	}
}
