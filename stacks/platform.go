package stacks

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gitlab.com/camps-ch/infra/infra/cloudflareip"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/data"
	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/infra/platform"
	"gitlab.com/camps-ch/infra/infra/security"
)

// Platform is the `platform` key: the in-cluster platform.
type Platform struct {
	// Install says whether this stack installs the in-cluster platform.
	// Default: true when the stack creates its cluster or takes a
	// kubeconfig, false when it attaches to another stack's cluster.
	Install *bool `json:"install"`
	// Charts override where each chart comes from.
	Charts Charts `json:"charts"`
	// Ingress configures the NGINX ingress controller.
	Ingress IngressConfig `json:"ingress"`
	// CertManager configures cert-manager and the Let's Encrypt issuers.
	CertManager CertManagerConfig `json:"certManager"`
	// Longhorn configures the storage.
	Longhorn LonghornConfig `json:"longhorn"`
	// Monitoring configures Prometheus, Alertmanager and Grafana.
	Monitoring MonitoringConfig `json:"monitoring"`
	// MetricsServer configures metrics-server, the resource metrics API
	// the autoscalers scale on.
	MetricsServer MetricsServerConfig `json:"metricsServer"`
}

// MetricsServerConfig is `platform.metricsServer`.
type MetricsServerConfig struct {
	// Enabled installs metrics-server; turn it off when the cluster
	// already serves metrics.k8s.io (`kubectl get apiservice
	// v1beta1.metrics.k8s.io` answers). Default: true.
	Enabled *bool `json:"enabled"`
	// KubeletInsecureTLS skips the verification of the kubelets' serving
	// certificates, for kubelets that serve self-signed ones (its log says
	// "x509: cannot validate certificate"). Default: false.
	KubeletInsecureTLS bool `json:"kubeletInsecureTls"`
}

// Charts are chart sources by release: an HTTP or OCI repository
// (https://..., oci://...) serving the same chart, or a local chart
// directory (./..., /...). The version stays pinned. Default: upstream.
type Charts struct {
	// Ingress is the source of the NGINX ingress controller's chart.
	Ingress string `json:"ingress"`
	// CertManager is cert-manager's.
	CertManager string `json:"certManager"`
	// Longhorn is Longhorn's.
	Longhorn string `json:"longhorn"`
	// Monitoring is kube-prometheus-stack's.
	Monitoring string `json:"monitoring"`
	// Blackbox is the blackbox exporter's.
	Blackbox string `json:"blackbox"`
	// Pushgateway is the Prometheus Pushgateway's (the restore drills'
	// results).
	Pushgateway string `json:"pushgateway"`
	// CloudNativePG is the PostgreSQL operator's.
	CloudNativePG string `json:"cloudnativePg"`
	// BarmanCloud is the operator's backup plugin's.
	BarmanCloud string `json:"barmanCloud"`
	// MetricsServer is metrics-server's.
	MetricsServer string `json:"metricsServer"`
	// OpenBao is OpenBao's (phase 2).
	OpenBao string `json:"openbao"`
	// ExternalSecrets is the External Secrets Operator's (phase 2).
	ExternalSecrets string `json:"externalSecrets"`
	// AuditSink is Vector's, the audit sink (phase 2).
	AuditSink string `json:"auditSink"`
}

// IngressConfig is `platform.ingress`.
type IngressConfig struct {
	// Replicas of the controller, the autoscaler's minimum. Default: by node count.
	Replicas *int `json:"replicas"`
	// MaxReplicas is the autoscaler's maximum; above replicas, a
	// HorizontalPodAutoscaler scales the controller on its CPU (it needs
	// the resource metrics API: platform.metricsServer). Default: by node count.
	MaxReplicas *int `json:"maxReplicas"`
	// OriginLock admits only Cloudflare's ranges at the load balancer and
	// takes the client address from CF-Connecting-IP. Default: true.
	OriginLock *bool `json:"originLock"`
	// LoadBalancerIP is the reserved floating IP of the load balancer.
	// Default: none (the edge reserves one).
	LoadBalancerIP string `json:"loadBalancerIp"`
	// LoadBalancerNetworks are the networks Octavia connects from.
	// Default: the RFC 1918 private ranges.
	LoadBalancerNetworks []string `json:"loadBalancerNetworks"`
}

