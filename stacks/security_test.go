package stacks_test

import (
	"fmt"
	"slices"
	"testing"

	"gitlab.com/camps-ch/infra/infra/infomaniak"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

const secured = `{"oidc":{"issuerUrl":"https://id.camps.ch/realms/camps","clientId":"camps-prod"},
  "groups":{"platformAdmins":"oidc:platform-admins","auditors":"oidc:auditors","breakGlass":"oidc:break-glass"}}`

// TestOIDCAndRoles: prod's phase 2 cluster takes OIDC, and the groups are
// bound: platform admins to their role, auditors to view, break-glass
// alone to cluster-admin.
func TestOIDCAndRoles(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2", key("security"): secured}})
	kaas := find(t, res, infomaniak.ClusterType, "cluster")
	for path, want := range map[string]string{
		"apiServer.oidc.issuerUrl": "https://id.camps.ch/realms/camps", "apiServer.oidc.clientId": "camps-prod",
		"apiServer.oidc.usernameClaim": "email", "apiServer.oidc.groupsClaim": "groups",
		"apiServer.oidc.usernamePrefix": "oidc:", "apiServer.oidc.groupsPrefix": "oidc:",
	} {
		if got := kaas.String(path); got != want {
			t.Errorf("cluster %s = %q, want %q", path, got, want)
		}
	}
	bindings := map[string][2]string{}
	for _, b := range res.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding") {
		bindings[b.String("metadata.name")] = [2]string{b.String("roleRef.name"), b.String("subjects[0].name")}
	}
	want := map[string][2]string{
		"camps-platform-admins": {"camps-platform-admin", "oidc:platform-admins"},
		"camps-auditors":        {"view", "oidc:auditors"},
		"camps-break-glass":     {"cluster-admin", "oidc:break-glass"},
	}
	for name, w := range want {
		if bindings[name] != w {
			t.Errorf("binding %s = %v, want %v", name, bindings[name], w)
		}
	}
	role, ok := res.Recorder.Find("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "access-control-platform-admin")
	if !ok {
		t.Fatal("no platform admin role")
	}
	v, _ := role.Input("rules[0].verbs")
	var verbs []string
	for _, e := range v.ArrayValue() {
		verbs = append(verbs, e.StringValue())
	}
	for _, forbidden := range []string{"impersonate", "escalate", "bind", "*"} {
		if slices.Contains(verbs, forbidden) {
			t.Errorf("platform admins may %s", forbidden)
		}
	}
	// Phase 1 and stacks without groups bind nothing.
	plain := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	if n := len(plain.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")); n != 0 {
		t.Errorf("%d cluster role bindings without configured groups", n)
	}
	if _, ok := find(t, plain, infomaniak.ClusterType, "cluster").Input("apiServer.oidc"); ok {
		t.Error("OIDC without configuration")
	}
}

// TestExecOnlyInUat: uat's deployers may exec; production's may not.
func TestExecOnlyInUat(t *testing.T) {
	for stack, want := range map[string]bool{"uat": true, "prod": false} {
		res := mustRun(t, stackrun.Options{Stack: stack})
		for _, role := range res.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:Role") {
			exec := false
			for i := 0; ; i++ {
				v, ok := role.Input(fmt.Sprintf("rules[%d].resources", i))
				if !ok {
					break
				}
				for _, r := range v.ArrayValue() {
					exec = exec || r.StringValue() == "pods/exec"
				}
			}
			if exec != want {
				t.Errorf("%s: role %s allows exec: %v, want %v", stack, role.Name, exec, want)
			}
		}
	}
}
