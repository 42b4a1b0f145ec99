package stacks_test

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/infra/cloudflareip"
	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/internal/plan"
	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

// wantReleases are the platform releases: chart, pinned version, namespace.
var wantReleases = map[string][3]string{
	"nginx-ingress":               {"oci://ghcr.io/nginx/charts/nginx-ingress", "2.6.4", "ingress-nginx"},
	"cert-manager":                {"cert-manager", "v1.21.1", "cert-manager"},
	"longhorn":                    {"longhorn", "1.12.1", "longhorn-system"},
	"kube-prometheus-stack":       {"kube-prometheus-stack", "88.5.3", "monitoring"},
	"blackbox-exporter":           {"prometheus-blackbox-exporter", "11.17.2", "monitoring"},
	"pushgateway":                 {"prometheus-pushgateway", "3.8.0", "monitoring"},
	"cloudnative-pg":              {"cloudnative-pg", "0.29.0", "cnpg-system"},
	"cloudnative-pg-barman-cloud": {"plugin-barman-cloud", "0.7.0", "cnpg-system"},
	"metrics-server":              {"metrics-server", "3.13.1", "metrics-server"},
}

// wantSecurityReleases join them on prod's phase 2 cluster (security.openbao,
// security.audit).
var wantSecurityReleases = map[string][3]string{
	"openbao":          {"openbao", "0.29.2", "openbao"},
	"external-secrets": {"external-secrets", "2.9.0", "external-secrets"},
	"audit-sink":       {"vector", "0.56.0", "audit"},
}

// releaseName is the name of the release with the URN.
func releaseName(rel map[string]*recorder.Resource, urn string) string {
	for name, r := range rel {
		if r.URN == urn {
			return name
		}
	}
	return urn
}

func releases(t *testing.T, res *stackrun.Result) map[string]*recorder.Resource {
	t.Helper()
	out := map[string]*recorder.Resource{}
	for _, r := range res.Recorder.OfType(helm.ReleaseType) {
		out[r.Name] = r
	}
	return out
}

func wantValue(t *testing.T, r *recorder.Resource, path string, want any) {
	t.Helper()
	v, ok := r.Input(path)
	if !ok {
		t.Errorf("%s: %s is not set", r.Name, path)
		return
	}
	var got any = v.V
	if v.IsNumber() {
		got = int(v.NumberValue())
	}
	if got != want {
		t.Errorf("%s: %s = %v, want %v", r.Name, path, got, want)
	}
}

