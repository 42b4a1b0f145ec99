package stacks_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/infra/infomaniak"
	"gitlab.com/camps-ch/infra/internal/policy"
	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

const (
	typeNamespace   = "kubernetes:core/v1:Namespace"
	typeK8sProvider = "pulumi:providers:kubernetes"
	typeStackRef    = "pulumi:pulumi:StackReference"
)

func mustRun(t *testing.T, opts stackrun.Options) *stackrun.Result {
	t.Helper()
	res, err := run(t, opts)
	if err != nil {
		t.Fatalf("stack %s: %v", opts.Stack, err)
	}
	return res
}

func find(t *testing.T, res *stackrun.Result, typ, name string) *recorder.Resource {
	t.Helper()
	r, ok := res.Recorder.Find(typ, name)
	if !ok {
		t.Fatalf("stack %s has no %s %q", res.Stack, typ, name)
	}
	return r
}

func output(t *testing.T, res *stackrun.Result, name string) (any, bool) {
	t.Helper()
	v, ok := res.Outputs[resource.PropertyKey(name)]
	if !ok {
		t.Fatalf("stack %s exports no %s", res.Stack, name)
	}
	secret := v.IsSecret()
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v.Mappable(), secret
}

func wantOutput(t *testing.T, res *stackrun.Result, name string, want any) {
	t.Helper()
	if got, _ := output(t, res, name); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stack %s: output %s = %v, want %v", res.Stack, name, got, want)
	}
}

func number(t *testing.T, r *recorder.Resource, path string) int {
	t.Helper()
	v, ok := r.Input(path)
	if !ok || !v.IsNumber() {
		t.Fatalf("%s %s: %s is not a number", r.Type, r.Name, path)
	}
	return int(v.NumberValue())
}

func TestUatCreatesTheSharedCluster(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat"})
	kaas := find(t, res, infomaniak.ClusterType, "cluster")
	for _, m := range kaas.Mismatches(map[string]string{
		"name": "camps-shared", "region": "dc4-a", "packName": "shared", "kubernetesVersion": "1.35",
	}) {
		t.Error("cluster " + m)
	}
	pools := res.Recorder.OfType(infomaniak.InstancePoolType)
	if len(pools) != 1 {
		t.Fatalf("%d pools, want 1", len(pools))
	}
	pool := pools[0]
	if pool.String("availabilityZone") != "az-1" || number(t, pool, "minInstances") != 1 || number(t, pool, "maxInstances") != 1 {
		t.Errorf("pool = %v, want one node in az-1", pool.Inputs)
	}
	if !slices.Contains(pool.Dependencies, kaas.URN) {
		t.Errorf("pool does not depend on the cluster: %v", pool.Dependencies)
	}
	api := find(t, res, infomaniak.ProviderType, "cluster")
	for _, r := range []*recorder.Resource{kaas, pool} {
		if r.ProviderURN() != api.URN {
			t.Errorf("%s uses provider %q, want the explicit infomaniak provider", r.Name, r.Provider)
		}
	}
	k8s := find(t, res, typeK8sProvider, "cluster")
	if k8s.String("clusterIdentifier") != "camps-shared" {
		t.Errorf("kubernetes provider clusterIdentifier = %q, want camps-shared", k8s.String("clusterIdentifier"))
	}
	if !slices.Contains(k8s.Dependencies, pool.URN) {
		t.Errorf("kubernetes provider does not wait for the pool: %v", k8s.Dependencies)
	}
	if len(res.Recorder.OfType(typeStackRef)) != 0 {
		t.Error("uat references another stack")
	}
	find(t, res, typeNamespace, "uat")
	wantOutput(t, res, "clusterMode", "create")
	wantOutput(t, res, "clusterOwner", "organization/camps-infra/uat")
	wantOutput(t, res, "platformInstalled", true)
	wantOutput(t, res, "namespaces", []any{"uat"})
	// People get a kubeconfig that signs them in with GitLab.
	people, secret := output(t, res, "oidcKubeconfig")
	for _, want := range []string{"server: https://camps-shared.kaas.invalid:6443", "command: kubectl",
		"- oidc-login", "- --oidc-issuer-url=https://gitlab.com", "- --oidc-client-id=test-gitlab-application-id"} {
		if !strings.Contains(fmt.Sprint(people), want) || secret {
			t.Errorf("uat's oidcKubeconfig (secret %v) lacks %q:\n%s", secret, want, people)
		}
	}
	// Its operators (and prod in phase 1) get the cluster's admin kubeconfig.
	if got, secret := output(t, res, "adminKubeconfig"); got != stackrun.TestKubeconfig("camps-shared") || !secret {
		t.Errorf("uat exports adminKubeconfig %q (secret %v), want the cluster's, secret", got, secret)
	}
}

