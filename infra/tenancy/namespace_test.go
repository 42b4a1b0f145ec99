package tenancy

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

func TestDockerConfigJSON(t *testing.T) {
	s, err := DockerConfigJSON("registry.gitlab.com", "deploy", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Auths["registry.gitlab.com"]
	if a.Username != "deploy" || a.Password != "t0ken" || a.Auth != base64.StdEncoding.EncodeToString([]byte("deploy:t0ken")) {
		t.Errorf("auth = %+v", a)
	}
}

func args(egress ...string) *NamespaceArgs {
	return &NamespaceArgs{
		Quota:            Quota{RequestsCPU: "1", RequestsMemory: "1Gi", LimitsCPU: "2", LimitsMemory: "2Gi", RequestsStorage: "10Gi", Pods: 10, PersistentVolumeClaims: 2},
		Limits:           Limits{DefaultCPU: "500m", DefaultMemory: "512Mi", DefaultRequestCPU: "100m", DefaultRequestMemory: "128Mi", MaxCPU: "1", MaxMemory: "1Gi"},
		IngressNamespace: "ingress-nginx", MonitoringNamespace: "monitoring",
		EgressCIDRs:   egress,
		DeployerGroup: "uat-deployers", DeployerTokenGeneration: 1,
		Registry: Registry{Server: "registry.gitlab.com", Username: "deploy", Token: pulumi.ToSecret(pulumi.String("t0ken")).(pulumi.StringOutput)},
	}
}

func record(t *testing.T, a *NamespaceArgs) (*recorder.Recorder, error) {
	t.Helper()
	rec, _, err := recordToken(t, a)
	return rec, err
}

// recordToken records the namespace, the token controller filling the
// deployer's token Secret, and returns the component's DeployerToken.
func recordToken(t *testing.T, a *NamespaceArgs) (*recorder.Recorder, string, error) {
	t.Helper()
	rec := recorder.New("p", "s", func(r *recorder.Resource) resource.PropertyMap {
		if r.String("type") != "kubernetes.io/service-account-token" {
			return nil
		}
		return resource.PropertyMap{"data": resource.MakeSecret(resource.NewProperty(resource.PropertyMap{
			"token": resource.NewProperty(base64.StdEncoding.EncodeToString([]byte("sa-t0ken"))),
		}))}
	})
	var token string
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		n, err := NewNamespace(ctx, "uat", a)
		if err != nil {
			return err
		}
		n.DeployerToken.ApplyT(func(s string) string { token = s; return s })
		return nil
	}, pulumi.WithMocks("p", "s", rec))
	return rec, token, err
}