func TestUatInstallsThePlatformReleases(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat"})
	rel := releases(t, res)
	if len(rel) != len(wantReleases) {
		t.Fatalf("uat has %d releases, want %d", len(rel), len(wantReleases))
	}
	for name, want := range wantReleases {
		r, ok := rel[name]
		if !ok {
			t.Fatalf("uat has no release %s", name)
		}
		if r.String("chart") != want[0] || r.String("version") != want[1] || r.String("namespace") != want[2] {
			t.Errorf("release %s = %s %s in %s, want %v", name, r.String("chart"), r.String("version"), r.String("namespace"), want)
		}
		wantValue(t, r, "atomic", true)
		wantValue(t, r, "cleanupOnFail", true)
		if v, _ := r.Input("maxHistory"); v.NumberValue() < 1 {
			t.Errorf("release %s keeps no history bound", name)
		}
	}

	in := rel["nginx-ingress"]
	wantValue(t, in, `values.controller.ingressClass.name`, "nginx")
	wantValue(t, in, `values.controller.ingressClass.setAsDefaultIngress`, true)
	wantValue(t, in, `values.controller.service.type`, "LoadBalancer")
	wantValue(t, in, `values.controller.service.externalTrafficPolicy`, "Local")
	wantValue(t, in, `values.controller.service.annotations["loadbalancer.openstack.org/proxy-protocol"]`, "true")
	wantValue(t, in, `values.controller.service.annotations["loadbalancer.openstack.org/enable-health-monitor"]`, "true")
	wantValue(t, in, `values.controller.config.entries["proxy-protocol"]`, "True")
	wantValue(t, in, `values.controller.config.entries["real-ip-header"]`, "CF-Connecting-IP")
	wantValue(t, in, `values.controller.replicaCount`, 1)
	wantValue(t, in, `values.controller.podDisruptionBudget.enabled`, false)
	wantValue(t, in, `values.controller.autoscaling.enabled`, false)
	wantValue(t, rel["metrics-server"], "values.replicas", 1)
	wantValue(t, rel["metrics-server"], "values.podDisruptionBudget.enabled", false)
	wantValue(t, in, `values.prometheus.create`, true)
	ranges, _ := in.Input("values.controller.service.loadBalancerSourceRanges")
	var got []string
	for _, v := range ranges.ArrayValue() {
		got = append(got, v.StringValue())
	}
	var want []string
	for _, r := range cloudflareip.Ranges {
		if !strings.Contains(r, ":") {
			want = append(want, r)
		}
	}
	if len(want) < 15 || !slices.Equal(got, want) {
		t.Errorf("load balancer admits %v, want Cloudflare's IPv4 ranges %v", got, want)
	}

	lh := rel["longhorn"]
	wantValue(t, lh, "values.defaultSettings.defaultReplicaCount", 1)
	wantValue(t, lh, "values.persistence.defaultClassReplicaCount", 1)
	wantValue(t, lh, "values.persistence.defaultClass", true)
	wantValue(t, lh, "values.defaultSettings.replicaSoftAntiAffinity", false)
	wantValue(t, lh, "values.defaultSettings.storageReservedPercentageForDefaultDisk", 30)
	wantValue(t, lh, "values.defaultSettings.storageMinimalAvailablePercentage", 25)
	wantValue(t, lh, "values.defaultSettings.storageOverProvisioningPercentage", 100)
	local := find(t, res, "kubernetes:storage.k8s.io/v1:StorageClass", "longhorn-local")
	for path, want := range map[string]any{
		"metadata.name": "longhorn-local", "provisioner": "driver.longhorn.io", "reclaimPolicy": "Retain",
		"volumeBindingMode": "WaitForFirstConsumer", "parameters.numberOfReplicas": "1", "parameters.dataLocality": "strict-local",
	} {
		wantValue(t, local, path, want)
	}
	// One Prometheus: its volume keeps Longhorn's replication.
	wantValue(t, rel["kube-prometheus-stack"], "values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName", "longhorn")
	wantValue(t, lh, "values.defaultSettings.deletingConfirmationFlag", false)
	if !lh.Protect {
		t.Error("the Longhorn release is not protected")
	}
	job := find(t, res, "kubernetes:longhorn.io/v1beta2:RecurringJob", "longhorn-snapshot")
	wantValue(t, job, "spec.task", "snapshot")
	wantValue(t, job, "spec.cron", "0 2 * * *")
	wantValue(t, job, "spec.retain", 7)

	mon := rel["kube-prometheus-stack"]
	wantValue(t, mon, "values.prometheus.prometheusSpec.retention", "10d")
	wantValue(t, mon, "values.prometheus.prometheusSpec.retentionSize", "6GiB")
	wantValue(t, mon, "values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName", "longhorn")
	wantValue(t, mon, "values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage", "8Gi")
	for _, sel := range []string{"rule", "serviceMonitor", "podMonitor", "probe", "scrapeConfig"} {
		wantValue(t, mon, "values.prometheus.prometheusSpec."+sel+"SelectorNilUsesHelmValues", false)
	}
	wantValue(t, mon, "values.grafana.sidecar.dashboards.enabled", true)
	wantValue(t, mon, "values.grafana.sidecar.dashboards.label", "grafana_dashboard")
	wantValue(t, mon, "values.grafana.ingress.hosts[0]", "grafana-uat.camps.ch")
	wantValue(t, mon, `values.grafana.ingress.annotations["cert-manager.io/cluster-issuer"]`, "letsencrypt-prod")
	wantValue(t, mon, "values.grafana.admin.existingSecret", "grafana-admin")
	wantValue(t, mon, "values.alertmanager.alertmanagerSpec.configSecret", "alertmanager-config")

	pw := find(t, res, "kubernetes:core/v1:Secret", "kube-prometheus-stack-grafana-admin")
	if !pw.IsSecret(`stringData["admin-password"]`) {
		t.Error("the Grafana admin password is not secret")
	}
	if _, secret := output(t, res, "grafanaAdminPassword"); !secret {
		t.Error("grafanaAdminPassword is exported in plain text")
	}

	for _, issuer := range []string{"letsencrypt-staging", "letsencrypt-prod"} {
		is := find(t, res, "kubernetes:cert-manager.io/v1:ClusterIssuer", "cert-manager-"+issuer)
		wantValue(t, is, "spec.acme.solvers[0].dns01.cloudflare.apiTokenSecretRef.name", "cloudflare-api-token")
		wantValue(t, is, "spec.acme.solvers[0].dns01.cloudflare.apiTokenSecretRef.key", "api-token")
	}
	token := find(t, res, "kubernetes:core/v1:Secret", "cert-manager-cloudflare-token")
	if token.String("metadata.namespace") != "cert-manager" || !token.IsSecret(`stringData["api-token"]`) {
		t.Errorf("token secret = %v", token.Inputs)
	}
	wantValue(t, rel["cert-manager"], "values.crds.enabled", true)
	wantValue(t, rel["cert-manager"], "values.crds.keep", true)
}

