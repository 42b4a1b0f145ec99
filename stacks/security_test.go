package stacks_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"text/template"

	"gitlab.com/camps-ch/infra/infra/infomaniak"
	"gitlab.com/camps-ch/infra/infra/security"
	"gitlab.com/camps-ch/infra/infra/tenancy"
	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

// TestOIDCAndRoles: with the stack files' settings, the clusters uat and
// prod's phase 2 create trust GitLab, and the groups are bound: platform
// admins to their role, auditors to view, break-glass alone to
// cluster-admin, each namespace's deployers to its deployer role.
func TestOIDCAndRoles(t *testing.T) {
	for _, opts := range []stackrun.Options{{Stack: "uat"}, {Stack: "prod", Set: map[string]string{key("phase"): "2"}}} {
		checkOIDCAndRoles(t, mustRun(t, opts))
	}
	// Phase 1's prod applies neither: the cluster and its roles are uat's.
	attached := mustRun(t, stackrun.Options{Stack: "prod"})
	if n := len(attached.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")); n != 0 {
		t.Errorf("prod in phase 1 binds %d cluster roles", n)
	}
	// Stacks without groups bind nothing; without OIDC the API server
	// takes none.
	plain := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2", key("security"): "{}"}})
	if n := len(plain.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")); n != 0 {
		t.Errorf("%d cluster role bindings without configured groups", n)
	}
	if _, ok := find(t, plain, infomaniak.ClusterType, "cluster").Input("apiServer.oidc"); ok {
		t.Error("OIDC without configuration")
	}
}

func checkOIDCAndRoles(t *testing.T, res *stackrun.Result) {
	t.Helper()
	kaas := find(t, res, infomaniak.ClusterType, "cluster")
	for _, m := range kaas.Mismatches(map[string]string{
		"apiServer.oidc.issuerUrl": "https://gitlab.com", "apiServer.oidc.clientId": "test-gitlab-application-id",
		"apiServer.oidc.usernameClaim": "sub", "apiServer.oidc.groupsClaim": "groups_direct",
		"apiServer.oidc.usernamePrefix": "gitlab:", "apiServer.oidc.groupsPrefix": "gitlab:",
	}) {
		t.Errorf("stack %s: cluster %s", res.Stack, m)
	}
	bindings := map[string][2]string{}
	for _, b := range res.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding") {
		bindings[b.String("metadata.name")] = [2]string{b.String("roleRef.name"), b.String("subjects[0].name")}
	}
	want := map[string][2]string{
		"camps-platform-admins": {"camps-platform-admin", "gitlab:camps-ch/platform-admins"},
		"camps-auditors":        {"view", "gitlab:camps-ch/auditors"},
		"camps-break-glass":     {"cluster-admin", "gitlab:camps-ch/break-glass"},
	}
	for name, w := range want {
		if bindings[name] != w {
			t.Errorf("stack %s: binding %s = %v, want %v", res.Stack, name, bindings[name], w)
		}
	}
	for _, b := range res.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding") {
		if ns := b.String("metadata.namespace"); b.String("metadata.name") == "deployer" &&
			b.String("subjects[0].name") != "gitlab:camps-ch/"+ns+"-deployers" {
			t.Errorf("stack %s: namespace %s's deployers are %q", res.Stack, ns, b.String("subjects[0].name"))
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
}