// CertManagerConfig is `platform.certManager`.
type CertManagerConfig struct {
	// Email is the ACME account contact. Default: none.
	Email string `json:"email"`
}

// LonghornConfig is `platform.longhorn`.
type LonghornConfig struct {
	// Replicas of every volume on the default class (longhorn); volumes of
	// workloads that replicate themselves have one, on the class
	// longhorn-local. Default: by node count.
	Replicas *int `json:"replicas"`
	// InstanceManagerCPU is the percentage of each node's CPU reserved for
	// the volumes' engines and replicas (Longhorn's own default). Default: by node count.
	InstanceManagerCPU *int `json:"instanceManagerCpu"`
	// Snapshot is the recurring snapshot job. Default: daily at 02:00, 7 kept.
	Snapshot RecurringJobConfig `json:"snapshot"`
	// BackupTarget is the S3 backup store, s3://<bucket>@<region>/. Default: none.
	BackupTarget string `json:"backupTarget"`
	// BackupCredentialSecret names the Secret in longhorn-system with the
	// S3 credentials. Required with backupTarget.
	BackupCredentialSecret string `json:"backupCredentialSecret"`
}

// RecurringJobConfig is a Longhorn recurring job.
type RecurringJobConfig struct {
	// Cron is the schedule, five fields.
	Cron string `json:"cron"`
	// Retain is how many are kept.
	Retain *int `json:"retain"`
}

// MonitoringConfig is `platform.monitoring`.
type MonitoringConfig struct {
	// Retention of Prometheus. Default: by node count.
	Retention string `json:"retention"`
	// StorageSize of Prometheus's volume. Default: by node count.
	StorageSize string `json:"storageSize"`
	// PrometheusReplicas is 1 or 2. Default: by node count.
	PrometheusReplicas *int `json:"prometheusReplicas"`
	// GrafanaHost is Grafana's public host. Required when the platform is installed.
	GrafanaHost string `json:"grafanaHost"`
	// AlertRoutes name the receivers (of the secret alertmanagerReceivers)
	// of each severity. Default: every receiver.
	AlertRoutes AlertRoutesConfig `json:"alertRoutes"`
}

// AlertRoutesConfig is `platform.monitoring.alertRoutes`.
type AlertRoutesConfig struct {
	// Critical alerts go to these receivers, repeated hourly.
	Critical []string `json:"critical"`
	// Warning alerts, and alerts without a severity, go to these
	// receivers, repeated every 12 hours.
	Warning []string `json:"warning"`
}

// Cloudflare is the `cloudflare` key.
type Cloudflare struct {
	// Ranges are Cloudflare's published address ranges. Default: the list
	// in infra/cloudflareip.
	Ranges []string `json:"ranges"`
}

// platformPreset is what a phase fills in for the platform.
type platformPreset struct {
	ingressReplicas    int
	ingressMaxReplicas int
	longhornReplicas   int
	retention          string
	storageSize        string
	prometheusReplicas int
	prometheus         convention.Resources
}

// platformPresets size the platform by the cluster it runs on, not by the
// phase: a single node (phase 1, and uat in every phase) or several
// (prod's HA cluster in phase 2).
var platformPresets = map[bool]platformPreset{
	// One Longhorn replica on one node: a second would sit on the same
	// disk, doubling the space for no protection against the disk's or the
	// node's loss (the design's phase 1 said 2; snapshots and backups are
	// what protect a single node's volumes).
	false: {ingressReplicas: 1, ingressMaxReplicas: 1, longhornReplicas: 1, retention: "10d", storageSize: "8Gi",
		prometheusReplicas: 1, prometheus: platform.DefaultMonitoringResources.Prometheus},
	true: {ingressReplicas: 3, ingressMaxReplicas: 9, longhornReplicas: 3, retention: "15d", storageSize: "8Gi",
		prometheusReplicas: 2, prometheus: convention.Resources{
			Requests: convention.ResourceList{CPU: "500m", Memory: "2Gi"},
			Limits:   convention.ResourceList{CPU: "2", Memory: "4Gi"},
		}},
}

