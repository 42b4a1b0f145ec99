package infomaniak

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

func TestResourcesRegisterTheirContract(t *testing.T) {
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		p, err := NewProvider(ctx, "api", &ProviderArgs{Token: pulumi.String("tok"), ProjectID: pulumi.Int(42)})
		if err != nil {
			return err
		}
		c, err := NewCluster(ctx, "c", &ClusterArgs{
			Name: pulumi.String("camps"), Region: pulumi.String("dc4-a"), PackName: pulumi.String("shared"),
			KubernetesVersion: pulumi.String("1.35"),
			APIServer: &APIServerArgs{
				IPFilters:          pulumi.ToStringArray([]string{"192.0.2.0/24"}),
				OIDC:               &OIDCArgs{IssuerURL: pulumi.String("https://id.example"), ClientID: pulumi.String("k8s"), CA: pulumi.String("PEM")},
				AuditWebhookConfig: pulumi.String("apiVersion: v1"),
			},
		}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		_, err = NewInstancePool(ctx, "pool", &InstancePoolArgs{
			KaasID: c.KaasID, Name: pulumi.String("pool-az-1"), Flavor: pulumi.String("a4-ram8-disk50-perf1"),
			AvailabilityZone: pulumi.String("az-1"), MinInstances: pulumi.Int(1), MaxInstances: pulumi.Int(3),
			Labels: pulumi.StringMap{"node-role.kubernetes.io/worker": pulumi.String("web")},
		}, pulumi.Provider(p))
		return err
	}, pulumi.WithMocks("p", "s", rec))
	if err != nil {
		t.Fatal(err)
	}
	prov, _ := rec.Find(ProviderType, "api")
	if prov.String("token") != "tok" || !prov.IsSecret("token") {
		t.Errorf("provider token %q secret=%v, want it secret", prov.String("token"), prov.IsSecret("token"))
	}
	if v, ok := prov.Input("projectId"); !ok || v.NumberValue() != 42 {
		t.Errorf("provider projectId = %v", v)
	}
	cluster, _ := rec.Find(ClusterType, "c")
	for _, m := range cluster.Mismatches(map[string]string{
		"name": "camps", "region": "dc4-a", "packName": "shared", "kubernetesVersion": "1.35",
		"apiServer.ipFilters[0]": "192.0.2.0/24", "apiServer.oidc.issuerUrl": "https://id.example", "apiServer.oidc.clientId": "k8s",
	}) {
		t.Error("cluster " + m)
	}
	for _, path := range []string{"apiServer.auditWebhookConfig", "apiServer.oidc.ca"} {
		if !cluster.IsSecret(path) || cluster.String(path) == "" {
			t.Errorf("cluster %s = %q, secret %v; want it set and secret", path, cluster.String(path), cluster.IsSecret(path))
		}
	}
	if cluster.IsSecret("apiServer.oidc.issuerUrl") {
		t.Error("the issuer URL need not be secret")
	}
	if len(cluster.AdditionalSecretOutputs) != 1 || cluster.AdditionalSecretOutputs[0] != "kubeconfig" {
		t.Errorf("cluster secret outputs = %v, want [kubeconfig]", cluster.AdditionalSecretOutputs)
	}
	pool, _ := rec.Find(InstancePoolType, "pool")
	for _, m := range pool.Mismatches(map[string]string{
		"name": "pool-az-1", "flavor": "a4-ram8-disk50-perf1", "availabilityZone": "az-1",
		`labels["node-role.kubernetes.io/worker"]`: "web",
	}) {
		t.Error("pool " + m)
	}
	if v, _ := pool.Input("maxInstances"); v.NumberValue() != 3 {
		t.Errorf("pool maxInstances = %v, want 3", v)
	}
}
