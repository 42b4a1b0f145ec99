// Package stacks turns the Pulumi configuration of a stack into typed,
// validated settings (phase presets filled, explicit values kept) and
// composes the stack from the infra components. It is the only package
// that reads configuration, knows stack names or branches on the phase.
package stacks

// Project is the Pulumi project name; configuration keys are namespaced by it.
const Project = "camps-infra"

// Configuration keys, without the project namespace.
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
	KeyEdge            = "edge"
	KeyOpenStack       = "openstack"
	KeyOpenStackSecret = "openstackApplicationCredentialSecret"
	KeyCloudflareToken = "cloudflareApiToken"
	KeySLO             = "slo"
	KeyData            = "data"
	KeySecurity        = "security"
)

// Keys lists every configuration key the program reads.
var Keys = []string{
	KeyPhase, KeyCluster, KeyInfomaniak, KeyInfomaniakToken, KeyKubeconfig,
	KeyPlatform, KeyNamespaces, KeyRegistry, KeyRegistryToken,
	KeyCloudflare, KeyDNSToken, KeyReceivers, KeyEdge, KeyOpenStack, KeyOpenStackSecret, KeyCloudflareToken,
	KeySLO, KeyData, KeySecurity,
}

// SecretKeys lists the keys that must be set as Pulumi secrets.
var SecretKeys = []string{KeyInfomaniakToken, KeyKubeconfig, KeyRegistryToken, KeyDNSToken, KeyReceivers, KeyOpenStackSecret, KeyCloudflareToken}

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
	// Phase is the architecture phase, 1 (default) or 2.
	Phase int
	// Cluster is where the stack's workloads run.
	Cluster Cluster
	// Infomaniak holds the Infomaniak API settings for a created cluster.
	Infomaniak Infomaniak
	// Platform says whether this stack installs the in-cluster platform.
	Platform Platform
	// Namespaces are the application namespaces this stack owns.
	Namespaces []Namespace
	// Registry is the private container registry the namespaces pull from.
	Registry Registry
	// Cloudflare holds what the stack needs to know of Cloudflare.
	Cloudflare Cloudflare
	// Edge is the path from the Internet to the ingress.
	Edge Edge
	// OpenStack is the Infomaniak Public Cloud (OpenStack) the edge uses.
	OpenStack OpenStack
	// SLO is the objectives of the stack's public hosts.
	SLO SLOConfig
	// Data is the stack's object storage, backups and databases.
	Data DataConfig
	// Security is the cluster's access control for people.
	Security SecurityConfig

	// InfomaniakToken is the Infomaniak API token; unset means the
	// provider reads INFOMANIAK_TOKEN.
	InfomaniakToken Secret
	// Kubeconfig is the kubeconfig of a cluster made elsewhere (attach mode).
	Kubeconfig Secret
	// RegistryToken is the registry deploy token's password.
	RegistryToken Secret
	// DNSToken is the Cloudflare API token cert-manager solves DNS-01
	// challenges with (Zone.DNS edit on the zone only).
	DNSToken Secret
	// Receivers are Alertmanager receivers, a YAML list in Alertmanager's
	// format (they hold webhook URLs and passwords).
	Receivers Secret
	// OpenStackSecret is the OpenStack application credential's secret.
	OpenStackSecret Secret
	// CloudflareToken is Pulumi's Cloudflare API token (records, zone
	// settings); unset means the provider reads CLOUDFLARE_API_TOKEN.
	CloudflareToken Secret
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
	// Region is the Infomaniak region. Default: dc4-a.
	Region string `json:"region"`
	// Pack is the KaaS control plane pack. Default: shared.
	Pack string `json:"pack"`
	// KubernetesVersion is the Kubernetes minor version. Default: 1.35.
	KubernetesVersion string `json:"kubernetesVersion"`
	// APIServerIPFilters is the CIDR allow-list of the API server. Default:
	// empty, the API server admits every address.
	APIServerIPFilters []string `json:"apiServerIpFilters"`
	// Pools are the instance pools, one per availability zone. Default:
	// phase 1 one pool of one a4-ram8-disk50-perf1 node in az-1; phase 2
	// three pools in az-1..az-3 autoscaling from 1 to 3 nodes.
	Pools []Pool `json:"pools"`
}

// Pool is one entry of `cluster.pools`.
type Pool struct {
	// Name of the pool. Default: pool-<zone>.
	Name string `json:"name"`
	// Zone is the availability zone, e.g. az-1.
	Zone string `json:"zone"`
	// Flavor of the nodes. Default: the phase's flavor, a4-ram8-disk50-perf1
	// (an assumed name: see presetFlavor).
	Flavor string `json:"flavor"`
	// MinInstances is the smallest node count, at least 1. Default: the phase's.
	MinInstances *int `json:"minInstances"`
	// MaxInstances is the largest node count; above MinInstances the pool
	// autoscales. Default: the phase's, at least MinInstances.
	MaxInstances *int `json:"maxInstances"`
	// Labels of the nodes (node-role.kubernetes.io/*, node-restriction.kubernetes.io/*,
	// custom.kaas.infomaniak.cloud/*). Default: none.
	Labels map[string]string `json:"labels"`
}

// Infomaniak is the `infomaniak` key: the Public Cloud the cluster lives in.
type Infomaniak struct {
	// PublicCloudID is the Public Cloud id. Default 0: the provider reads
	// INFOMANIAK_PUBLIC_CLOUD_ID.
	PublicCloudID int `json:"publicCloudId"`
	// ProjectID is the Public Cloud project id. Default 0: the provider
	// reads INFOMANIAK_PROJECT_ID.
	ProjectID int `json:"projectId"`
}

// Namespace is one entry of `namespaces`: an application namespace.
type Namespace struct {
	// Name of the namespace, e.g. production or uat.
	Name string `json:"name"`
	// DeployerGroup is the group bound to the namespace's deployer role.
	// Default: <name>-deployers.
	DeployerGroup string `json:"deployerGroup"`
	// AllowExec lets the namespace's deployers exec into pods and
	// port-forward. Default: false (uat's stack file: true).
	AllowExec bool `json:"allowExec"`
	// EgressCIDRs are the addresses the namespace's pods may reach besides
	// the namespace itself and DNS (a database, an external API). Default: none.
	EgressCIDRs []string `json:"egressCidrs"`
	// Quota is the namespace's ResourceQuota. Defaults: by phase.
	Quota Quota `json:"quota"`
	// Limits are the container defaults and maxima (LimitRange). Defaults: by phase.
	Limits Limits `json:"limits"`
}

// Quota is `namespaces[i].quota`; quantities use Kubernetes notation.
type Quota struct {
	RequestsCPU            string `json:"requestsCpu"`
	RequestsMemory         string `json:"requestsMemory"`
	LimitsCPU              string `json:"limitsCpu"`
	LimitsMemory           string `json:"limitsMemory"`
	RequestsStorage        string `json:"requestsStorage"`
	Pods                   *int   `json:"pods"`
	PersistentVolumeClaims *int   `json:"persistentVolumeClaims"`
}

// Limits is `namespaces[i].limits`: per-container defaults and maxima.
type Limits struct {
	DefaultCPU           string `json:"defaultCpu"`
	DefaultMemory        string `json:"defaultMemory"`
	DefaultRequestCPU    string `json:"defaultRequestCpu"`
	DefaultRequestMemory string `json:"defaultRequestMemory"`
	MaxCPU               string `json:"maxCpu"`
	MaxMemory            string `json:"maxMemory"`
}

// Registry is the `registry` key.
type Registry struct {
	// Server is the registry host. Default: registry.gitlab.com.
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
