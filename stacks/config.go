// Package stacks turns the Pulumi configuration of a stack into typed,
// validated settings (phase presets filled, explicit values kept) and
// composes the stack from the infra components. It is the only package
// that reads configuration, knows stack names or branches on the phase.
package stacks

import "reflect"

// Project is the Pulumi project name; configuration keys are namespaced by it.
const Project = "camps-infra"

// Configuration keys, without the project namespace, for the code that
// names one; each is the config tag of a Config field (a test checks).
const (
	KeyPhase           = "phase"
	KeyCluster         = "cluster"
	KeyInfomaniak      = "infomaniak"
	KeyInfomaniakToken = "infomaniakToken"
	KeyKubeconfig      = "kubeconfig"
	KeyPlatform        = "platform"
	KeyNamespaces      = "namespaces"
	KeyRegistry        = "registry"
	KeyRegistryToken   = "registryToken"
	KeyCloudflare      = "cloudflare"
	KeyDNSToken        = "cloudflareDnsToken"
	KeyReceivers       = "alertmanagerReceivers"
	KeyHeartbeat       = "alertmanagerHeartbeatUrl"
	KeyEdge            = "edge"
	KeyOpenStack       = "openstack"
	KeyOpenStackSecret = "openstackApplicationCredentialSecret"
	KeyCloudflareToken = "cloudflareApiToken"
	KeySLO             = "slo"
	KeyData            = "data"
	KeySecurity        = "security"
	KeyOIDCClientID    = "oidcClientId"
)

// Keys lists every configuration key the program reads: the config tags
// of Config's fields.
var Keys = configKeys(false)

// SecretKeys lists the keys that must be set as Pulumi secrets: those of
// type Secret.
var SecretKeys = configKeys(true)

// configKeys lists Config's config tags, or only the secret ones.
func configKeys(secretOnly bool) []string {
	var out []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if key := f.Tag.Get("config"); key != "" && (!secretOnly || f.Type == reflect.TypeFor[Secret]()) {
			out = append(out, key)
		}
	}
	return out
}

// Cluster modes.
const (
	// ModeCreate makes the stack create and own an Infomaniak KaaS cluster.
	ModeCreate = "create"
	// ModeAttach makes the stack use a cluster made elsewhere.
	ModeAttach = "attach"
)