// Snapshot job defaults.
const (
	defaultSnapshotCron   = "0 2 * * *"
	defaultSnapshotRetain = 7
)

// multiNode tells whether the stack's cluster has more than one node.
func (c *Config) multiNode() bool { return len(c.nodes()) > 1 }

func (c *Config) applyPlatformPresets() {
	p := platformPresets[c.multiNode()]
	pl := &c.Platform
	if pl.Ingress.Replicas == nil {
		pl.Ingress.Replicas = ptr(p.ingressReplicas)
	}
	if pl.Ingress.MaxReplicas == nil {
		pl.Ingress.MaxReplicas = ptr(max(p.ingressMaxReplicas, *pl.Ingress.Replicas))
	}
	if pl.Ingress.OriginLock == nil {
		pl.Ingress.OriginLock = ptr(true)
	}
	if pl.MetricsServer.Enabled == nil {
		pl.MetricsServer.Enabled = ptr(true)
	}
	if pl.Longhorn.Replicas == nil {
		pl.Longhorn.Replicas = ptr(p.longhornReplicas)
	}
	if pl.Longhorn.InstanceManagerCPU == nil {
		pl.Longhorn.InstanceManagerCPU = ptr(platform.DefaultInstanceManagerCPU)
	}
	fill(&pl.Longhorn.Snapshot.Cron, defaultSnapshotCron)
	if pl.Longhorn.Snapshot.Retain == nil {
		pl.Longhorn.Snapshot.Retain = ptr(defaultSnapshotRetain)
	}
	fill(&pl.Monitoring.Retention, p.retention)
	fill(&pl.Monitoring.StorageSize, p.storageSize)
	if pl.Monitoring.PrometheusReplicas == nil {
		pl.Monitoring.PrometheusReplicas = ptr(p.prometheusReplicas)
	}
	if c.Cloudflare.Ranges == nil {
		c.Cloudflare.Ranges = append([]string(nil), cloudflareip.Ranges...)
	}
}

var (
	flavorParts = regexp.MustCompile(`^a([0-9]+)-ram([0-9]+)-disk([0-9]+)-perf[0-9]+$`)
	cronField   = regexp.MustCompile(`^[0-9*/,\-]+$`)
	retention   = regexp.MustCompile(`^[0-9]+(ms|s|m|h|d|w|y)$`)
)

// Node is one node's size, read from its flavor name.
type Node struct {
	MilliCPU, Memory, Disk int64
}

// parseFlavor reads a<cpu>-ram<GB>-disk<GB>-perf<n>.
func parseFlavor(flavor string) (Node, bool) {
	m := flavorParts.FindStringSubmatch(flavor)
	if m == nil {
		return Node{}, false
	}
	cpu, _ := strconv.ParseInt(m[1], 10, 64)
	ram, _ := strconv.ParseInt(m[2], 10, 64)
	disk, _ := strconv.ParseInt(m[3], 10, 64)
	return Node{MilliCPU: cpu * 1000, Memory: ram << 30, Disk: disk * 1_000_000_000}, true
}

// referenceNode is the architecture's phase 1 node (4 vCPU, 8 GB, 50 GB),
// assumed for a cluster made elsewhere, whose nodes the stack cannot see.
var referenceNode = Node{MilliCPU: 4000, Memory: 8 << 30, Disk: 50_000_000_000}

// nodes returns the cluster's smallest set of nodes: each pool at its
// minimum, or the reference node for a cluster made elsewhere.
func (c *Config) nodes() []Node {
	if c.Cluster.Mode != ModeCreate {
		return []Node{referenceNode}
	}
	var out []Node
	for _, p := range c.Cluster.Pools {
		n, ok := parseFlavor(p.Flavor)
		if !ok || p.MinInstances == nil {
			continue
		}
		for range *p.MinInstances {
			out = append(out, n)
		}
	}
	return out
}

// platformBudgetShare is the most of the nodes' CPU and memory the
// platform may request, in percent.
const platformBudgetShare = 40