func TestProdPhase1AttachesToUat(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod"})
	ref := find(t, res, typeStackRef, "organization/camps-infra/uat")
	if !ref.Read {
		t.Error("the stack reference is not a read")
	}
	if n := len(res.Recorder.OfType(infomaniak.ClusterType)) + len(res.Recorder.OfType(infomaniak.InstancePoolType)); n != 0 {
		t.Errorf("prod phase 1 declares %d KaaS resources, want 0", n)
	}
	k8s := find(t, res, typeK8sProvider, "cluster")
	if got := k8s.String("kubeconfig"); got != stackrun.TestKubeconfig("camps-shared") {
		t.Errorf("prod's kubeconfig is not uat's:\n%s", got)
	}
	if !k8s.IsSecret("kubeconfig") {
		t.Error("prod's kubeconfig is not secret")
	}
	if k8s.String("clusterIdentifier") != "camps-shared" {
		t.Errorf("clusterIdentifier = %q, want uat's camps-shared", k8s.String("clusterIdentifier"))
	}
	if !slices.Contains(k8s.Dependencies, ref.URN) {
		t.Errorf("kubernetes provider does not come from the stack reference: %v", k8s.Dependencies)
	}
	find(t, res, typeNamespace, "production")
	wantOutput(t, res, "clusterMode", "attach")
	wantOutput(t, res, "clusterName", "camps-shared")
	wantOutput(t, res, "clusterOwner", "organization/camps-infra/uat")
	wantOutput(t, res, "platformInstalled", false)
	// uat's credentials deploy prod, but prod passes none of them on.
	for _, name := range []string{"adminKubeconfig", "grafanaAdminPassword"} {
		if got, secret := output(t, res, name); got != "" || !secret {
			t.Errorf("prod exports %s %q (secret %v), want an empty secret: it is uat's", name, got, secret)
		}
	}
	wantOutput(t, res, "oidcKubeconfig", "") // people use uat's
	deployers, _ := output(t, res, "deployerKubeconfigs")
	if m, _ := deployers.(map[string]any); len(m) != 1 || m["production"] == nil {
		t.Errorf("prod's deployer kubeconfigs are for %v, want production only", deployers)
	}
}

func TestProdPhase2CreatesItsHACluster(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	if n := len(res.Recorder.OfType(typeStackRef)); n != 0 {
		t.Errorf("prod phase 2 still references %d stacks", n)
	}
	kaas := find(t, res, infomaniak.ClusterType, "cluster")
	if kaas.String("name") != "camps-prod" {
		t.Errorf("cluster name = %q, want camps-prod", kaas.String("name"))
	}
	var zones []string
	for _, p := range res.Recorder.OfType(infomaniak.InstancePoolType) {
		zones = append(zones, p.String("availabilityZone"))
		if min, max := number(t, p, "minInstances"), number(t, p, "maxInstances"); min != 1 || max != 3 {
			t.Errorf("pool %s scales %d..%d, want 1..3", p.Name, min, max)
		}
	}
	slices.Sort(zones)
	if !slices.Equal(zones, []string{"az-1", "az-2", "az-3"}) {
		t.Errorf("pools in zones %v, want az-1..az-3", zones)
	}
	wantOutput(t, res, "phase", 2)
	wantOutput(t, res, "clusterMode", "create")
	wantOutput(t, res, "platformInstalled", true)
}

func TestExplicitValuesOverridePresets(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{
		key("phase"):    "2",
		key("cluster"):  `{"pools":[{"zone":"az-2","maxInstances":5}]}`,
		key("platform"): `{"install":false}`,
		key("edge"):     `{}`, // no ingress, so no records pointing at it
	}})
	pools := res.Recorder.OfType(infomaniak.InstancePoolType)
	if len(pools) != 1 {
		t.Fatalf("%d pools, want the 1 configured", len(pools))
	}
	p := pools[0]
	if p.String("name") != "pool-az-2" || p.String("flavor") != "a4-ram8-disk50-perf1" ||
		number(t, p, "minInstances") != 1 || number(t, p, "maxInstances") != 5 {
		t.Errorf("pool = %v, want pool-az-2 with the preset flavor and min, max 5", p.Inputs)
	}
	wantOutput(t, res, "platformInstalled", false)
}