// TestExecOnlyInUat: uat's deployers may exec; production's may not, nor
// may anyone in a restore drill's namespace, where production's data is
// restored.
func TestExecOnlyInUat(t *testing.T) {
	for stack, deployers := range map[string]bool{"uat": true, "prod": false} {
		res := mustRun(t, stackrun.Options{Stack: stack})
		for _, role := range res.Recorder.OfType("kubernetes:rbac.authorization.k8s.io/v1:Role") {
			want := deployers && !strings.HasPrefix(role.Name, "restore-drill-")
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

const (
	externalSecretType = "kubernetes:external-secrets.io/v1:ExternalSecret"
	secretType         = "kubernetes:core/v1:Secret"
)

// prodPhase2 is prod's phase 2 plan, with extra settings.
func prodPhase2(t *testing.T, set map[string]string) *stackrun.Result {
	t.Helper()
	opts := map[string]string{key("phase"): "2"}
	maps.Copy(opts, set)
	return mustRun(t, stackrun.Options{Stack: "prod", Set: opts})
}

// TestOpenBaoIsHighlyAvailable: three Raft voters, one per zone, TLS from
// a private CA, data and audit log on Longhorn, the release protected.
func TestOpenBaoIsHighlyAvailable(t *testing.T) {
	res := prodPhase2(t, nil)
	bao := releases(t, res)["openbao"]
	if bao == nil {
		t.Fatal("no OpenBao release in prod's phase 2")
	}
	if !bao.Protect {
		t.Error("the OpenBao release is not protected")
	}
	for path, want := range map[string]any{
		"values.global.tlsDisable":                                                 false,
		"values.injector.enabled":                                                  false,
		"values.server.ha.enabled":                                                 true,
		"values.server.ha.replicas":                                                3,
		"values.server.ha.raft.enabled":                                            true,
		"values.server.ha.raft.setNodeId":                                          true,
		"values.server.dataStorage.storageClass":                                   "longhorn-local",
		"values.server.auditStorage.enabled":                                       true,
		"values.server.auditStorage.storageClass":                                  "longhorn-local",
		"values.server.topologySpreadConstraints[0].topologyKey":                   "topology.kubernetes.io/zone",
		"values.server.topologySpreadConstraints[0].whenUnsatisfiable":             "DoNotSchedule",
		"values.server.statefulSet.securityContext.container.capabilities.drop[0]": "ALL",
		"values.server.statefulSet.securityContext.pod.runAsNonRoot":               true,
	} {
		wantValue(t, bao, path, want)
	}
	config := bao.String("values.server.ha.raft.config")
	for _, want := range []string{`storage "raft"`, `tls_cert_file`, `audit "file"`, `unauthenticated_metrics_access = true`,
		`leader_api_addr       = "https://openbao-0.openbao-internal:8200"`, `leader_api_addr       = "https://openbao-2.openbao-internal:8200"`} {
		if !strings.Contains(config, want) {
			t.Errorf("OpenBao's configuration lacks %s:\n%s", want, config)
		}
	}
	if n := strings.Count(config, "retry_join"); n != 3 {
		t.Errorf("%d retry_join blocks, want 3", n)
	}
	cert := find(t, res, "kubernetes:cert-manager.io/v1:Certificate", "openbao-server")
	names := strings.Join(stringsAt(t, cert, "spec.dnsNames"), " ")
	for _, want := range []string{"openbao-active.openbao.svc", "*.openbao-internal"} {
		if !strings.Contains(names, want) {
			t.Errorf("the server certificate does not name %s: %s", want, names)
		}
	}
	find(t, res, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "openbao")
	script := find(t, res, "kubernetes:core/v1:ConfigMap", "openbao-bootstrap").String(`data["configure.sh"]`)
	for _, want := range []string{"bound_service_account_names=external-secrets", "bound_service_account_namespaces=external-secrets",
		"audience=openbao", "token_policies=external-secrets", "-path=camps -version=2 kv"} {
		if !strings.Contains(script, want) {
			t.Errorf("the bootstrap script lacks %s", want)
		}
	}
}

// TestExternalSecretsSwitch: the operator and its store are there in
// phase 2; the application secrets move to ExternalSecrets, with the same
// names and types, once security.externalSecrets is on, and not before.
func TestExternalSecretsSwitch(t *testing.T) {
	moved := map[string]string{ // resource name → Secret name
		"production-gitlab-registry":        "gitlab-registry",
		"production-postgres-app":           "postgres-app",
		"cert-manager-cloudflare-api-token": "cloudflare-api-token",
	}
	types := map[string]string{"gitlab-registry": "kubernetes.io/dockerconfigjson", "postgres-app": "kubernetes.io/basic-auth", "cloudflare-api-token": "Opaque"}
	secretNames := func(res *stackrun.Result) map[string]bool {
		out := map[string]bool{}
		for _, s := range res.Recorder.OfType(secretType) {
			out[s.String("metadata.name")] = true
		}
		return out
	}

	before := prodPhase2(t, nil)
	// Pulumi's copies stay in the cluster when the switch drops them: the
	// operator adopts them by name, and no pod finds its Secret missing.
	for _, s := range before.Recorder.OfType(secretType) {
		if slices.Contains(slices.Collect(maps.Values(moved)), s.String("metadata.name")) && !s.RetainOnDelete {
			t.Errorf("Secret %s (%s) would be deleted by the switch", s.String("metadata.name"), s.Name)
		}
	}
	store := find(t, before, "kubernetes:external-secrets.io/v1:ClusterSecretStore", "external-secrets-store")
	for _, m := range store.Mismatches(map[string]string{
		"spec.provider.vault.server":                                 "https://openbao-active.openbao.svc:8200",
		"spec.provider.vault.path":                                   "camps",
		"spec.provider.vault.version":                                "v2",
		"spec.provider.vault.auth.kubernetes.role":                   "external-secrets",
		"spec.provider.vault.caProvider.name":                        "openbao-ca",
		"spec.provider.vault.auth.kubernetes.serviceAccountRef.name": "external-secrets",
		"spec.conditions[0].namespaces[0]":                           "cert-manager",
		"spec.conditions[0].namespaces[1]":                           "production",
	}) {
		t.Error("store " + m)
	}
	if n := len(before.Recorder.OfType(externalSecretType)); n != 0 {
		t.Errorf("%d ExternalSecrets before the switch", n)
	}
	for _, name := range moved {
		if !secretNames(before)[name] {
			t.Errorf("before the switch Pulumi writes no Secret %s", name)
		}
	}

	after := prodPhase2(t, map[string]string{key("security"): `{"externalSecrets": true}`})
	written := secretNames(after)
	for res, name := range moved {
		es := find(t, after, externalSecretType, "external-secrets-"+res)
		if got := es.String("metadata.name"); got != name {
			t.Errorf("ExternalSecret %s is named %q, want %q", res, got, name)
		}
		if got := es.String("spec.target.template.type"); got != types[name] {
			t.Errorf("ExternalSecret %s makes a %q Secret, want %q", name, got, types[name])
		}
		if got := es.String("spec.secretStoreRef.name"); got != "openbao" {
			t.Errorf("ExternalSecret %s reads store %q", name, got)
		}
		if written[name] {
			t.Errorf("Pulumi still writes Secret %s after the switch", name)
		}
	}
	// The operator's template renders the very pull secret Pulumi wrote.
	pull := find(t, after, externalSecretType, "external-secrets-production-gitlab-registry")
	got := renderTemplate(t, pull.String(`spec.target.template.data[".dockerconfigjson"]`),
		map[string]string{"username": "camps-k8s-pull", "password": `t0k"en\`})
	want, err := tenancy.DockerConfigJSON("registry.gitlab.com", "camps-k8s-pull", `t0k"en\`)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, got, want) {
		t.Errorf("the template renders\n%s\nwant\n%s", got, want)
	}
	// The operator's secrets in the stack's config are no longer needed.
	if _, err := run(t, stackrun.Options{Stack: "prod", Secrets: map[string]string{}, Set: map[string]string{
		key("phase"): "2", key("security"): `{"externalSecrets": true}`,
	}}); err != nil {
		t.Errorf("with the switch on, the registry and DNS tokens are still required: %v", err)
	}
	if _, err := run(t, stackrun.Options{Stack: "prod", Secrets: map[string]string{}, Set: map[string]string{key("phase"): "2"}}); err == nil {
		t.Error("without the switch, the stack runs without the registry and DNS tokens")
	}
	// Without Pulumi's copy there is no password to generate.
	if _, ok := after.Recorder.Find("random:index/randomPassword:RandomPassword", "postgres-production-password"); ok {
		t.Error("the database password is still generated after the switch")
	}
}

// TestAuditLogging: prod's phase 2 cluster gets the audit policy and a
// secret webhook kubeconfig pointing at the sink, which runs behind the
// ingress at its record.
func TestAuditLogging(t *testing.T) {
	res := prodPhase2(t, nil)
	kaas := find(t, res, infomaniak.ClusterType, "cluster")
	policy, err := security.AuditPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if got := kaas.String("apiServer.auditPolicy"); got != policy {
		t.Errorf("audit policy on the cluster:\n%s\nwant:\n%s", got, policy)
	}
	if !kaas.IsSecret("apiServer.auditWebhookConfig") {
		t.Error("the audit webhook kubeconfig (with its token) is not secret")
	}
	if cfg := kaas.String("apiServer.auditWebhookConfig"); !strings.Contains(cfg, "server: https://audit-prod.camps.ch/") || !strings.Contains(cfg, "token: ") {
		t.Errorf("webhook kubeconfig:\n%s", cfg)
	}
	ing := find(t, res, "kubernetes:networking.k8s.io/v1:Ingress", "audit-sink")
	if got := ing.String("spec.rules[0].host"); got != "audit-prod.camps.ch" {
		t.Errorf("sink host %q", got)
	}
	// Proxied: the origin lock admits only Cloudflare.
	if r, ok := records(res)["A audit-prod.camps.ch"]; !ok {
		t.Error("no DNS record for the sink")
	} else if v, _ := r.Input("proxied"); !v.IsBool() || !v.BoolValue() {
		t.Error("the sink's record is not proxied")
	}
	job := find(t, res, "kubernetes:batch/v1:CronJob", "audit-sink-retention")
	if args := strings.Join(stringsAt(t, job, "spec.jobTemplate.spec.template.spec.containers[0].args"), " "); !strings.Contains(args, "--min-age 90d") || !strings.Contains(args, "store:camps-prod-audit/audit") {
		t.Errorf("retention job args %s", args)
	}
	vector := releases(t, res)["audit-sink"]
	if got := vector.String("values.customConfig.sinks.s3.bucket"); got != "camps-prod-audit" {
		t.Errorf("sink bucket %q", got)
	}
	if got := vector.String("values.customConfig.sources.apiserver.auth.source"); !strings.Contains(got, "Bearer ${AUDIT_TOKEN}") {
		t.Errorf("sink auth %q: the token must come from the environment", got)
	}
}

// TestPhase1HasNoPhase2Security: no OpenBao, operator, sink or audit
// policy where the stack does not run a three-zone cluster.
func TestPhase1HasNoPhase2Security(t *testing.T) {
	for _, opts := range []stackrun.Options{
		{Stack: "uat"}, {Stack: "uat", Set: map[string]string{key("phase"): "2"}}, {Stack: "prod"},
	} {
		res := mustRun(t, opts)
		rel := releases(t, res)
		for _, name := range []string{"openbao", "external-secrets", "audit-sink"} {
			if rel[name] != nil {
				t.Errorf("%s %v has release %s", opts.Stack, opts.Set, name)
			}
		}
		if n := len(res.Recorder.OfType(externalSecretType)); n != 0 {
			t.Errorf("%s %v has %d ExternalSecrets", opts.Stack, opts.Set, n)
		}
		for _, kaas := range res.Recorder.OfType(infomaniak.ClusterType) {
			if _, ok := kaas.Input("apiServer.auditPolicy"); ok {
				t.Errorf("%s %v sets an audit policy", opts.Stack, opts.Set)
			}
		}
	}
}

// stringsAt is the string array at path.
func stringsAt(t *testing.T, r *recorder.Resource, path string) []string {
	t.Helper()
	v, ok := r.Input(path)
	if !ok || !v.IsArray() {
		t.Fatalf("%s: %s is not an array", r.Name, path)
	}
	var out []string
	for _, e := range v.ArrayValue() {
		out = append(out, e.StringValue())
	}
	return out
}

// renderTemplate renders an ExternalSecret template as the operator's
// engine v2 does (Go templates; the functions used here: toJson, b64enc).
func renderTemplate(t *testing.T, text string, data map[string]string) string {
	t.Helper()
	tpl, err := template.New("t").Funcs(template.FuncMap{
		"toJson": func(v any) (string, error) { b, err := json.Marshal(v); return string(b), err },
		"b64enc": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	}).Parse(text)
	if err != nil {
		t.Fatalf("template %s: %v", text, err)
	}
	var out strings.Builder
	if err := tpl.Execute(&out, data); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// jsonEqual compares two JSON documents.
func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