func (c *Config) validatePlatform(ps *Problems) {
	for i, cidr := range c.Cloudflare.Ranges {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			ps.add(fmt.Sprintf("cloudflare.ranges[%d]", i), "%q is not a CIDR", cidr)
		}
	}
	if !*c.Platform.Install {
		return
	}
	pl := c.Platform
	if *pl.Ingress.OriginLock {
		switch v4 := 0; {
		case len(c.Cloudflare.Ranges) == 0:
			ps.add("cloudflare.ranges", "is empty, but the origin lock (platform.ingress.originLock) admits only them")
		default:
			for _, r := range c.Cloudflare.Ranges {
				if p, err := netip.ParsePrefix(r); err == nil && p.Addr().Is4() {
					v4++
				}
			}
			if v4 == 0 {
				ps.add("cloudflare.ranges", "has no IPv4 range, but the origin lock admits only them at the IPv4 load balancer: it would admit everyone")
			}
		}
	}
	charts := map[string]string{"ingress": pl.Charts.Ingress, "certManager": pl.Charts.CertManager,
		"longhorn": pl.Charts.Longhorn, "monitoring": pl.Charts.Monitoring, "blackbox": pl.Charts.Blackbox, "pushgateway": pl.Charts.Pushgateway,
		"cloudnativePg": pl.Charts.CloudNativePG, "barmanCloud": pl.Charts.BarmanCloud, "metricsServer": pl.Charts.MetricsServer,
		"openbao": pl.Charts.OpenBao, "externalSecrets": pl.Charts.ExternalSecrets, "auditSink": pl.Charts.AuditSink}
	for _, k := range sortedKeys(charts) {
		if src := charts[k]; src != "" && !validChartSource(src) {
			ps.add("platform.charts."+k, "%q is not https://, oci:// or a chart directory (./ or /)", src)
		}
	}
	if r := *pl.Ingress.Replicas; r < 1 || r > 10 {
		ps.add("platform.ingress.replicas", "%d is not between 1 and 10", r)
	}
	if m := *pl.Ingress.MaxReplicas; m < *pl.Ingress.Replicas {
		ps.add("platform.ingress.maxReplicas", "%d is below platform.ingress.replicas %d", m, *pl.Ingress.Replicas)
	}
	if ip := pl.Ingress.LoadBalancerIP; ip != "" {
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
			ps.add("platform.ingress.loadBalancerIp", "%q is not an IPv4 address", ip)
		}
	}
	for i, cidr := range pl.Ingress.LoadBalancerNetworks {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			ps.add(fmt.Sprintf("platform.ingress.loadBalancerNetworks[%d]", i), "%q is not a CIDR", cidr)
		}
	}
	if e := pl.CertManager.Email; e != "" && !strings.Contains(e, "@") {
		ps.add("platform.certManager.email", "%q is not an email address", e)
	}
	if !c.DNSToken.IsSet() && !*c.Security.ExternalSecrets {
		ps.add(KeyDNSToken, "is not set; cert-manager needs it for DNS-01: `pulumi config set --secret %s <token>`", KeyDNSToken)
	}
	if receivers, err := c.receivers(); err != nil {
		ps.add(KeyReceivers, "%v", err)
	} else if _, err := platform.AlertmanagerConfig(receivers, platform.AlertRoutes{}); err != nil {
		ps.add(KeyReceivers, "%v", err)
	} else {
		c.validateAlertRoutes(receivers, ps)
	}
	// The URL holds the check's key: the message never quotes it.
	if h := c.Heartbeat; h.IsSet() {
		if u, err := url.Parse(h.Reveal()); err != nil || u.Scheme != "https" || u.Host == "" {
			ps.add(KeyHeartbeat, "is not an https:// URL")
		}
	}
	lh := pl.Longhorn
	if r := *lh.Replicas; r < 1 || r > 20 {
		ps.add("platform.longhorn.replicas", "%d is not between 1 and 20", r)
	}
	if cpu := *lh.InstanceManagerCPU; cpu < 0 || cpu > 40 {
		ps.add("platform.longhorn.instanceManagerCpu", "%d is not a percentage between 0 and 40", cpu)
	}
	if f := strings.Fields(lh.Snapshot.Cron); len(f) != 5 || !allMatch(f, cronField) {
		ps.add("platform.longhorn.snapshot.cron", "%q is not a five-field cron schedule", lh.Snapshot.Cron)
	}
	if *lh.Snapshot.Retain < 1 {
		ps.add("platform.longhorn.snapshot.retain", "%d is below 1", *lh.Snapshot.Retain)
	}
	if (lh.BackupTarget == "") != (lh.BackupCredentialSecret == "") {
		ps.add("platform.longhorn.backupTarget", "and backupCredentialSecret go together")
	} else if t := lh.BackupTarget; t != "" && (!strings.HasPrefix(t, "s3://") || !strings.HasSuffix(t, "/") || !strings.Contains(t, "@")) {
		ps.add("platform.longhorn.backupTarget", "%q is not s3://<bucket>@<region>/", t)
	}
	mon := pl.Monitoring
	if !retention.MatchString(mon.Retention) {
		ps.add("platform.monitoring.retention", "%q is not a Prometheus duration such as 10d", mon.Retention)
	}
	if r := *mon.PrometheusReplicas; r < 1 || r > 2 {
		ps.add("platform.monitoring.prometheusReplicas", "%d is not 1 or 2", r)
	}
	if !hostName.MatchString(mon.GrafanaHost) {
		ps.add("platform.monitoring.grafanaHost", "%q is not a host name such as grafana.camps.ch", mon.GrafanaHost)
	}
	if len(*ps) == 0 {
		c.validateBudget(ps)
	}
}