// releaseWaits are the only edges between releases: the Barman Cloud
// plugin's Issuer and Certificates need cert-manager.
var releaseWaits = map[string][]string{
	"cloudnative-pg-barman-cloud": {"cert-manager"},
}

// TestPlatformOrdering checks the dependency edges: only the issuers wait
// for cert-manager, only the ServiceMonitors for the monitoring CRDs, and
// the releases install side by side, at the same depth of the plan, but
// for releaseWaits.
func TestPlatformOrdering(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat"})
	rel := releases(t, res)
	g := plan.NewGraph(res.Recorder.Resources())
	urns := map[string]bool{}
	for _, r := range rel {
		urns[r.URN] = true
	}
	depth := -1
	for name, r := range rel {
		var waits []string
		for _, d := range g.Waits(r) {
			if urns[d.URN] {
				waits = append(waits, releaseName(rel, d.URN))
			}
		}
		slices.Sort(waits)
		if !slices.Equal(waits, releaseWaits[name]) {
			t.Errorf("release %s waits for releases %v, want %v", name, waits, releaseWaits[name])
		}
		if len(releaseWaits[name]) > 0 {
			continue
		}
		if d := g.Depth(r); depth == -1 {
			depth = d
		} else if d != depth {
			t.Errorf("release %s is at depth %d, another at %d", name, d, depth)
		}
	}
	waitsFor := func(typ, name, release string) {
		t.Helper()
		r := find(t, res, typ, name)
		if !slices.Contains(r.Dependencies, rel[release].URN) {
			t.Errorf("%s %s does not wait for %s: %v", typ, name, release, r.Dependencies)
		}
	}
	for _, issuer := range []string{"letsencrypt-staging", "letsencrypt-prod"} {
		waitsFor("kubernetes:cert-manager.io/v1:ClusterIssuer", "cert-manager-"+issuer, "cert-manager")
	}
	for _, sm := range []string{"nginx-ingress-metrics", "cert-manager-metrics", "longhorn-metrics"} {
		waitsFor("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", sm, "kube-prometheus-stack")
	}
	waitsFor("kubernetes:longhorn.io/v1beta2:RecurringJob", "longhorn-snapshot", "longhorn")
}

func TestProdPhase1HasNoPlatform(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod"})
	if n := len(releases(t, res)); n != 0 {
		t.Errorf("prod phase 1 has %d releases, want none: the shared platform is uat's", n)
	}
	wantOutput(t, res, "grafanaUrl", "https://grafana-uat.camps.ch")
}

