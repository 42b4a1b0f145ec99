// Package convention holds what the components agree on, so that none
// of them imports another: the Pod Security levels, the platform's fixed
// names (namespaces, storage and ingress classes, issuers, labels the
// monitoring release selects), container resources and their sums, the
// network peers every namespace admits, and the isolated namespace they
// are all built on. It is a building block: it imports no component.
package convention

// Pod Security Standards levels.
const (
	Restricted = "restricted"
	Baseline   = "baseline"
	Privileged = "privileged"
)

// Namespaces of the platform's releases.
const (
	// IngressNamespace holds the NGINX ingress controller.
	IngressNamespace = "ingress-nginx"
	// CertManagerNamespace holds cert-manager and the DNS-01 token.
	CertManagerNamespace = "cert-manager"
	// LonghornNamespace holds Longhorn.
	LonghornNamespace = "longhorn-system"
	// MonitoringNamespace holds kube-prometheus-stack and the blackbox exporter.
	MonitoringNamespace = "monitoring"
	// CloudNativePGNamespace holds the CloudNativePG operator and its Barman Cloud plugin.
	CloudNativePGNamespace = "cnpg-system"
)

// Classes the platform provides to every workload.
const (
	// StorageClass is Longhorn's default StorageClass: every volume
	// replicated platform.longhorn.replicas times across the nodes.
	StorageClass = "longhorn"
	// LocalStorageClass is Longhorn's class for workloads that replicate
	// themselves (CloudNativePG instances, OpenBao's Raft voters,
	// Prometheus replicas): one replica, kept on the pod's node
	// (strict-local data locality), so the data is not copied three times
	// over and reads and writes stay on the node.
	LocalStorageClass = "longhorn-local"
	// ScratchStorageClass is Longhorn's class for throwaway volumes (the
	// restore drill's database): one replica, deleted with its claim.
	ScratchStorageClass = "longhorn-scratch"
	// IngressClass is the NGINX ingress controller's IngressClass.
	IngressClass = "nginx"
)

// ClusterIssuers of cert-manager.
const (
	IssuerProduction = "letsencrypt-prod"
	IssuerStaging    = "letsencrypt-staging"
)

// CloudflareTokenSecret and CloudflareTokenKey are the Secret in
// cert-manager's namespace that holds the DNS-01 solver's Cloudflare token,
// and its key.
const CloudflareTokenSecret, CloudflareTokenKey = "cloudflare-api-token", "api-token"

// Grafana's dashboard sidecar picks up ConfigMaps labelled DashboardLabel:
// DashboardLabelValue in every namespace, into the folder their
// DashboardFolderLabel annotation names.
const (
	DashboardLabel       = "grafana_dashboard"
	DashboardLabelValue  = "1"
	DashboardFolderLabel = "grafana_folder"
)

// RuleLabels are the labels the monitoring release's Prometheus selects
// rules, ServiceMonitors, PodMonitors and Probes by.
func RuleLabels(release string) map[string]string { return map[string]string{"release": release} }

// BackupCopyJobPrefix begins the name of each CronJob that copies a
// bucket to the other region, backup-copy-<what> (postgres, longhorn,
// audit); the freshness alert selects them by it.
const BackupCopyJobPrefix = "backup-copy-"

// DumpJobSuffix ends the name of the CronJob that dumps a PostgreSQL
// cluster, <cluster>-dump; the freshness alert selects them by it.
const DumpJobSuffix = "-dump"

// CanaryNewest is the metric CloudNativePG's exporter reports from each
// database's canary (a custom query): the time of the newest heartbeat
// row, in seconds since the epoch.
const CanaryNewest = "cnpg_camps_canary_newest_timestamp_seconds"