// Config is the whole, typed configuration of one stack.
type Config struct {
	// Stack is the stack's name (uat, prod).
	Stack string

	// The keys, each named by its config tag (without the project
	// namespace); their doc comments are the configuration reference
	// (docs/configuration.md, Pulumi.yaml).

	// Phase is the architecture phase, 1 or 2: it selects the presets of
	// everything the configuration leaves unset. Phase 1 is one shared
	// one-node cluster owned by uat; in phase 2 every stack creates its own
	// cluster (prod: three zones, autoscaling). Default: 1.
	Phase int `config:"phase"`
	// Cluster is where the stack runs: a cluster it creates, or one it
	// attaches to.
	Cluster Cluster `config:"cluster"`
	// Infomaniak is the Infomaniak Public Cloud of a created cluster.
	Infomaniak Infomaniak `config:"infomaniak"`
	// InfomaniakToken is the Infomaniak API token. Default: none, the
	// provider reads INFOMANIAK_TOKEN.
	InfomaniakToken Secret `config:"infomaniakToken"`
	// Kubeconfig is the kubeconfig of a cluster made elsewhere (hand-made,
	// a local kind cluster), for attach mode without attachStack.
	// Default: none.
	Kubeconfig Secret `config:"kubeconfig"`
	// Platform is the in-cluster platform: NGINX ingress, cert-manager,
	// Longhorn, kube-prometheus-stack, the blackbox exporter, CloudNativePG
	// and, in phase 2, OpenBao, External Secrets and the audit sink.
	Platform Platform `config:"platform"`
	// Namespaces are the stack's application namespaces (uat: uat, prod:
	// production). Default: none.
	Namespaces []Namespace `config:"namespaces"`
	// Registry is the private container registry of the namespaces' pull
	// secret.
	Registry Registry `config:"registry"`
	// RegistryToken is the password of the registry deploy token
	// (read_registry scope). Required with namespaces, unless
	// security.externalSecrets takes it from OpenBao.
	RegistryToken Secret `config:"registryToken"`
	// Cloudflare is what the stack knows of Cloudflare.
	Cloudflare Cloudflare `config:"cloudflare"`
	// DNSToken is the Cloudflare API token of cert-manager's DNS-01
	// solver: Zone.DNS edit and Zone.Zone read on camps.ch only. Required
	// when the stack installs the platform, unless security.externalSecrets
	// takes it from OpenBao.
	DNSToken Secret `config:"cloudflareDnsToken"`
	// Receivers are the Alertmanager receivers: a YAML list in
	// Alertmanager's receiver format (they hold webhook URLs and
	// passwords); platform.monitoring.alertRoutes routes them by
	// severity. Default: none, alerts stay in Alertmanager.
	Receivers Secret `config:"alertmanagerReceivers"`
	// Heartbeat is a dead man's switch outside the cluster: an https URL
	// (a healthchecks-style service) that Alertmanager calls every minute
	// with the always-firing Watchdog, and that alerts when the calls
	// stop (Prometheus, Alertmanager or the whole cluster down). It holds
	// the check's key. Default: none, the Watchdog goes nowhere.
	Heartbeat Secret `config:"alertmanagerHeartbeatUrl"`
	// Edge is the path from the Internet to the ingress: the reserved
	// address and the Cloudflare records.
	Edge Edge `config:"edge"`
	// OpenStack is the OpenStack provider of the edge and the object
	// storage; empty fields fall back to the provider's OS_* environment.
	OpenStack OpenStack `config:"openstack"`
	// OpenStackSecret is the secret of openstack.applicationCredentialId.
	// Default: none, the provider reads OS_APPLICATION_CREDENTIAL_SECRET.
	OpenStackSecret Secret `config:"openstackApplicationCredentialSecret"`
	// CloudflareToken is Pulumi's own Cloudflare API token: the records
	// and, for prod, the zone's settings of camps.ch. Default: none, the
	// provider reads CLOUDFLARE_API_TOKEN.
	CloudflareToken Secret `config:"cloudflareApiToken"`
	// OIDCClientID is the ID of the application at security.oidc's issuer
	// that signs people in (a GitLab application, docs/access.md): not a
	// secret, but not known until the application exists, so the operator
	// sets it (`pulumi config set oidcClientId <id>`). Required where the
	// stack creates its cluster with security.oidc. Default: none.
	OIDCClientID string `config:"oidcClientId"`
	// SLO is the objectives of the stack's public hosts, recorded in its
	// application namespace.
	SLO SLOConfig `config:"slo"`
	// Data is the stack's object storage, backups and databases.
	Data DataConfig `config:"data"`
	// Security is how people reach the cluster, its audit log and where
	// application secrets come from.
	Security SecurityConfig `config:"security"`
}

// Edge is the `edge` key.
type Edge struct {
	// ReserveIP reserves a floating IP for the ingress load balancer.
	// Default: true when the stack creates its cluster and installs the platform.
	ReserveIP *bool `json:"reserveIp"`
	// FloatingIPPool is the external network. Default: ext-floating1.
	FloatingIPPool string `json:"floatingIpPool"`
	// Zone is the Cloudflare zone, e.g. camps.ch. Required with records.
	Zone string `json:"zone"`
	// Records are the stack's DNS records. The Grafana host of a stack
	// that installs the platform is added. Default: none.
	Records []RecordConfig `json:"records"`
	// ZoneSettings makes this stack own the zone's security settings and
	// CAA records; only prod may. Default: false.
	ZoneSettings bool `json:"zoneSettings"`
}