func TestProdPhase2HasItsOwnHAPlatform(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	rel := releases(t, res)
	if len(rel) != len(wantReleases)+len(wantSecurityReleases) {
		t.Fatalf("prod phase 2 has %d releases, want %d", len(rel), len(wantReleases)+len(wantSecurityReleases))
	}
	for name, want := range wantSecurityReleases {
		r, ok := rel[name]
		if !ok {
			t.Errorf("no release %s", name)
			continue
		}
		for i, path := range []string{"chart", "version", "namespace"} {
			if got := r.String(path); got != want[i] {
				t.Errorf("release %s %s = %q, want %q", name, path, got, want[i])
			}
		}
	}
	in := rel["nginx-ingress"]
	wantValue(t, in, "values.controller.replicaCount", 3)
	wantValue(t, in, "values.controller.podDisruptionBudget.enabled", true)
	wantValue(t, in, "values.controller.podDisruptionBudget.maxUnavailable", 1)
	wantValue(t, in, "values.controller.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey", "kubernetes.io/hostname")
	wantValue(t, in, "values.controller.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[1].podAffinityTerm.topologyKey", "topology.kubernetes.io/zone")
	lh := rel["longhorn"]
	wantValue(t, lh, "values.defaultSettings.defaultReplicaCount", 3)
	wantValue(t, lh, "values.defaultSettings.replicaSoftAntiAffinity", false)
	mon := rel["kube-prometheus-stack"]
	wantValue(t, mon, "values.prometheus.prometheusSpec.replicas", 2)
	wantValue(t, mon, "values.prometheus.prometheusSpec.retention", "15d")
	wantValue(t, mon, "values.grafana.ingress.hosts[0]", "grafana.camps.ch")
	wantOutput(t, res, "grafanaUrl", "https://grafana.camps.ch")
}

func TestOriginLockOffTrustsOnlyProxyProtocol(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat", Set: map[string]string{
		key("platform"): `{"ingress":{"originLock":false,"loadBalancerIp":"195.15.240.10"},"monitoring":{"grafanaHost":"grafana-uat.camps.ch"}}`,
		key("edge"):     `{"reserveIp":false}`,
	}})
	in := releases(t, res)["nginx-ingress"]
	wantValue(t, in, `values.controller.config.entries["real-ip-header"]`, "proxy_protocol")
	wantValue(t, in, `values.controller.service.loadBalancerIP`, "195.15.240.10")
	wantValue(t, in, `values.controller.service.annotations["loadbalancer.openstack.org/keep-floatingip"]`, "true")
	if _, ok := in.Input("values.controller.service.loadBalancerSourceRanges"); ok {
		t.Error("without the origin lock the load balancer still filters sources")
	}
}

func TestChartSourcesAreOverridable(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat", Set: map[string]string{
		key("platform"): `{"charts":{"longhorn":"oci://registry.gitlab.com/camps-ch/charts","certManager":"./charts/cert-manager"},"monitoring":{"grafanaHost":"grafana-uat.camps.ch"}}`,
	}})
	rel := releases(t, res)
	wantValue(t, rel["longhorn"], "chart", "oci://registry.gitlab.com/camps-ch/charts/longhorn")
	wantValue(t, rel["longhorn"], "version", "1.12.1")
	wantValue(t, rel["cert-manager"], "chart", "./charts/cert-manager")
	if _, ok := rel["cert-manager"].Input("repositoryOpts"); ok {
		t.Error("a local chart still names a repository")
	}
}

// TestSecurityChartSourcesAreOverridable: the phase 2 releases take a
// mirror or a local chart like the platform's (an air-gapped install).
func TestSecurityChartSourcesAreOverridable(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{
		key("phase"):    "2",
		key("platform"): `{"charts":{"openbao":"/charts/openbao","externalSecrets":"https://mirror.camps.ch/charts","auditSink":"oci://registry.gitlab.com/camps-ch/charts"},"monitoring":{"grafanaHost":"grafana.camps.ch"}}`,
	}})
	rel := releases(t, res)
	wantValue(t, rel["openbao"], "chart", "/charts/openbao")
	wantValue(t, rel["external-secrets"], "chart", "external-secrets")
	wantValue(t, rel["external-secrets"], "repositoryOpts.repo", "https://mirror.camps.ch/charts")
	wantValue(t, rel["audit-sink"], "chart", "oci://registry.gitlab.com/camps-ch/charts/vector")
	wantValue(t, rel["audit-sink"], "version", "0.56.0")
}

func TestBudget(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat"})
	b := res.Deployment.Config.Budget()
	if b.Nodes != 1 || b.Capacity.MilliCPU != 4000 || b.Capacity.Memory != 8<<30 {
		t.Errorf("capacity = %d nodes, %v; want one 4 vCPU / 8 GiB node", b.Nodes, b.Capacity)
	}
	var sum int64
	for name, r := range b.Components {
		if r.MilliCPU <= 0 || r.Memory <= 0 {
			t.Errorf("%s requests nothing", name)
		}
		sum += r.MilliCPU
	}
	if sum != b.Total.MilliCPU || b.Total.MilliCPU > b.Limit.MilliCPU || b.Total.Memory > b.Limit.Memory {
		t.Errorf("budget %v over limit %v (sum %dm)", b.Total, b.Limit, sum)
	}
}