// validateBudget refuses a platform that requests more than
// platformBudgetShare of the nodes' CPU or memory.
func (c *Config) validateBudget(ps *Problems) {
	b := c.Budget()
	if b.Total.MilliCPU > b.Limit.MilliCPU {
		ps.add("platform", "requests %dm CPU, more than %d %% of the nodes' %dm", b.Total.MilliCPU, platformBudgetShare, b.Capacity.MilliCPU)
	}
	if b.Total.Memory > b.Limit.Memory {
		ps.add("platform", "requests %dMi memory, more than %d %% of the nodes' %dMi", b.Total.Memory>>20, platformBudgetShare, b.Capacity.Memory>>20)
	}
}

func allMatch(fields []string, re *regexp.Regexp) bool {
	for _, f := range fields {
		if !re.MatchString(f) {
			return false
		}
	}
	return true
}

func validChartSource(src string) bool {
	for _, p := range []string{"https://", "oci://", "./", "/"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	return false
}

// chart applies a configured source to a pinned chart.
func chart(pinned helm.Chart, src string) *helm.Chart {
	c := pinned
	switch {
	case src == "":
	case strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "oci://"):
		c.Repository = src
	default: // a local chart directory
		c.Name, c.Repository = src, ""
	}
	return &c
}

// receivers reads the receivers secret.
func (c *Config) receivers() ([]map[string]any, error) {
	var receivers []map[string]any
	if c.Receivers.IsSet() {
		if err := yaml.Unmarshal([]byte(c.Receivers.Reveal()), &receivers); err != nil {
			// The YAML error quotes the input; keep the secret out of it.
			return nil, fmt.Errorf("is not a YAML list of Alertmanager receivers")
		}
	}
	return receivers, nil
}

// validateAlertRoutes checks that the routes name receivers.
func (c *Config) validateAlertRoutes(receivers []map[string]any, ps *Problems) {
	var names []string
	for _, r := range receivers {
		name, _ := r["name"].(string)
		names = append(names, name)
	}
	routes := c.Platform.Monitoring.AlertRoutes
	for _, r := range []struct {
		severity string
		to       []string
	}{{"critical", routes.Critical}, {"warning", routes.Warning}} {
		severity := r.severity
		for i, n := range r.to {
			if !slices.Contains(names, n) {
				ps.add(fmt.Sprintf("platform.monitoring.alertRoutes.%s[%d]", severity, i),
					"%q is not the name of a receiver in %s (%s)", n, KeyReceivers, strings.Join(names, ", "))
			}
		}
	}
}

// alertmanagerConfig renders alertmanager.yaml from the receivers secret
// and the routes.
func (c *Config) alertmanagerConfig() (string, error) {
	receivers, err := c.receivers()
	if err != nil {
		return "", err
	}
	routes := c.Platform.Monitoring.AlertRoutes
	return platform.AlertmanagerConfig(receivers, platform.AlertRoutes{
		Critical: routes.Critical, Warning: routes.Warning, HeartbeatURL: c.Heartbeat.Reveal(),
	})
}

// platformInputs are what the platform's components take from resources
// created before them. The budget builds the same arguments without them.
type platformInputs struct {
	// monitoring is the monitoring release: what needs its CRDs waits for
	// it, the blackbox exporter joins its namespace.
	monitoring *platform.Monitoring
	// certManager is cert-manager: the Barman Cloud plugin's certificate needs it.
	certManager *platform.CertManager
	// alerting is Alertmanager's configuration (a secret).
	alerting pulumi.StringInput
	// loadBalancerIP is the reserved floating IP of the ingress.
	loadBalancerIP pulumi.StringInput
	// store holds Longhorn's backups.
	store *data.ObjectStorage
}

// monitoringReady are what waits for the monitoring CRDs.
func (in platformInputs) monitoringReady() []pulumi.Resource {
	if in.monitoring == nil {
		return nil
	}
	return []pulumi.Resource{in.monitoring.Release}
}

// monitoringArgs are kube-prometheus-stack's arguments.
func (c *Config) monitoringArgs(in platformInputs) *platform.MonitoringArgs {
	pl := c.Platform
	resources := platform.DefaultMonitoringResources
	resources.Prometheus = platformPresets[c.multiNode()].prometheus
	return &platform.MonitoringArgs{
		Chart:              chart(platform.MonitoringChart, pl.Charts.Monitoring),
		Retention:          pl.Monitoring.Retention,
		StorageSize:        pl.Monitoring.StorageSize,
		StorageClass:       storageClassFor(*pl.Monitoring.PrometheusReplicas),
		PrometheusReplicas: *pl.Monitoring.PrometheusReplicas,
		Nodes:              max(len(c.nodes()), 1),
		GrafanaHost:        pl.Monitoring.GrafanaHost,
		IngressClass:       convention.IngressClass,
		ClusterIssuer:      convention.IssuerProduction,
		Resources:          &resources,
		AlertmanagerConfig: in.alerting,
	}
}

// blackboxArgs are the blackbox exporter's, in the monitoring namespace.
func (c *Config) blackboxArgs(in platformInputs) *platform.BlackboxArgs {
	a := &platform.BlackboxArgs{Chart: chart(platform.BlackboxChart, c.Platform.Charts.Blackbox)}
	if in.monitoring != nil {
		a.Namespace = in.monitoring.Namespace
	}
	return a
}

// pushgatewayArgs are the Pushgateway's, in the monitoring namespace, its
// volume replicated like any single-instance one.
func (c *Config) pushgatewayArgs(in platformInputs) *platform.PushgatewayArgs {
	a := &platform.PushgatewayArgs{
		Chart:        chart(platform.PushgatewayChart, c.Platform.Charts.Pushgateway),
		StorageClass: storageClassFor(1),
	}
	if in.monitoring != nil {
		a.Namespace, a.MonitoringReady = in.monitoring.Namespace, in.monitoringReady()
	}
	return a
}

// ingressArgs are the NGINX ingress controller's, on the reserved address
// (or the configured one).
func (c *Config) ingressArgs(in platformInputs) *platform.IngressArgs {
	pl := c.Platform
	a := &platform.IngressArgs{
		Chart:                chart(platform.IngressChart, pl.Charts.Ingress),
		Replicas:             *pl.Ingress.Replicas,
		MaxReplicas:          *pl.Ingress.MaxReplicas,
		CloudflareRanges:     c.Cloudflare.Ranges,
		OriginLock:           *pl.Ingress.OriginLock,
		LoadBalancerNetworks: pl.Ingress.LoadBalancerNetworks,
		MonitoringReady:      in.monitoringReady(),
		LoadBalancerIP:       in.loadBalancerIP,
	}
	if ip := pl.Ingress.LoadBalancerIP; ip != "" && in.loadBalancerIP == nil {
		a.LoadBalancerIP = pulumi.String(ip)
	}
	return a
}