func TestDeployerAccount(t *testing.T) {
	a := args()
	a.DeployerTokenGeneration = 3
	rec, token, err := recordToken(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if token != "sa-t0ken" {
		t.Errorf("DeployerToken = %q, want the Secret's token decoded", token)
	}
	secret, ok := rec.Find("kubernetes:core/v1:Secret", "uat-deployer-token-3")
	if !ok || secret.String("metadata.name") != "deployer-token-3" ||
		secret.String(`metadata.annotations["kubernetes.io/service-account.name"]`) != DeployerName {
		t.Fatalf("no token Secret deployer-token-3 of the deployer account")
	}
	sa, _ := rec.Find("kubernetes:core/v1:ServiceAccount", "uat-deployer")
	if sa.String(`metadata.annotations["`+TokenGenerationAnnotation+`"]`) != "3" ||
		!slices.Contains(sa.ReplaceOnChanges, "metadata.annotations") || !sa.DeleteBeforeReplace {
		t.Errorf("the ServiceAccount %v is not replaced (deleted first) with a new generation: %v, %v", sa.Inputs, sa.ReplaceOnChanges, sa.DeleteBeforeReplace)
	}
	binding, _ := rec.Find("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "uat-deployer")
	if binding.String("subjects[1].kind") != "ServiceAccount" || binding.String("subjects[1].name") != DeployerName ||
		binding.String("roleRef.kind") != "Role" || binding.String("roleRef.name") != DeployerName {
		t.Errorf("binding = %v, want the deployer group and ServiceAccount on the Role deployer", binding.Inputs)
	}
	a.DeployerTokenGeneration = 0
	if _, _, err := recordToken(t, a); err == nil || !strings.Contains(err.Error(), "generation is 0") {
		t.Errorf("generation 0: err = %v", err)
	}
}

func TestNamespaceGuardRails(t *testing.T) {
	rec, err := record(t, args())
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := rec.Find("kubernetes:core/v1:Namespace", "uat")
	if ns.String(`metadata.labels["pod-security.kubernetes.io/enforce"]`) != "restricted" || !ns.Protect {
		t.Errorf("namespace = %v protect=%v", ns.Inputs, ns.Protect)
	}
	var policies []string
	for _, p := range rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		policies = append(policies, p.String("metadata.name"))
	}
	slices.Sort(policies)
	if got, want := strings.Join(policies, ","), "allow-dns,allow-from-ingress,allow-from-monitoring,allow-same-namespace,default-deny"; got != want {
		t.Errorf("policies = %s, want %s", got, want)
	}
	for name, path := range map[string]string{
		"uat-allow-from-ingress":    `spec.ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]`,
		"uat-allow-from-monitoring": `spec.ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]`,
		"uat-allow-dns":             `spec.egress[0].to[0].podSelector.matchLabels["k8s-app"]`,
	} {
		p, _ := rec.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", name)
		want := map[string]string{"uat-allow-from-ingress": "ingress-nginx", "uat-allow-from-monitoring": "monitoring", "uat-allow-dns": "kube-dns"}[name]
		if got := p.String(path); got != want {
			t.Errorf("%s: %s = %q, want %q", name, path, got, want)
		}
	}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		if lvl := ns.String(`metadata.labels["pod-security.kubernetes.io/` + mode + `"]`); lvl != "restricted" {
			t.Errorf("pod security %s = %q, want restricted", mode, lvl)
		}
	}
	quota, _ := rec.Find("kubernetes:core/v1:ResourceQuota", "uat-quota")
	if quota.String(`spec.hard["requests.cpu"]`) != "1" || quota.String("spec.hard.pods") != "10" {
		t.Errorf("quota = %v", quota.Inputs)
	}
	binding, _ := rec.Find("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "uat-deployer")
	if binding.String("subjects[0].name") != "uat-deployers" || binding.String("subjects[0].kind") != "Group" {
		t.Errorf("binding = %v", binding.Inputs)
	}
	secret, _ := rec.Find("kubernetes:core/v1:Secret", "uat-pull-secret")
	if !secret.IsSecret(`stringData[".dockerconfigjson"]`) || !strings.Contains(secret.String(`stringData[".dockerconfigjson"]`), "t0ken") {
		t.Errorf("pull secret = %v", secret.Inputs)
	}
	role, _ := rec.Find("kubernetes:rbac.authorization.k8s.io/v1:Role", "uat-deployer")
	for _, r := range role.Inputs["rules"].ArrayValue() {
		for _, res := range r.ObjectValue()["resources"].ArrayValue() {
			if s := res.StringValue(); s == "pods/exec" || strings.HasPrefix(s, "role") {
				t.Errorf("deployer may %s", s)
			}
		}
	}
}

func TestEgressCIDRsGetTheirPolicy(t *testing.T) {
	rec, err := record(t, args("10.0.0.0/8"))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := rec.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "uat-allow-egress-cidrs")
	if !ok || p.String("spec.egress[0].to[0].ipBlock.cidr") != "10.0.0.0/8" {
		t.Errorf("egress policy missing or wrong: %v", p)
	}
}

func TestNamespaceArgsRequired(t *testing.T) {
	a := args()
	a.DeployerGroup = ""
	rec, err := record(t, a)
	if err == nil || !strings.Contains(err.Error(), `namespace "uat": a deployer group is required`) || rec.Len() != 0 {
		t.Errorf("err = %v, %d resources", err, rec.Len())
	}
}