func TestAttachWithKubeconfigFromConfig(t *testing.T) {
	const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: [{name: kind, cluster: {server: https://127.0.0.1:6443}}]\n"
	res := mustRun(t, stackrun.Options{
		Stack:   "uat",
		Set:     map[string]string{key("cluster"): `{"name":"kind"}`, key("edge"): `{}`},
		Secrets: withOperatorValues(map[string]string{key("kubeconfig"): kubeconfig}),
	})
	k8s := find(t, res, typeK8sProvider, "cluster")
	if k8s.String("kubeconfig") != kubeconfig || !k8s.IsSecret("kubeconfig") {
		t.Errorf("provider kubeconfig = %q (secret %v), want the configured one, secret", k8s.String("kubeconfig"), k8s.IsSecret("kubeconfig"))
	}
	if n := len(res.Recorder.OfType(infomaniak.ClusterType)) + len(res.Recorder.OfType(typeStackRef)); n != 0 {
		t.Errorf("%d KaaS clusters or stack references, want none", n)
	}
	wantOutput(t, res, "clusterMode", "attach")
	wantOutput(t, res, "clusterName", "kind")
	wantOutput(t, res, "clusterOwner", "")
	wantOutput(t, res, "platformInstalled", true)
}

// withOperatorValues adds the operator secrets' stand-ins to extra.
func withOperatorValues(extra map[string]string) map[string]string {
	s := stackrun.OperatorValues()
	for k, v := range extra {
		s[k] = v
	}
	return s
}

// variants are every stack and phase, plus the kubeconfig attach mode.
func variants() []stackrun.Options {
	return []stackrun.Options{
		{Stack: "uat"},
		{Stack: "uat", Set: map[string]string{key("phase"): "2"}},
		{Stack: "prod"},
		{Stack: "prod", Set: map[string]string{key("phase"): "2"}},
		{Stack: "prod", Set: map[string]string{key("cluster"): `{"mode":"attach"}`, key("edge"): `{}`},
			Secrets: withOperatorValues(map[string]string{
				key("kubeconfig"): "apiVersion: v1\nkind: Config\nclusters: [{name: dev, cluster: {server: https://127.0.0.1:6443}}]\n" +
					"users: [{name: dev, user: {token: kind-dev-token}}]\ncontexts: [{name: dev, context: {cluster: dev, user: dev}}]\ncurrent-context: dev\n",
				key("infomaniakToken"): "test-infomaniak-token",
			})},
		{Stack: "uat", Secrets: withOperatorValues(map[string]string{
			key("infomaniakToken"):       "test-infomaniak-token",
			key("cloudflareApiToken"):    "test-cloudflare-api-token",
			key("alertmanagerReceivers"): "- name: team\n  webhook_configs: [{url: 'https://chat.example/hook/s3cr3t-path'}]\n",
		})},
	}
}

// podSecurity is the Pod Security level of each platform namespace: the
// strictest its chart runs under (see infra/platform).
var podSecurity = map[string]string{
	"ingress-nginx":   "restricted",
	"cert-manager":    "restricted",
	"longhorn-system": "privileged",
	"monitoring":      "privileged",
}

// TestInvariants checks every resource of every stack and phase.
func TestInvariants(t *testing.T) {
	for _, opts := range variants() {
		t.Run(fmt.Sprintf("%s %v", opts.Stack, opts.Set), func(t *testing.T) {
			res := mustRun(t, opts)
			needles := []string{"kaas.invalid"} // in every test kubeconfig of a created cluster
			for _, k := range res.SecretKeys {
				if v := res.Config[k]; len(v) >= 8 {
					needles = append(needles, v, base64.StdEncoding.EncodeToString([]byte(v)))
				}
			}
			for _, r := range res.Recorder.Resources() {
				what := r.Type + " " + r.Name
				if r.Custom && !r.Read && !r.IsProvider() && r.Provider == "" {
					t.Errorf("%s is on the ambient default provider", what)
				}
				if r.Custom && !r.Read {
					parent, ok := res.Recorder.ByURN(r.Parent)
					if !ok || parent.Custom {
						t.Errorf("%s is not parented to a component", what)
					}
				}
				if !r.Custom && !strings.HasPrefix(r.Type, "camps:") {
					t.Errorf("component %s has a type token outside camps:", what)
				}
				if slices.Contains(policy.StatefulTypes, r.Type) && !r.Protect {
					t.Errorf("stateful %s is not protected", what)
				}
				if r.Type == typeNamespace {
					want, ok := podSecurity[r.String("metadata.name")]
					if !ok {
						want = "restricted" // every application namespace
					}
					for _, mode := range []string{"enforce", "audit", "warn"} {
						label := fmt.Sprintf(`metadata.labels["pod-security.kubernetes.io/%s"]`, mode)
						if lvl := r.String(label); lvl != want {
							t.Errorf("%s: %s = %q, want %q", what, label, lvl, want)
						}
					}
				}
				checkSecretLeaves(t, r, needles)
			}
			for _, f := range contract.Fields() {
				if v := res.Outputs[resource.PropertyKey(f.Name)]; f.Secret && !v.IsSecret() {
					t.Errorf("output %s is not secret", f.Name)
				}
			}
		})
	}
}

// checkSecretLeaves fails for every input that carries a secret value
// without being secret.
func checkSecretLeaves(t *testing.T, r *recorder.Resource, needles []string) {
	t.Helper()
	var walk func(path string, v resource.PropertyValue)
	walk = func(path string, v resource.PropertyValue) {
		switch {
		case v.IsSecret():
			return
		case v.IsObject():
			for k, e := range v.ObjectValue() {
				walk(path+"."+string(k), e)
			}
		case v.IsArray():
			for i, e := range v.ArrayValue() {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case v.IsString():
			for _, n := range needles {
				if strings.Contains(v.StringValue(), n) {
					t.Errorf("%s %s: input %s carries a secret in plain text", r.Type, r.Name, strings.TrimPrefix(path, "."))
				}
			}
		}
	}
	walk("", resource.NewProperty(r.Inputs))
}