// TestProgramDoesNotImportKubernetesYAML keeps the legacy Chart v3 and
// kubernetes/yaml out of the program's build.
func TestProgramDoesNotImportKubernetesYAML(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "..").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, banned := range []string{"/go/kubernetes/yaml", "/go/kubernetes/helm/v3"} {
		for _, p := range strings.Fields(string(out)) {
			if strings.HasSuffix(p, banned) {
				t.Errorf("the program imports %s", p)
			}
		}
	}
}

const typeFloatingIP = "openstack:networking/floatingIp:FloatingIp"

// TestReservedFloatingIP: the owner of a cluster's platform reserves a
// protected floating IP and its load balancer keeps it; a stack attached
// to that cluster reads the address through its StackReference.
func TestReservedFloatingIP(t *testing.T) {
	uat := mustRun(t, stackrun.Options{Stack: "uat"})
	fip := find(t, uat, typeFloatingIP, "ingress-ip")
	if !fip.Protect || fip.String("pool") != "ext-floating1" {
		t.Errorf("floating ip = %v protect=%v, want a protected address from ext-floating1", fip.Inputs, fip.Protect)
	}
	provider := find(t, uat, "pulumi:providers:openstack", "ingress-ip")
	if fip.ProviderURN() != provider.URN || provider.String("authUrl") != "https://api.pub1.infomaniak.cloud/identity/v3" || provider.String("region") != "dc4-a" {
		t.Errorf("openstack provider = %v", provider.Inputs)
	}
	address, _ := output(t, uat, "ingressIp")
	if !strings.HasPrefix(fmt.Sprint(address), "203.0.113.") {
		t.Fatalf("ingressIp = %v", address)
	}
	in := releases(t, uat)["nginx-ingress"]
	wantValue(t, in, "values.controller.service.loadBalancerIP", address)
	wantValue(t, in, `values.controller.service.annotations["loadbalancer.openstack.org/keep-floatingip"]`, "true")

	prod := mustRun(t, stackrun.Options{Stack: "prod"})
	if len(prod.Recorder.OfType(typeFloatingIP)) != 0 {
		t.Error("prod phase 1 reserves an address of its own")
	}
	wantOutput(t, prod, "ingressIp", address)

	prod2 := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	own, _ := output(t, prod2, "ingressIp")
	if len(prod2.Recorder.OfType(typeFloatingIP)) != 1 || own == address {
		t.Errorf("prod phase 2 ingressIp = %v, want its own address (uat's is %v)", own, address)
	}
}

func TestOpenStackApplicationCredential(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat",
		Set:     map[string]string{key("openstack"): `{"projectId":"PCP-ABC","applicationCredentialId":"ac-123"}`},
		Secrets: withOperatorValues(map[string]string{key("openstackApplicationCredentialSecret"): "test-app-cred-secret"}),
	})
	p := find(t, res, "pulumi:providers:openstack", "ingress-ip")
	if p.String("applicationCredentialId") != "ac-123" || p.String("tenantId") != "PCP-ABC" || !p.IsSecret("applicationCredentialSecret") {
		t.Errorf("openstack provider = %v (secret %v)", p.Inputs, p.IsSecret("applicationCredentialSecret"))
	}
}

// TestShortFirstDeploy: a first up creates resources in at most nine
// steps one after the other (the plan's critical path): releases start
// together and wait only for CRDs or webhooks they need.
func TestShortFirstDeploy(t *testing.T) {
	for _, opts := range []stackrun.Options{
		{Stack: "uat"},
		{Stack: "prod", Set: map[string]string{key("phase"): "2"}},
	} {
		res := mustRun(t, opts)
		path := plan.NewGraph(res.Recorder.Resources()).CriticalPath()
		if len(path) > 9 {
			var steps []string
			for _, r := range path {
				steps = append(steps, r.Type+" "+r.Name)
			}
			t.Errorf("%s %v: the critical path has %d steps, want at most 9:\n  %s", opts.Stack, opts.Set, len(path), strings.Join(steps, "\n  "))
		}
	}
}