// certManagerArgs are cert-manager's: its Cloudflare token from the
// configuration, or from OpenBao once security.externalSecrets is on.
func (c *Config) certManagerArgs(in platformInputs) *platform.CertManagerArgs {
	a := &platform.CertManagerArgs{
		Chart:           chart(platform.CertManagerChart, c.Platform.Charts.CertManager),
		Email:           c.Platform.CertManager.Email,
		MonitoringReady: in.monitoringReady(),
		ExternalToken:   *c.Security.ExternalSecrets,
	}
	if !*c.Security.ExternalSecrets {
		a.CloudflareToken = pulumi.ToSecret(pulumi.String(c.DNSToken.Reveal())).(pulumi.StringOutput)
	}
	return a
}

// longhornArgs are Longhorn's: sized to the nodes, with its backups in the
// stack's bucket when data.longhornBackups is on.
func (c *Config) longhornArgs(in platformInputs) *platform.LonghornArgs {
	lh := c.Platform.Longhorn
	nodes := c.nodes()
	var nodeCPU int64
	if len(nodes) > 0 {
		nodeCPU = nodes[0].MilliCPU
	}
	a := &platform.LonghornArgs{
		Chart:              chart(platform.LonghornChart, c.Platform.Charts.Longhorn),
		Replicas:           *lh.Replicas,
		Nodes:              max(len(nodes), 1),
		NodeMilliCPU:       nodeCPU,
		InstanceManagerCPU: *lh.InstanceManagerCPU,
		Snapshot:           platform.RecurringJob{Cron: lh.Snapshot.Cron, Retain: *lh.Snapshot.Retain},
		MonitoringReady:    in.monitoringReady(),
	}
	if t := lh.BackupTarget; t != "" {
		a.BackupTarget = &platform.BackupTarget{URL: t, CredentialSecret: lh.BackupCredentialSecret}
	}
	if *c.Data.LonghornBackups && in.store != nil {
		a.BackupTarget, a.Backup = c.longhornBackupTarget(in.store)
		if dr := c.Data.Drill; dr.Schedule != scheduleOff {
			rto, _ := time.ParseDuration(dr.RTOObjective)
			a.Drill = &platform.LonghornDrill{Schedule: dr.LonghornSchedule, RTO: rto, Pushgateway: platform.PushgatewayURL}
		}
	}
	return a
}

// metricsServerArgs: one replica on one node, two on several.
func (c *Config) metricsServerArgs() *platform.MetricsServerArgs {
	return &platform.MetricsServerArgs{
		Chart:              chart(platform.MetricsServerChart, c.Platform.Charts.MetricsServer),
		Replicas:           min(len(c.nodes()), 2),
		KubeletInsecureTLS: c.Platform.MetricsServer.KubeletInsecureTLS,
	}
}

// cloudNativePGArgs are the PostgreSQL operator's and its plugin's.
func (c *Config) cloudNativePGArgs(in platformInputs) *platform.CloudNativePGArgs {
	a := &platform.CloudNativePGArgs{
		Operator:        chart(platform.CloudNativePGChart, c.Platform.Charts.CloudNativePG),
		Plugin:          chart(platform.BarmanCloudChart, c.Platform.Charts.BarmanCloud),
		MonitoringReady: in.monitoringReady(),
	}
	if in.certManager != nil {
		a.CertManagerReady = []pulumi.Resource{in.certManager.Release}
	}
	return a
}

// Budget is the platform's share of the cluster's smallest node set.
type Budget struct {
	// Nodes is how many nodes the figures assume (each pool at its minimum).
	Nodes int `json:"nodes"`
	// Components are each component's requests, by release.
	Components map[string]convention.Requests `json:"components"`
	// Total is the sum of the components.
	Total convention.Requests `json:"total"`
	// Capacity is the nodes' CPU and memory, read from their flavors.
	Capacity convention.Requests `json:"capacity"`
	// Limit is platformBudgetShare of Capacity.
	Limit convention.Requests `json:"limit"`
	// CPUPercent and MemoryPercent are Total's share of Capacity.
	CPUPercent    float64 `json:"cpuPercent"`
	MemoryPercent float64 `json:"memoryPercent"`
	// Most is the cluster at its largest: the pools at their maximum, the
	// autoscalers at theirs.
	Most MostReplicas `json:"most"`
	// Storage is the volumes' budget on the same nodes.
	Storage StorageBudget `json:"storage"`
}

// String renders the budget for people.
func (b Budget) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "platform budget on %d node(s): %s requested of %s (%.1f %% CPU, %.1f %% memory; limit %d %%)",
		b.Nodes, b.Total, b.Capacity, b.CPUPercent, b.MemoryPercent, platformBudgetShare)
	for _, k := range sortedKeys(b.Components) {
		fmt.Fprintf(&s, "\n  %-22s %s", k, b.Components[k])
	}
	fmt.Fprintf(&s, "\n%s\n\n%s", b.Most, b.Storage)
	return s.String()
}

// platformRequests are each release's requests on the smallest node set,
// or, most, with every autoscaler at its maximum.
func (c *Config) platformRequests(most bool) map[string]convention.Requests {
	var none platformInputs
	ingress := c.ingressArgs(none).Requests()
	if most {
		ingress = c.ingressArgs(none).MostRequests()
	}
	rs := map[string]convention.Requests{
		"nginx-ingress":         ingress,
		"cert-manager":          c.certManagerArgs(none).Requests(),
		"longhorn":              c.longhornArgs(none).Requests(),
		"kube-prometheus-stack": c.monitoringArgs(none).Requests(),
		"blackbox-exporter":     c.blackboxArgs(none).Requests(),
		"pushgateway":           c.pushgatewayArgs(none).Requests(),
		"cloudnative-pg":        c.cloudNativePGArgs(none).Requests(),
	}
	if most {
		// Longhorn and node-exporter run on every node.
		lh, mon := c.longhornArgs(none), c.monitoringArgs(none)
		lh.Nodes, mon.Nodes = max(len(c.nodesAtMost()), 1), max(len(c.nodesAtMost()), 1)
		rs["longhorn"], rs["kube-prometheus-stack"] = lh.Requests(), mon.Requests()
	}
	if *c.Platform.MetricsServer.Enabled {
		rs["metrics-server"] = c.metricsServerArgs().Requests()
	}
	if *c.Security.OpenBao.Enabled {
		rs["openbao"] = security.OpenBaoRequests(openBaoReplicas)
		rs["external-secrets"] = security.ExternalSecretsRequests()
	}
	if *c.Security.Audit.Enabled {
		rs["audit-sink"] = security.AuditSinkRequests()
	}
	return rs
}

// Budget computes the platform's requests against the nodes' capacity.
func (c *Config) Budget() Budget {
	b := Budget{Nodes: len(c.nodes()), Components: c.platformRequests(false)}
	for _, r := range b.Components {
		b.Total = b.Total.Add(r)
	}
	for _, n := range c.nodes() {
		b.Capacity = b.Capacity.Add(convention.Requests{MilliCPU: n.MilliCPU, Memory: n.Memory})
	}
	b.Limit = convention.Requests{
		MilliCPU: b.Capacity.MilliCPU * platformBudgetShare / 100,
		Memory:   b.Capacity.Memory * platformBudgetShare / 100,
	}
	if b.Capacity.MilliCPU > 0 && b.Capacity.Memory > 0 {
		b.CPUPercent = float64(b.Total.MilliCPU*1000/b.Capacity.MilliCPU) / 10
		b.MemoryPercent = float64(b.Total.Memory*1000/b.Capacity.Memory) / 10
	}
	b.Most = c.MostReplicas()
	b.Storage = c.StorageBudget()
	return b
}