// RecordConfig is one entry of `edge.records`.
type RecordConfig struct {
	// Name is the full host name, e.g. www.camps.ch.
	Name string `json:"name"`
	// Type is the record type. Default: A.
	Type string `json:"type"`
	// Content is the record's value. Default for A: the ingress address.
	Content string `json:"content"`
	// Proxied sends traffic through Cloudflare. Default: true for A,
	// AAAA and CNAME.
	Proxied *bool `json:"proxied"`
}

// OpenStack is the `openstack` key; empty fields fall back to the OS_*
// environment of the OpenStack provider.
type OpenStack struct {
	// AuthURL is the identity endpoint. Default: Infomaniak's.
	AuthURL string `json:"authUrl"`
	// Region is the OpenStack region. Default: the cluster's region.
	Region string `json:"region"`
	// ProjectID is the project id (PCP-…). Default: OS_PROJECT_ID.
	ProjectID string `json:"projectId"`
	// ApplicationCredentialID is an application credential; its secret is
	// openstackApplicationCredentialSecret. Default: OS_APPLICATION_CREDENTIAL_ID.
	ApplicationCredentialID string `json:"applicationCredentialId"`
}

// Cluster is the `cluster` key.
type Cluster struct {
	// Mode is create or attach. Default: attach when kubeconfig is set, or
	// when attachStack is set and phase is 1; create otherwise.
	Mode string `json:"mode"`
	// AttachStack is the stack whose cluster this stack attaches to: in
	// phase 1, prod attaches to uat's shared cluster. From phase 2 it is
	// ignored unless mode is attach. Short names are qualified with the
	// organization and project.
	AttachStack string `json:"attachStack"`
	// Name is the cluster's name. Default: camps-<stack>.
	Name string `json:"name"`
	// Region is the Infomaniak region. Default: preset.
	Region string `json:"region"`
	// Pack is the KaaS control plane pack. Default: preset.
	Pack string `json:"pack"`
	// KubernetesVersion is the Kubernetes minor version. Default: preset.
	KubernetesVersion string `json:"kubernetesVersion"`
	// APIServerIPFilters is the CIDR allow-list of the API server. Default:
	// empty, the API server admits every address.
	APIServerIPFilters []string `json:"apiServerIpFilters"`
	// Pools are the instance pools, one per availability zone, each field
	// preset below. Default: one pool in az-1 in phase 1; one in each of
	// az-1, az-2 and az-3 in phase 2.
	Pools []Pool `json:"pools"`
}

// Pool is one entry of `cluster.pools`.
type Pool struct {
	// Name of the pool. Default: pool-<zone>.
	Name string `json:"name"`
	// Zone is the availability zone, e.g. az-1.
	Zone string `json:"zone"`
	// Flavor of the nodes; its name is assumed, not confirmed (see
	// presetFlavor): a preview checks it against the live catalogue.
	// Default: preset.
	Flavor string `json:"flavor"`
	// MinInstances is the smallest node count, at least 1. Default: preset.
	MinInstances *int `json:"minInstances"`
	// MaxInstances is the largest node count; above MinInstances the pool
	// autoscales; at least MinInstances. Default: preset.
	MaxInstances *int `json:"maxInstances"`
	// Labels of the nodes (node-role.kubernetes.io/*, node-restriction.kubernetes.io/*,
	// custom.kaas.infomaniak.cloud/*). Default: none.
	Labels map[string]string `json:"labels"`
}

// Infomaniak is the `infomaniak` key: the Public Cloud the cluster lives in.
type Infomaniak struct {
	// PublicCloudID is the Public Cloud id. Default: none, the provider reads
	// INFOMANIAK_PUBLIC_CLOUD_ID.
	PublicCloudID int `json:"publicCloudId"`
	// ProjectID is the Public Cloud project id. Default: none, the provider
	// reads INFOMANIAK_PROJECT_ID.
	ProjectID int `json:"projectId"`
}

