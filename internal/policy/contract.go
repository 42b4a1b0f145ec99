package policy

import (
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/infra/kubeconfig"
	"gitlab.com/camps-ch/infra/internal/recorder"
)

const (
	roleType               = "kubernetes:rbac.authorization.k8s.io/v1:Role"
	roleBindingType        = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	clusterRoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
	serviceAccountToken    = "kubernetes.io/service-account-token"
)

// consumersScoped checks every kubeconfig in the consumers' outputs: each
// user must sign in through an exec plugin without a credential of its
// own (a person's OIDC sign-in), or authenticate with the token of a
// ServiceAccount token Secret of the plan, and that account must be bound
// only in its own namespace, to a Role of the plan that grants no RBAC
// and no wildcard. An admin kubeconfig (a client certificate, the
// cluster's token) fails.
func consumersScoped(p Plan) []Violation {
	accounts := accountTokens(p.Resources)
	var out []Violation
	for _, f := range contract.Fields() {
		v, ok := p.Outputs[resource.PropertyKey(f.Name)]
		if !ok || f.Audience != contract.Consumers {
			continue
		}
		eachString(f.Name, v, func(path, s string) {
			for _, msg := range scopedUsers(s, accounts, p.Resources) {
				out = append(out, Violation{Policy: "consumers-scoped", Resource: "output " + path, Message: msg})
			}
		})
	}
	return out
}

// account is a ServiceAccount by namespace and name.
type account struct{ namespace, name string }

func (a account) String() string { return a.namespace + "/" + a.name }

// accountTokens maps the tokens the token controller writes into the
// plan's ServiceAccount token Secrets (as the plan computes them) to their
// accounts.
func accountTokens(rs []*recorder.Resource) map[string]account {
	tokens := map[string]account{}
	for _, r := range rs {
		if r.Type != secretType || r.String("type") != serviceAccountToken {
			continue
		}
		data := r.Computed["data"]
		for data.IsSecret() {
			data = data.SecretValue().Element
		}
		if !data.IsObject() || !data.ObjectValue()["token"].IsString() {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(data.ObjectValue()["token"].StringValue())
		if err != nil {
			continue
		}
		tokens[string(b)] = account{r.String("metadata.namespace"), r.String(`metadata.annotations["kubernetes.io/service-account.name"]`)}
	}
	return tokens
}

// eachString calls f for every string under v, secrets revealed.
func eachString(path string, v resource.PropertyValue, f func(path, s string)) {
	switch {
	case v.IsSecret():
		eachString(path, v.SecretValue().Element, f)
	case v.IsObject():
		for k, e := range v.ObjectValue() {
			eachString(path+"."+string(k), e, f)
		}
	case v.IsArray():
		for i, e := range v.ArrayValue() {
			eachString(fmt.Sprintf("%s[%d]", path, i), e, f)
		}
	case v.IsString():
		f(path, v.StringValue())
	}
}

// scopedUsers returns what is wrong with the users (and the clusters) of
// s, if s is a kubeconfig: a cluster entry carries only
// kubeconfig.ClusterFields.
func scopedUsers(s string, accounts map[string]account, rs []*recorder.Resource) []string {
	var kc struct {
		Clusters []struct {
			Name    string         `yaml:"name"`
			Cluster map[string]any `yaml:"cluster"`
		} `yaml:"clusters"`
		Users []struct {
			Name string         `yaml:"name"`
			User map[string]any `yaml:"user"`
		} `yaml:"users"`
	}
	if yaml.Unmarshal([]byte(s), &kc) != nil || len(kc.Users)+len(kc.Clusters) == 0 {
		return nil
	}
	var out []string
	for _, c := range kc.Clusters {
		for field := range c.Cluster {
			if !slices.Contains(kubeconfig.ClusterFields, field) {
				out = append(out, fmt.Sprintf("cluster %q carries %s, which may hold a credential", c.Name, field))
			}
		}
	}
	for _, u := range kc.Users {
		if _, ok := u.User["exec"]; ok && len(u.User) == 1 {
			out = append(out, signInOnly(u.Name, u.User["exec"])...)
			continue
		}
		token, _ := u.User["token"].(string)
		if len(u.User) != 1 || token == "" {
			keys := make([]string, 0, len(u.User))
			for k := range u.User {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out = append(out, fmt.Sprintf("user %q authenticates with %v, not a ServiceAccount token", u.Name, keys))
			continue
		}
		sa, ok := accounts[token]
		if !ok {
			out = append(out, fmt.Sprintf("user %q holds a token of no ServiceAccount of this plan: an admin or foreign credential", u.Name))
			continue
		}
		for _, msg := range bindingsOf(sa, rs) {
			out = append(out, fmt.Sprintf("user %q is ServiceAccount %s, %s", u.Name, sa, msg))
		}
	}
	return out
}

// signInOnly returns what is wrong with a user who signs in through an
// exec plugin: an environment or an argument that may carry a credential.
func signInOnly(user string, exec any) []string {
	e, _ := exec.(map[string]any)
	if _, ok := e["env"]; ok {
		return []string{fmt.Sprintf("user %q signs in with an environment, which may carry a credential", user)}
	}
	args, _ := e["args"].([]any)
	for _, a := range args {
		if s := fmt.Sprint(a); strings.Contains(strings.ToLower(s), "secret") || strings.Contains(strings.ToLower(s), "password") {
			return []string{fmt.Sprintf("user %q signs in with a secret argument", user)}
		}
	}
	return nil
}

// bindingsOf returns what is wrong with the bindings of sa: a binding
// outside its namespace, a ClusterRoleBinding, a ClusterRole, a Role that
// is not in the plan or grants RBAC or a wildcard.
func bindingsOf(sa account, rs []*recorder.Resource) []string {
	var out []string
	for _, r := range rs {
		if (r.Type != roleBindingType && r.Type != clusterRoleBindingType) || !hasSubject(r, sa) {
			continue
		}
		name := r.String("metadata.name")
		switch {
		case r.Type == clusterRoleBindingType:
			out = append(out, fmt.Sprintf("bound cluster-wide by ClusterRoleBinding %s", name))
		case r.String("metadata.namespace") != sa.namespace:
			out = append(out, fmt.Sprintf("bound in namespace %s by RoleBinding %s", r.String("metadata.namespace"), name))
		case r.String("roleRef.kind") != "Role":
			out = append(out, fmt.Sprintf("bound to %s %s by RoleBinding %s", r.String("roleRef.kind"), r.String("roleRef.name"), name))
		default:
			out = append(out, roleGrants(sa.namespace, r.String("roleRef.name"), rs)...)
		}
	}
	return out
}

func hasSubject(binding *recorder.Resource, sa account) bool {
	for i := 0; ; i++ {
		at := func(field string) string { return binding.String(fmt.Sprintf("subjects[%d].%s", i, field)) }
		switch {
		case at("kind") == "":
			return false
		case at("kind") == "ServiceAccount" && at("name") == sa.name && at("namespace") == sa.namespace:
			return true
		}
	}
}

// roleGrants returns what is wrong with the Role called name in ns.
func roleGrants(ns, name string, rs []*recorder.Resource) []string {
	for _, r := range rs {
		if r.Type != roleType || r.String("metadata.namespace") != ns || r.String("metadata.name") != name {
			continue
		}
		var out []string
		for i := 0; ; i++ {
			if _, ok := r.Input(fmt.Sprintf("rules[%d]", i)); !ok {
				return out
			}
			list := func(field string) []string {
				var l []string
				for j := 0; ; j++ {
					e, ok := r.Input(fmt.Sprintf("rules[%d].%s[%d]", i, field, j))
					if !ok {
						return l
					}
					if e.IsString() {
						l = append(l, e.StringValue())
					}
				}
			}
			groups, resources, verbs := list("apiGroups"), list("resources"), list("verbs")
			if slices.Contains(groups, "*") || slices.Contains(resources, "*") || slices.Contains(verbs, "*") {
				out = append(out, fmt.Sprintf("whose Role %s grants a wildcard (rules[%d])", name, i))
			}
			if slices.Contains(groups, "rbac.authorization.k8s.io") {
				out = append(out, fmt.Sprintf("whose Role %s grants RBAC (rules[%d]: %s)", name, i, strings.Join(resources, ", ")))
			}
		}
	}
	return []string{fmt.Sprintf("bound to Role %s, which is not in the plan", name)}
}
