package stacks_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/infra/tenancy"
	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

const (
	typeSecret             = "kubernetes:core/v1:Secret"
	typeServiceAccount     = "kubernetes:core/v1:ServiceAccount"
	typeRoleBinding        = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	typeClusterRoleBinding = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
)

// scopedKubeconfig is what a deployer kubeconfig holds.
type scopedKubeconfig struct {
	Clusters []struct {
		Cluster map[string]any `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		User map[string]any `yaml:"user"`
	} `yaml:"users"`
	Contexts []struct {
		Context struct{ Namespace string } `yaml:"context"`
	} `yaml:"contexts"`
}

// TestDeployerCredentials checks every stack and phase: each application
// namespace's deployer kubeconfig is exported secret, names the cluster's
// server, holds the token of its namespace's deployer ServiceAccount, and
// that account is bound to its namespace's deployer Role and nothing else.
func TestDeployerCredentials(t *testing.T) {
	for _, opts := range variants() {
		t.Run(fmt.Sprintf("%s %v", opts.Stack, opts.Set), func(t *testing.T) {
			res := mustRun(t, opts)
			raw, ok := res.Outputs["deployerKubeconfigs"]
			if !ok || !raw.IsSecret() {
				t.Fatal("deployerKubeconfigs is not exported as a secret")
			}
			kubeconfigs, _ := recorder.Reveal(raw).(map[string]any)
			namespaces, _ := output(t, res, "namespaces")
			if len(kubeconfigs) != len(namespaces.([]any)) {
				t.Errorf("%d deployer kubeconfigs for namespaces %v", len(kubeconfigs), namespaces)
			}
			for _, n := range namespaces.([]any) {
				ns := n.(string)
				var kc scopedKubeconfig
				if err := yaml.Unmarshal([]byte(fmt.Sprint(kubeconfigs[ns])), &kc); err != nil || len(kc.Users) != 1 || len(kc.Clusters) != 1 || len(kc.Contexts) != 1 {
					t.Fatalf("namespace %s: deployer kubeconfig %q (%v)", ns, kubeconfigs[ns], err)
				}
				if server, _ := kc.Clusters[0].Cluster["server"].(string); !strings.HasPrefix(server, "https://") {
					t.Errorf("namespace %s: server %q", ns, server)
				}
				if kc.Contexts[0].Context.Namespace != ns {
					t.Errorf("namespace %s: the context's namespace is %q", ns, kc.Contexts[0].Context.Namespace)
				}
				if len(kc.Users[0].User) != 1 {
					t.Errorf("namespace %s: the user authenticates with %v, want a token only", ns, kc.Users[0].User)
				}
				if got, want := kc.Users[0].User["token"], deployerToken(t, res, ns); got != want {
					t.Errorf("namespace %s: token %v, want the deployer ServiceAccount's %q", ns, got, want)
				}
				checkDeployerBindings(t, res, ns)
			}
			// No consumers' output holds the admin credential.
			for _, f := range contract.Fields() {
				if f.Audience != contract.Consumers {
					continue
				}
				b, _ := json.Marshal(recorder.Reveal(res.Outputs[resource.PropertyKey(f.Name)]))
				for _, admin := range []string{"test-token", "kind-dev-token"} {
					if strings.Contains(string(b), admin) {
						t.Errorf("consumers' output %s holds the admin token", f.Name)
					}
				}
			}
		})
	}
}

// deployerToken is the token the token controller writes (the mocks
// compute it) into namespace ns's deployer token Secret.
func deployerToken(t *testing.T, res *stackrun.Result, ns string) string {
	t.Helper()
	var tokens []string
	for _, r := range res.Recorder.OfType(typeSecret) {
		if r.String("type") != "kubernetes.io/service-account-token" || r.String("metadata.namespace") != ns {
			continue
		}
		if sa := r.String(`metadata.annotations["kubernetes.io/service-account.name"]`); sa != tenancy.DeployerName {
			t.Errorf("namespace %s: token Secret %s is for ServiceAccount %q", ns, r.Name, sa)
		}
		data, _ := recorder.Reveal(r.Computed["data"]).(map[string]any)
		b, err := base64.StdEncoding.DecodeString(fmt.Sprint(data["token"]))
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, string(b))
	}
	if len(tokens) != 1 {
		t.Fatalf("namespace %s: %d ServiceAccount token Secrets, want 1", ns, len(tokens))
	}
	return tokens[0]
}

// checkDeployerBindings: the ServiceAccount deployer of ns exists, mounts
// no token, and is a subject of ns's RoleBinding deployer (of the Role
// deployer) only.
func checkDeployerBindings(t *testing.T, res *stackrun.Result, ns string) {
	t.Helper()
	found := false
	for _, r := range res.Recorder.OfType(typeServiceAccount) {
		if r.String("metadata.namespace") == ns && r.String("metadata.name") == tenancy.DeployerName {
			found = true
			if v, ok := r.Input("automountServiceAccountToken"); !ok || !v.IsBool() || v.BoolValue() {
				t.Errorf("namespace %s: the deployer ServiceAccount mounts its token into pods", ns)
			}
		}
	}
	if !found {
		t.Fatalf("namespace %s has no ServiceAccount deployer", ns)
	}
	var bindings []string
	for _, r := range slices.Concat(res.Recorder.OfType(typeRoleBinding), res.Recorder.OfType(typeClusterRoleBinding)) {
		if bindsDeployer(r, ns) {
			bindings = append(bindings, fmt.Sprintf("%s %s/%s → %s %s", r.Type, r.String("metadata.namespace"), r.String("metadata.name"),
				r.String("roleRef.kind"), r.String("roleRef.name")))
		}
	}
	want := fmt.Sprintf("%s %s/%s → Role %s", typeRoleBinding, ns, tenancy.DeployerName, tenancy.DeployerName)
	if !slices.Equal(bindings, []string{want}) {
		t.Errorf("namespace %s: the deployer ServiceAccount is bound by %v, want only %s", ns, bindings, want)
	}
}

func bindsDeployer(r *recorder.Resource, ns string) bool {
	for i := 0; ; i++ {
		kind := r.String(fmt.Sprintf("subjects[%d].kind", i))
		if kind == "" {
			return false
		}
		if kind == "ServiceAccount" && r.String(fmt.Sprintf("subjects[%d].name", i)) == tenancy.DeployerName &&
			r.String(fmt.Sprintf("subjects[%d].namespace", i)) == ns {
			return true
		}
	}
}

// TestDeployerTokenRotates: a new generation is a new Secret (a new
// token); the old one is deleted by the same up.
func TestDeployerTokenRotates(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat", Set: map[string]string{
		key("namespaces"): `[{"name":"uat","allowExec":true,"deployerTokenGeneration":2}]`,
	}})
	var names []string
	for _, r := range res.Recorder.OfType(typeSecret) {
		if r.String("type") == "kubernetes.io/service-account-token" {
			names = append(names, r.Name+" "+r.String("metadata.name"))
		}
	}
	if !slices.Equal(names, []string{"uat-deployer-token-2 deployer-token-2"}) {
		t.Errorf("token Secrets %v, want uat-deployer-token-2 deployer-token-2", names)
	}
}

// TestAttachToAnAttachedStackFails: a stack that attaches exports no
// admin kubeconfig; attaching to it must fail, not fall back to the
// operator's kube-context.
func TestAttachToAnAttachedStackFails(t *testing.T) {
	_, err := run(t, stackrun.Options{Stack: "uat", Set: map[string]string{
		key("cluster"): `{"mode":"attach","attachStack":"prod"}`, key("platform"): `{"install":false}`, key("edge"): `{}`,
	}})
	want := "cluster.attachStack: stack prod exports no adminKubeconfig: it does not create its cluster; attach to the stack that does (its clusterOwner output)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