// Namespace is one entry of `namespaces`: an application namespace.
type Namespace struct {
	// Name of the namespace, e.g. production or uat.
	Name string `json:"name"`
	// DeployerGroup is the group bound to the namespace's deployer role.
	// Default: <name>-deployers, after security.oidc's prefix when set.
	DeployerGroup string `json:"deployerGroup"`
	// DeployerTokenGeneration is the generation of the deployer
	// ServiceAccount's token, exported in deployerKubeconfigs: raise it to
	// rotate the token (the next up issues a new one and revokes the old).
	// Default: 1.
	DeployerTokenGeneration *int `json:"deployerTokenGeneration"`
	// AllowExec lets the namespace's deployers exec into pods and
	// port-forward. Default: false (uat's stack file: true).
	AllowExec bool `json:"allowExec"`
	// EgressCIDRs are the addresses the namespace's pods may reach besides
	// the namespace itself and DNS (a database, an external API). Default: none.
	EgressCIDRs []string `json:"egressCidrs"`
	// Quota is the namespace's ResourceQuota.
	Quota Quota `json:"quota"`
	// Limits are the container defaults and maxima (LimitRange).
	Limits Limits `json:"limits"`
}

// Quota is `namespaces[i].quota`; quantities use Kubernetes notation.
type Quota struct {
	// RequestsCPU is the quota's requests.cpu. Default: by node count.
	RequestsCPU string `json:"requestsCpu"`
	// RequestsMemory is its requests.memory. Default: by node count.
	RequestsMemory string `json:"requestsMemory"`
	// LimitsCPU is its limits.cpu. Default: by node count.
	LimitsCPU string `json:"limitsCpu"`
	// LimitsMemory is its limits.memory. Default: by node count.
	LimitsMemory string `json:"limitsMemory"`
	// RequestsStorage is its requests.storage: the namespace's volumes
	// together, its PostgreSQL cluster's claims included; the default adds
	// room for the applications' volumes to them. Default: by node count.
	RequestsStorage string `json:"requestsStorage"`
	// Pods is its pods. Default: by node count.
	Pods *int `json:"pods"`
	// PersistentVolumeClaims is its persistentvolumeclaims. Default: by node count.
	PersistentVolumeClaims *int `json:"persistentVolumeClaims"`
}

// Limits is `namespaces[i].limits`: per-container defaults and maxima.
type Limits struct {
	// DefaultCPU is the CPU limit of a container that sets none. Default: by node count.
	DefaultCPU string `json:"defaultCpu"`
	// DefaultMemory is the memory limit of a container that sets none.
	// Default: by node count.
	DefaultMemory string `json:"defaultMemory"`
	// DefaultRequestCPU is the CPU request of a container that sets none.
	// Default: by node count.
	DefaultRequestCPU string `json:"defaultRequestCpu"`
	// DefaultRequestMemory is the memory request of a container that sets
	// none. Default: by node count.
	DefaultRequestMemory string `json:"defaultRequestMemory"`
	// MaxCPU is the largest CPU limit of a container. Default: by node count.
	MaxCPU string `json:"maxCpu"`
	// MaxMemory is the largest memory limit of a container. Default: by node count.
	MaxMemory string `json:"maxMemory"`
}

// Registry is the `registry` key.
type Registry struct {
	// Server is the registry host. Default: preset.
	Server string `json:"server"`
	// Username is the deploy token's username; its password is registryToken.
	Username string `json:"username"`
}

// Secret is a secret configuration value. It never prints its value.
type Secret struct {
	value string
	set   bool
}

// NewSecret wraps a secret value.
func NewSecret(v string) Secret { return Secret{value: v, set: v != ""} }

// IsSet tells whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return s.set }

// Reveal returns the value; only for building secret Pulumi inputs.
func (s Secret) Reveal() string { return s.value }

// String hides the value.
func (s Secret) String() string {
	if s.set {
		return "[secret]"
	}
	return "[unset]"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }
