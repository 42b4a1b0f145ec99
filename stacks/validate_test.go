package stacks_test

import (
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/internal/stackrun"
	"gitlab.com/camps-ch/infra/stacks"
)

func key(k string) string { return stacks.FullKey(k) }

// run runs the real program of a checked-in stack with overrides.
func run(t *testing.T, opts stackrun.Options) (*stackrun.Result, error) {
	t.Helper()
	opts.Dir = ".."
	if opts.Secrets == nil {
		opts.Secrets = stackrun.OperatorValues()
	}
	return stackrun.Run(opts)
}

// TestInvalidConfiguration runs the real program with one defect each and
// checks the message names the key and the fault, and that no resource
// was registered.
// invalidCase is a configuration the program must refuse with want.
type invalidCase struct {
	name    string
	stack   string // default uat
	set     map[string]string
	plain   map[string]string
	secrets map[string]string // replaces the operator secrets
	want    string
}

func TestInvalidConfiguration(t *testing.T) {
	const pool = `{"name":"p1","zone":"az-1"}`
	cluster := func(fields string) map[string]string {
		return map[string]string{key("cluster"): `{"mode":"create","name":"camps-shared",` + fields + `}`}
	}
	namespace := func(fields string) map[string]string {
		return map[string]string{key("namespaces"): `[{"name":"uat"` + fields + `}]`}
	}
	tests := []invalidCase{
		{name: "phase out of range", set: map[string]string{key("phase"): "3"},
			want: `camps-infra:phase: 3 is not a phase; use 1 or 2`},
		{name: "phase not a number", set: map[string]string{key("phase"): "one"},
			want: `camps-infra:phase: "one" is not an integer; use 1 or 2`},
		{name: "unknown mode", set: map[string]string{key("cluster"): `{"mode":"manual"}`},
			want: `camps-infra:cluster.mode: "manual" is not a mode; use create or attach`},
		{name: "cluster name not a DNS label", set: map[string]string{key("cluster"): `{"name":"Camps_Shared"}`},
			want: `camps-infra:cluster.name: "Camps_Shared" must be a DNS label`},
		{name: "cluster name too long", set: map[string]string{key("cluster"): `{"name":"` + strings.Repeat("c", 41) + `"}`},
			want: `camps-infra:cluster.name: "` + strings.Repeat("c", 41) + `" must be a DNS label (lower-case letters, digits, '-') of at most 40 characters`},
		{name: "unknown region", set: cluster(`"region":"dc9-z"`),
			want: `camps-infra:cluster.region: "dc9-z" is not a KaaS region; use one of dc3-a, dc4-a`},
		{name: "dc4-a's zone in dc3-a", set: cluster(`"region":"dc3-a","pools":[{"name":"p1","zone":"az-1","flavor":"a4-ram8-disk50-perf1","minInstances":1,"maxInstances":1}]`),
			want: `camps-infra:cluster.pools[0].zone: "az-1" is not a zone of region dc3-a (dc3-a-04, dc3-a-09, dc3-a-10)`},
		{name: "blank pack", set: cluster(`"pack":" "`),
			want: `camps-infra:cluster.pack: is empty; name a KaaS pack such as shared`},
		{name: "patch version", set: cluster(`"kubernetesVersion":"1.35.2"`),
			want: `camps-infra:cluster.kubernetesVersion: "1.35.2" is not a Kubernetes minor version such as 1.35`},
		{name: "no pools", set: cluster(`"pools":[]`),
			want: `camps-infra:cluster.pools: is empty; a created cluster needs at least one instance pool`},
		{name: "zone of another region", set: cluster(`"pools":[` + pool + `,{"name":"p2","zone":"az-9"}]`),
			want: `camps-infra:cluster.pools[1].zone: "az-9" is not a zone of region dc4-a (az-1, az-2, az-3)`},
		{name: "duplicate pool name", set: cluster(`"pools":[` + pool + `,{"name":"p1","zone":"az-2"}]`),
			want: `camps-infra:cluster.pools[1].name: "p1" is already the name of cluster.pools[0]`},
		{name: "two pools in one zone", set: cluster(`"pools":[` + pool + `,{"name":"p2","zone":"az-1"}]`),
			want: `camps-infra:cluster.pools[1].zone: "az-1" already has cluster.pools[0]; use one pool per zone`},
		{name: "bad flavor", set: cluster(`"pools":[{"name":"p1","zone":"az-1","flavor":"big"}]`),
			want: `camps-infra:cluster.pools[0].flavor: "big" is not a flavor name such as a4-ram8-disk50-perf1`},
		{name: "zero nodes", set: cluster(`"pools":[{"name":"p1","zone":"az-1","minInstances":0}]`),
			want: `camps-infra:cluster.pools[0].minInstances: 0 is below 1`},
		{name: "max below min", set: cluster(`"pools":[{"name":"p1","zone":"az-1","minInstances":2,"maxInstances":1}]`),
			want: `camps-infra:cluster.pools[0].maxInstances: 1 is below minInstances 2`},
		{name: "max above API limit", set: cluster(`"pools":[{"name":"p1","zone":"az-1","maxInstances":1001}]`),
			want: `camps-infra:cluster.pools[0].maxInstances: 1001 is above the API's limit of 1000`},
		{name: "node label outside allowed prefixes", set: cluster(`"pools":[{"name":"p1","zone":"az-1","labels":{"team":"web"}}]`),
			want: `camps-infra:cluster.pools[0].labels["team"]: key "team" must have the prefix node-role.kubernetes.io/`},
		{name: "bad IP filter", set: cluster(`"apiServerIpFilters":["10.0.0.300/8"]`),
			want: `camps-infra:cluster.apiServerIpFilters[0]: "10.0.0.300/8" is not a CIDR such as 192.0.2.0/24`},
		{name: "misspelt field", set: map[string]string{key("cluster"): `{"kubernetesVerison":"1.35"}`},
			want: `camps-infra:cluster: unknown field "kubernetesVerison"`},
		{name: "wrong type", set: cluster(`"pools":[{"name":"p1","zone":"az-1","minInstances":"2"}]`),
			want: `camps-infra:cluster.pools[0].minInstances: got a JSON string, want an integer`},
		{name: "misspelt nested field", set: cluster(`"pools":[{"name":"p1","zones":"az-1"}]`),
			want: `camps-infra:cluster.pools[0]: unknown field "zones"`},
		{name: "cluster is a list", set: map[string]string{key("cluster"): `[1]`},
			want: `camps-infra:cluster: got a JSON list, want an object`},
		{name: "broken JSON", set: map[string]string{key("namespaces"): `[{"name":"uat"`},
			want: `camps-infra:namespaces: is not valid JSON`},
		{name: "attach without a source", set: map[string]string{key("cluster"): `{"mode":"attach"}`},
			want: `camps-infra:cluster.mode: attach needs cluster.attachStack (a stack that creates its cluster) or the secret kubeconfig`},
		{name: "attach to a stack and a kubeconfig", stack: "prod",
			secrets: withOperatorValues(map[string]string{key("kubeconfig"): "apiVersion: v1"}),
			want:    `camps-infra:cluster.attachStack: and kubeconfig are both set: attach takes one of them`},
		{name: "attach to itself", set: map[string]string{key("cluster"): `{"attachStack":"uat"}`},
			want: `camps-infra:cluster.attachStack: "uat" is this stack itself`},
		{name: "attach to itself by project/stack", set: map[string]string{key("cluster"): `{"mode":"attach","attachStack":"camps-infra/uat"}`},
			want: `camps-infra:cluster.attachStack: "camps-infra/uat" is this stack itself`},
		{name: "attach to another project", stack: "prod", set: map[string]string{key("cluster"): `{"attachStack":"acme/web/uat"}`},
			want: `camps-infra:cluster.attachStack: "acme/web/uat" is a stack of project web; attach to a stack of camps-infra`},
		{name: "malformed stack name", stack: "prod", set: map[string]string{key("cluster"): `{"attachStack":"a/b/c/d"}`},
			want: `camps-infra:cluster.attachStack: "a/b/c/d" is not a stack name (stack, project/stack or org/project/stack)`},
		{name: "second platform on a shared cluster", stack: "prod", set: map[string]string{key("platform"): `{"install":true}`},
			want: `camps-infra:platform.install: is true, but the cluster belongs to stack "uat", whose platform it is`},
		{name: "kubeconfig without a cluster", set: map[string]string{key("cluster"): `{"mode":"attach"}`, key("edge"): `{}`},
			secrets: withOperatorValues(map[string]string{key("kubeconfig"): "apiVersion: v1\nusers: [{name: dev, user: {token: s3cr3t}}]"}),
			want:    `camps-infra:kubeconfig: kubeconfig: current-context "" names no context with a cluster`},
		{name: "kubeconfig CA from a file", set: map[string]string{key("cluster"): `{"mode":"attach"}`, key("edge"): `{}`},
			secrets: withOperatorValues(map[string]string{key("kubeconfig"): "clusters: [{name: k, cluster: {server: https://k:6443, certificate-authority: /home/me/ca.crt}}]"}),
			want:    `camps-infra:kubeconfig: kubeconfig: cluster "k" reads its certificate authority from a file; embed it as certificate-authority-data`},
		{name: "kubeconfig not YAML", set: map[string]string{key("cluster"): `{"mode":"attach"}`, key("edge"): `{}`},
			secrets: withOperatorValues(map[string]string{key("kubeconfig"): "clusters: [s3cr3t"}),
			want:    `camps-infra:kubeconfig: kubeconfig: not a YAML document`},
		{name: "kubeconfig in create mode",
			secrets: withOperatorValues(map[string]string{key("kubeconfig"): "apiVersion: v1"}),
			set:     map[string]string{key("cluster"): `{"mode":"create"}`},
			want:    `camps-infra:kubeconfig: is set, but cluster.mode is create: remove it or use mode attach`},
		{name: "secret in plain text", plain: map[string]string{key("registryToken"): "glpat-123"},
			want: "camps-infra:registryToken: is set in plain text; set it with `pulumi config set --secret registryToken`"},
		{name: "registry token missing", secrets: map[string]string{},
			want: "camps-infra:registryToken: is not set; set the deploy token with `pulumi config set --secret registryToken <token>`"},
		{name: "registry server not a host", set: map[string]string{key("registry"): `{"server":"gitlab registry","username":"u"}`},
			want: `camps-infra:registry.server: "gitlab registry" is not a host name such as registry.gitlab.com`},
		{name: "registry username missing", set: map[string]string{key("registry"): `{}`},
			want: `camps-infra:registry.username: is empty; the namespaces' pull secret needs the deploy token's username`},
		{name: "reserved namespace", set: map[string]string{key("namespaces"): `[{"name":"monitoring"}]`},
			want: `camps-infra:namespaces[0].name: "monitoring" is reserved for the platform or the system`},
		{name: "namespace not a DNS label", set: map[string]string{key("namespaces"): `[{"name":"Prod"}]`},
			want: `camps-infra:namespaces[0].name: "Prod" must be a DNS label of at most 63 characters`},
		{name: "duplicate namespace", set: map[string]string{key("namespaces"): `[{"name":"uat"},{"name":"uat"}]`},
			want: `camps-infra:namespaces[1].name: "uat" is already namespaces[0]`},
		{name: "quantity with words", set: namespace(`,"quota":{"requestsCpu":"2 cores"}`),
			want: `camps-infra:namespaces[0].quota.requestsCpu: "2 cores" is not a Kubernetes quantity such as 500m, 1.5 or 2Gi`},
		{name: "requests above limits", set: namespace(`,"quota":{"requestsMemory":"8Gi","limitsMemory":"4Gi"}`),
			want: `camps-infra:namespaces[0].quota.requestsMemory: 8Gi is above quota.limitsMemory 4Gi`},
		{name: "default above max", set: namespace(`,"limits":{"defaultCpu":"3","maxCpu":"2"}`),
			want: `camps-infra:namespaces[0].limits.defaultCpu: 3 is above limits.maxCpu 2`},
		{name: "egress to a host name", set: namespace(`,"egressCidrs":["db.internal"]`),
			want: `camps-infra:namespaces[0].egressCidrs[0]: "db.internal" is not a CIDR such as 10.0.0.0/8`},
		{name: "no pods", set: namespace(`,"quota":{"pods":0}`),
			want: `camps-infra:namespaces[0].quota.pods: 0 is below 1`},
		{name: "group with spaces", set: namespace(`,"deployerGroup":"web team"`),
			want: `camps-infra:namespaces[0].deployerGroup: "web team" is not a group name`},
		{name: "negative project id", set: map[string]string{key("infomaniak"): `{"projectId":-1}`},
			want: `camps-infra:infomaniak.projectId: -1 is negative`},
	}
	platform := func(fields string) map[string]string {
		return map[string]string{key("platform"): `{"monitoring":{"grafanaHost":"grafana-uat.camps.ch"},` + fields + `}`}
	}
	tests = append(tests, []invalidCase{
		{name: "platform over budget", set: platform(`"longhorn":{"instanceManagerCpu":40}`),
			want: `more than 40 % of the nodes' 4000m`},
		{name: "Prometheus beyond the disk", set: platform(`"monitoring":{"grafanaHost":"g.camps.ch","storageSize":"40Gi"}`),
			want: `camps-infra:platform.monitoring.storageSize: the volumes need 47.5 GB of the 32.5 GB Longhorn schedules on 1 node(s), 15.0 GB short; the largest are prometheus`},
		{name: "PostgreSQL beyond its quota", set: namespace(`,"quota":{"requestsStorage":"1Gi"}`),
			want: `camps-infra:namespaces[0].quota.requestsStorage: 1Gi is below the PostgreSQL cluster's 1 × 2Gi, whose claims count against it`},
		{name: "PostgreSQL beyond its claim count", set: namespace(`,"quota":{"persistentVolumeClaims":0}`),
			want: `camps-infra:namespaces[0].quota.persistentVolumeClaims: 0 is below the PostgreSQL cluster's 1 claims`},
		{name: "snapshot schedule in words", set: platform(`"longhorn":{"snapshot":{"cron":"daily"}}`),
			want: `camps-infra:platform.longhorn.snapshot.cron: "daily" is not a five-field cron schedule`},
		{name: "retention in words", set: map[string]string{key("platform"): `{"monitoring":{"grafanaHost":"g.camps.ch","retention":"10 days"}}`},
			want: `camps-infra:platform.monitoring.retention: "10 days" is not a Prometheus duration such as 10d`},
		{name: "chart from ftp", set: platform(`"charts":{"longhorn":"ftp://mirror/charts"}`),
			want: `camps-infra:platform.charts.longhorn: "ftp://mirror/charts" is not https://, oci:// or a chart directory (./ or /)`},
		{name: "no Grafana host", set: map[string]string{key("platform"): `{}`},
			want: `camps-infra:platform.monitoring.grafanaHost: "" is not a host name such as grafana.camps.ch`},
		{name: "no DNS-01 token", secrets: map[string]string{key("registryToken"): "t"},
			want: "camps-infra:cloudflareDnsToken: is not set; cert-manager needs it for DNS-01"},
		{name: "receiver without a name", secrets: withOperatorValues(map[string]string{key("alertmanagerReceivers"): "- webhook_configs: [{url: 'https://x'}]"}),
			want: `camps-infra:alertmanagerReceivers: receiver 0: a unique, non-empty name other than "null" and "heartbeat" is required`},
		{name: "heartbeat over plain HTTP", secrets: withOperatorValues(map[string]string{key("alertmanagerHeartbeatUrl"): "http://hc.example/ping/secret-key"}),
			want: `camps-infra:alertmanagerHeartbeatUrl: is not an https:// URL`},
		{name: "receivers not a list", secrets: withOperatorValues(map[string]string{key("alertmanagerReceivers"): "name: team"}),
			want: `camps-infra:alertmanagerReceivers: is not a YAML list of Alertmanager receivers`},
		{name: "Cloudflare range without a length", set: map[string]string{key("cloudflare"): `{"ranges":["173.245.48.0"]}`},
			want: `camps-infra:cloudflare.ranges[0]: "173.245.48.0" is not a CIDR`},
		{name: "load balancer IP not IPv4", set: platform(`"ingress":{"loadBalancerIp":"2001:db8::1"}`),
			want: `camps-infra:platform.ingress.loadBalancerIp: "2001:db8::1" is not an IPv4 address`},
		{name: "backup target without credentials", set: platform(`"longhorn":{"backupTarget":"s3://camps-backups@dc4-a/"}`),
			want: `camps-infra:platform.longhorn.backupTarget: and backupCredentialSecret go together`},
		{name: "reserved and configured load balancer address", set: platform(`"ingress":{"loadBalancerIp":"195.15.240.10"}`),
			want: `camps-infra:platform.ingress.loadBalancerIp: is set, but edge.reserveIp reserves the address: set one of them`},
		{name: "an address for no ingress", stack: "prod", set: map[string]string{key("edge"): `{"reserveIp":true}`},
			want: `camps-infra:edge.reserveIp: is true, but this stack installs no ingress to use the address`},
		{name: "application credential without its secret", set: map[string]string{key("openstack"): `{"applicationCredentialId":"ac-1"}`},
			want: `camps-infra:openstack.applicationCredentialId: and the secret openstackApplicationCredentialSecret go together`},
		{name: "identity over plain HTTP", set: map[string]string{key("openstack"): `{"authUrl":"http://keystone"}`},
			want: `camps-infra:openstack.authUrl: "http://keystone" is not an https:// URL`},
		{name: "record outside the zone", set: map[string]string{key("edge"): `{"zone":"camps.ch","records":[{"name":"uat.camps.io"}]}`},
			want: `camps-infra:edge.records[0].name: "uat.camps.io" is not in zone camps.ch`},
		{name: "duplicate record", set: map[string]string{key("edge"): `{"zone":"camps.ch","records":[{"name":"uat.camps.ch"},{"name":"uat.camps.ch","type":"a"}]}`},
			want: `camps-infra:edge.records[1].name: "uat.camps.ch" (A) is already edge.records[0]`},
		{name: "proxied TXT record", set: map[string]string{key("edge"): `{"zone":"camps.ch","records":[{"name":"uat.camps.ch","type":"TXT","content":"v=spf1 -all","proxied":true}]}`},
			want: `camps-infra:edge.records[0].proxied: is true, but Cloudflare cannot proxy TXT records (only A, AAAA, CNAME)`},
		{name: "records without a zone", set: map[string]string{key("edge"): `{"records":[{"name":"uat.camps.ch"}]}`},
			want: `camps-infra:edge.zone: is empty; name the Cloudflare zone of the records, e.g. camps.ch`},
		{name: "zone settings in uat", set: map[string]string{key("edge"): `{"zone":"camps.ch","zoneSettings":true}`},
			want: `camps-infra:edge.zoneSettings: is true in stack uat; only stack prod owns the zone's settings`},
		{name: "origin lock without ranges", set: map[string]string{key("cloudflare"): `{"ranges":[]}`},
			want: `camps-infra:cloudflare.ranges: is empty, but the origin lock (platform.ingress.originLock) admits only them`},
		{name: "Grafana outside the zone", set: map[string]string{key("platform"): `{"monitoring":{"grafanaHost":"grafana.example.org"}}`},
			want: `camps-infra:platform.monitoring.grafanaHost: "grafana.example.org" is not in zone camps.ch`},
		{name: "origin lock with IPv6 ranges only", set: map[string]string{key("cloudflare"): `{"ranges":["2400:cb00::/32"]}`},
			want: `camps-infra:cloudflare.ranges: has no IPv4 range, but the origin lock admits only them at the IPv4 load balancer: it would admit everyone`},
		{name: "name two labels deep", set: map[string]string{key("edge"): `{"zone":"camps.ch","records":[{"name":"api.uat.camps.ch"}]}`},
			want: `camps-infra:edge.records[0].name: "api.uat.camps.ch" must be the zone or one label below it (camps.ch, www.camps.ch): Cloudflare's edge certificate covers no deeper name`},
		{name: "CNAME beside an A record", set: map[string]string{key("edge"): `{"zone":"camps.ch","records":[{"name":"uat.camps.ch"},{"name":"uat.camps.ch","type":"CNAME","content":"camps.ch"}]}`},
			want: `camps-infra:edge.records[1].type: CNAME next to A records of "uat.camps.ch": a CNAME must be alone at its name`},
		{name: "unsupported record type", set: map[string]string{key("edge"): `{"zone":"camps.ch","records":[{"name":"uat.camps.ch","type":"MX","content":"mail.camps.ch"}]}`},
			want: `camps-infra:edge.records[0].type: "MX" is not A, AAAA, CNAME or TXT (CAA records come with edge.zoneSettings)`},
		{name: "A record of a name", set: map[string]string{key("edge"): `{"zone":"camps.ch","records":[{"name":"uat.camps.ch","content":"not-an-ip"}]}`},
			want: `camps-infra:edge.records[0].content: "not-an-ip" is not an IPv4 address`},
		{name: "duplicate in another case", set: map[string]string{key("edge"): `{"zone":"camps.ch","records":[{"name":"www.camps.ch"},{"name":"WWW.camps.ch"}]}`},
			want: `camps-infra:edge.records[1].name: "www.camps.ch" (A) is already edge.records[0]`},
		{name: "zone with a port", set: map[string]string{key("edge"): `{"zone":"camps.ch:443","records":[]}`},
			want: `camps-infra:edge.zone: "camps.ch:443" is not a zone name such as camps.ch`},
		{name: "too many Prometheus replicas", set: map[string]string{key("platform"): `{"monitoring":{"grafanaHost":"g.camps.ch","prometheusReplicas":3}}`},
			want: `camps-infra:platform.monitoring.prometheusReplicas: 3 is not 1 or 2`},
	}...)
	receivers := withOperatorValues(map[string]string{key("alertmanagerReceivers"): "- name: pager\n  webhook_configs: [{url: 'https://pager.example/x'}]\n"})
	tests = append(tests, []invalidCase{
		{name: "SLO as a ratio", set: map[string]string{key("slo"): `{"availability":0}`},
			want: `camps-infra:slo.availability: 0 is not a percentage between 0 and 100 (both excluded)`},
		{name: "SLO of 100 %", set: map[string]string{key("slo"): `{"latencyPercentile":100}`},
			want: `camps-infra:slo.latencyPercentile: 100 is not a percentage between 0 and 100 (both excluded)`},
		{name: "latency threshold between buckets", set: map[string]string{key("slo"): `{"latencyThresholdMs":150}`},
			want: `camps-infra:slo.latencyThresholdMs: 150 is not a bucket of the ingress controller's latency histogram (1 2 3 4 5 10 20 30 40 50 100 200 300`},
		{name: "SLO in another stack's namespace", stack: "prod", set: map[string]string{key("slo"): `{"namespace":"uat"}`},
			want: `camps-infra:slo.namespace: "uat" is not one of the stack's namespaces`},
		{name: "SLO without a namespace", set: map[string]string{key("namespaces"): `[]`, key("slo"): `{"enabled":true}`},
			want: `camps-infra:slo.namespace: the stack has no namespace to record its SLOs in; set slo.enabled to false`},
		{name: "SLO without hosts", set: map[string]string{key("slo"): `{"enabled":true,"hosts":[]}`},
			want: `camps-infra:slo.hosts: is empty: the availability SLO needs a public host to probe; set slo.enabled to false`},
		{name: "SLO host with a scheme", set: map[string]string{key("slo"): `{"hosts":["https://uat.camps.ch"]}`},
			want: `camps-infra:slo.hosts[0]: "https://uat.camps.ch" is not a host name`},
		{name: "probe path with a query", set: map[string]string{key("slo"): `{"path":"/health?full=1"}`},
			want: `camps-infra:slo.path: "/health?full=1" is not an absolute URL path without query`},
		{name: "Longhorn backups on an attached stack", stack: "prod", set: map[string]string{key("data"): `{"longhornBackups":true}`},
			want: `camps-infra:data.longhornBackups: is true, but this stack does not install the platform (Longhorn is its cluster owner's)`},
		{name: "two Longhorn backup targets", set: map[string]string{key("data"): `{"longhornBackups":true}`,
			key("platform"): `{"monitoring":{"grafanaHost":"g.camps.ch"},"longhorn":{"backupTarget":"s3://x@dc4-a/","backupCredentialSecret":"s"}}`},
			want: `camps-infra:data.longhornBackups: and platform.longhorn.backupTarget both set Longhorn's backup target: set one of them`},
		{name: "copy in the same region", set: map[string]string{key("data"): `{"copyRegion":"dc4-a"}`},
			want: `camps-infra:data.copyRegion: "dc4-a" is the buckets' own region; a copy belongs in the other one`},
		{name: "copy to a region without S3", set: map[string]string{key("data"): `{"copyRegion":"dc9-z"}`},
			want: `camps-infra:data.copyRegion: "dc9-z" is not a region with S3 (dc3-a, dc4-a)`},
		{name: "S3 over HTTP", set: map[string]string{key("data"): `{"s3Endpoint":"http://s3.pub2.infomaniak.cloud"}`},
			want: `camps-infra:data.s3Endpoint: "http://s3.pub2.infomaniak.cloud" is not an https:// URL`},
		{name: "bucket prefix with capitals", set: map[string]string{key("data"): `{"bucketPrefix":"Camps"}`},
			want: `camps-infra:data.bucketPrefix: "Camps" is not 3 to 42 lowercase letters, digits and dashes`},
		{name: "five-field database backup schedule", set: map[string]string{key("data"): `{"postgres":{"backupSchedule":"0 1 * * *"}}`},
			want: `camps-infra:data.postgres.backupSchedule: "0 1 * * *" is not a six-field cron schedule (seconds first, e.g. 0 0 1 * * *)`},
		{name: "database retention in hours", set: map[string]string{key("data"): `{"postgres":{"retention":"48h"}}`},
			want: `camps-infra:data.postgres.retention: "48h" is not a number of days, weeks or months such as 30d`},
		{name: "database owner with capitals", set: map[string]string{key("data"): `{"postgres":{"owner":"App"}}`},
			want: `camps-infra:data.postgres.owner: "App" is not a lowercase SQL identifier`},
		{name: "ten database instances", set: map[string]string{key("data"): `{"postgres":{"instances":10}}`},
			want: `camps-infra:data.postgres.instances: 10 is not between 1 and 9`},
		{name: "database volume in words", set: map[string]string{key("data"): `{"postgres":{"storageSize":"big"}}`},
			want: `camps-infra:data.postgres.storageSize:`},
		{name: "recovery into its own archive", set: map[string]string{key("data"): `{"postgres":{"recovery":{"serverName":"postgres"}}}`},
			want: `camps-infra:data.postgres.recovery.serverName: "postgres" is also data.postgres.serverName: the recovered cluster must back up under a new name`},
		{name: "recovery to yesterday", set: map[string]string{key("data"): `{"postgres":{"serverName":"pg-2","recovery":{"serverName":"postgres","targetTime":"yesterday"}}}`},
			want: `camps-infra:data.postgres.recovery.targetTime: "yesterday" is not an RFC 3339 time such as 2026-11-28T08:00:00Z`},
		{name: "recovery from a region without S3", set: map[string]string{key("data"): `{"postgres":{"recovery":{"serverName":"postgres","region":"dc9-z"}}}`},
			want: `camps-infra:data.postgres.recovery.region: "dc9-z" is not a region with S3 (dc3-a, dc4-a)`},
		{name: "OIDC issuer over HTTP", set: map[string]string{key("security"): `{"oidc":{"issuerUrl":"http://id.camps.ch"}}`},
			want: `camps-infra:security.oidc.issuerUrl: "http://id.camps.ch" is not an https:// URL`},
		{name: "GitLab groups from the userinfo", set: map[string]string{key("security"): `{"oidc":{"issuerUrl":"https://gitlab.com","groupsClaim":"groups"}}`},
			want: `camps-infra:security.oidc.groupsClaim: "groups" is in GitLab's userinfo, not in its ID token, which is all the API server reads: use groups_direct`},
		{name: "OIDC client ID where it was", set: map[string]string{key("security"): `{"oidc":{"issuerUrl":"https://gitlab.com","groupsClaim":"groups_direct","clientId":"42"}}`},
			want: "camps-infra:security.oidc: unknown field \"clientId\": it is the top-level key oidcClientId now (`pulumi config set oidcClientId <id>`)"},
		{name: "OIDC without its client ID", secrets: withoutKey(stackrun.OperatorValues(), key("oidcClientId")),
			want: "camps-infra:oidcClientId: is not set, and security.oidc needs it"},
		{name: "a group without the OIDC prefix", set: map[string]string{key("security"): `{"oidc":{"issuerUrl":"https://gitlab.com","groupsClaim":"groups_direct","prefix":"gitlab:"},"groups":{"auditors":"camps-ch/auditors"}}`},
			want: `camps-infra:security.groups.auditors: "camps-ch/auditors" lacks the OIDC prefix "gitlab:": the API server names every OIDC group gitlab:<group>, so no one would be in it`},
		{name: "a deployer group without the OIDC prefix", stack: "prod", set: map[string]string{key("namespaces"): `[{"name":"production","deployerGroup":"production-deployers"}]`},
			want: `camps-infra:namespaces[0].deployerGroup: "production-deployers" lacks the OIDC prefix "gitlab:"`},
		{name: "break-glass shared with admins", set: map[string]string{key("security"): `{"groups":{"platformAdmins":"oidc:ops","breakGlass":"oidc:ops"}}`},
			want: `camps-infra:security.groups.breakGlass: "oidc:ops" is also another role's group: break-glass must be its own`},
		{name: "OpenBao on one zone", set: map[string]string{key("security"): `{"openbao":{"enabled":true}}`},
			want: `camps-infra:security.openbao.enabled: is true, but OpenBao's three Raft replicas need a created cluster with pools in three zones (this one has 1)`},
		{name: "OpenBao on an attached stack", stack: "prod", set: map[string]string{key("security"): `{"openbao":{"enabled":true}}`},
			want: `camps-infra:security.openbao.enabled: is true, but this stack does not install the platform`},
		{name: "OpenBao volume of no size", stack: "prod", set: map[string]string{key("phase"): "2", key("security"): `{"openbao":{"storageSize":"0"}}`},
			want: `camps-infra:security.openbao.storageSize: "0" is not a positive size`},
		{name: "OpenBao audit volume unparsable", stack: "prod", set: map[string]string{key("phase"): "2", key("security"): `{"openbao":{"auditStorageSize":"ten gigs"}}`},
			want: `camps-infra:security.openbao.auditStorageSize:`},
		{name: "external secrets without OpenBao", set: map[string]string{key("security"): `{"externalSecrets":true}`},
			want: `camps-infra:security.externalSecrets: is true, but security.openbao is off: the secrets come from OpenBao`},
		{name: "audit on an attached cluster", stack: "prod", set: map[string]string{key("security"): `{"audit":{"enabled":true}}`},
			want: `camps-infra:security.audit.enabled: is true, but this stack does not create its cluster: the API server is its owner's`},
		{name: "audit sink outside the zone", stack: "prod", set: map[string]string{key("phase"): "2", key("security"): `{"audit":{"host":"audit.example.org"}}`},
			want: `camps-infra:security.audit.host: "audit.example.org" is not in the zone camps.ch, where its record goes`},
		{name: "audit sink host with a port", stack: "prod", set: map[string]string{key("phase"): "2", key("security"): `{"audit":{"host":"audit.camps.ch:8443"}}`},
			want: `camps-infra:security.audit.host: "audit.camps.ch:8443" is not a host name`},
		{name: "audit kept no day", stack: "prod", set: map[string]string{key("phase"): "2", key("security"): `{"audit":{"retentionDays":0}}`},
			want: `camps-infra:security.audit.retentionDays: 0 is not between 1 and 3650`},
		{name: "audit without object storage", stack: "prod", set: map[string]string{key("phase"): "2", key("data"): `{"enabled":false}`},
			want: `camps-infra:security.audit.enabled: is true, but data.enabled is false: the audit log goes to the stack's object storage`},
		{name: "route to an unknown receiver", secrets: receivers,
			set:  map[string]string{key("platform"): `{"monitoring":{"grafanaHost":"g.camps.ch","alertRoutes":{"warning":["chat"]}}}`},
			want: `camps-infra:platform.monitoring.alertRoutes.warning[0]: "chat" is not the name of a receiver in alertmanagerReceivers (pager)`},
	}...)
	seen := map[string]bool{}
	for _, tt := range tests {
		if seen[tt.want] {
			t.Fatalf("two cases expect %q", tt.want)
		}
		seen[tt.want] = true
		t.Run(tt.name, func(t *testing.T) {
			stack := tt.stack
			if stack == "" {
				stack = "uat"
			}
			res, err := run(t, stackrun.Options{Stack: stack, Set: tt.set, Plain: tt.plain, Secrets: tt.secrets})
			if err == nil {
				t.Fatalf("want an error containing %q, got none", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not contain\n  %s\ngot\n  %v", tt.want, err)
			}
			if n := res.Recorder.Len(); n != 0 {
				t.Errorf("%d resources registered before the error, want 0", n)
			}
		})
	}
	if len(tests) < 25 {
		t.Errorf("%d invalid configurations, want at least 25", len(tests))
	}
}

// TestEveryProblemAtOnce checks that one run reports all problems.
func TestEveryProblemAtOnce(t *testing.T) {
	res, err := run(t, stackrun.Options{
		Stack: "uat",
		Set: map[string]string{
			key("phase"):      "9",
			key("cluster"):    `{"pools":[{"name":"p1","zone":"az-9"}]}`,
			key("namespaces"): `[{"name":"uat","egressCidrs":["x"]}]`,
		},
		Secrets: map[string]string{},
	})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{
		`camps-infra:phase: 9 is not a phase`,
		`camps-infra:cluster.pools[0].zone: "az-9" is not a zone of region dc4-a`,
		`camps-infra:namespaces[0].egressCidrs[0]: "x" is not a CIDR`,
		`camps-infra:registryToken: is not set`,
		`camps-infra:cloudflareDnsToken: is not set`,
		"camps-infra:oidcClientId: is not set, and security.oidc needs it: the ID of the application at https://gitlab.com that signs people in to this cluster (docs/access.md says how to create it); set it with `pulumi config set oidcClientId <application id>`",
		`invalid configuration (6 problems)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := res.Recorder.Len(); n != 0 {
		t.Errorf("%d resources registered, want 0", n)
	}
}

// TestDecodeProblemsNameTheirElement checks that type errors and unknown
// fields inside lists name the element, all at once, without follow-on
// problems about values the user never wrote.
func TestDecodeProblemsNameTheirElement(t *testing.T) {
	_, err := run(t, stackrun.Options{Stack: "uat", Set: map[string]string{
		key("cluster"): `{"pools":[{"name":"p1","zone":"az-1","flavor":"a8-ram32-disk100-perf1"},{"zone":"az-2","minInstances":"x","flavour":"y"}]}`,
	}})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{
		`camps-infra:cluster.pools[1].minInstances: got a JSON string, want an integer`,
		`camps-infra:cluster.pools[1]: unknown field "flavour"`,
		`invalid configuration (2 problems)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// withoutKey is values less one key.
func withoutKey(values map[string]string, key string) map[string]string {
	delete(values, key)
	return values
}
