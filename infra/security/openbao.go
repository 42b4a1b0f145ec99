package security

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/customresource"
	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// OpenBaoType is the type token of the OpenBao component.
const OpenBaoType = "camps:security:OpenBao"

// OpenBaoChart is OpenBao's chart (app v2.6.2). OpenBao, not Vault: it is
// the Linux Foundation's MPL-2.0 fork of Vault (Vault is under the BSL
// since 1.15), API-compatible, so the External Secrets Operator's vault
// provider reads it; and it takes audit devices declaratively in its
// configuration (since 2.4), where Vault needs an API call.
var OpenBaoChart = helm.Chart{Name: "openbao", Version: "0.29.2", Repository: "https://openbao.github.io/openbao-helm"}

// OpenBao's namespace, release and the names clients use.
const (
	OpenBaoNamespace = "openbao"
	openBaoRelease   = "openbao"
	// OpenBaoAddress is the active node, over TLS.
	OpenBaoAddress = "https://openbao-active.openbao.svc:8200"
	// OpenBaoCASecret holds the CA that signs OpenBao's certificate
	// (key ca.crt): clients verify OpenBao with it.
	OpenBaoCASecret = "openbao-ca"
	// KVMount is the KV version 2 engine the application secrets live in,
	// under <namespace>/<secret name>.
	KVMount = "camps"
	// ESORole and ESOPolicy are the Kubernetes auth role and the policy of
	// the External Secrets Operator: read under KVMount, nothing else.
	ESORole   = "external-secrets"
	ESOPolicy = "external-secrets"
	// BootstrapConfigMap holds the configuration script the runbook runs
	// once after initialisation.
	BootstrapConfigMap = "openbao-bootstrap"
)

// Where the server finds its certificate, its bootstrap script and its
// seal key, and keeps its audit log.
const (
	tlsDir       = "/openbao/userconfig/tls"
	bootstrapDir = "/openbao/userconfig/bootstrap"
	sealDir      = "/openbao/userconfig/seal"
	auditLog     = "/openbao/audit/audit.log"
	serverSecret = "openbao-server-tls"
)

// How OpenBao unseals (OpenBaoArgs.Seal).
const (
	// SealStatic: every replica unseals itself at start with an AES-256
	// key the program generates and keeps in the Secret SealSecret
	// (OpenBao's static seal, since 2.4). Initialising gives recovery keys
	// instead of unseal keys.
	SealStatic = "static"
	// SealShamir: key holders unseal every replica by hand after every
	// start (three of five unseal keys).
	SealShamir = "shamir"
	// SealMigrateToShamir: the static seal is configured but disabled, so
	// that `bao operator unseal -migrate` with the recovery keys moves
	// OpenBao back to Shamir (docs/runbooks/openbao.md).
	SealMigrateToShamir = "migrate-to-shamir"
)

// Seals are the values of OpenBaoArgs.Seal.
var Seals = []string{SealStatic, SealShamir, SealMigrateToShamir}

// SealSecret holds the static seal's key (key "key", base64) in
// OpenBaoNamespace; SealKeyID names the key in OpenBao's configuration
// and in what it encrypts.
const (
	SealSecret = "openbao-seal"
	SealKeyID  = "camps-openbao-1"
)

// OpenBao is the secrets store: a Raft cluster of one replica per zone
// behind TLS, its data and audit log on Longhorn. It starts uninitialised:
// docs/runbooks/openbao.md initialises it; with the static seal every
// replica then unseals itself at every start.
type OpenBao struct {
	pulumi.ResourceState

	// Address is the active node's URL.
	Address pulumi.StringOutput `pulumi:"address"`
	// Release is the Helm release (the ClusterSecretStore waits for it).
	Release *helm.Release
}

// OpenBaoArgs configure OpenBao.
type OpenBaoArgs struct {
	// Chart overrides the chart's source; default OpenBaoChart.
	Chart *helm.Chart
	// Replicas are the Raft voters, spread one per zone; 3 or 5.
	Replicas int
	// StorageSize and AuditStorageSize are each replica's volumes.
	StorageSize, AuditStorageSize string
	// StorageClass of both volumes; Raft replicates the data itself, so a
	// class of one Longhorn replica suffices.
	StorageClass string
	// ESONamespace and ESOServiceAccount are who may log in with the
	// ESORole, and reach OpenBao through the network.
	ESONamespace, ESOServiceAccount string
	// Seal is how the replicas unseal: SealStatic, SealShamir or
	// SealMigrateToShamir.
	Seal string
	// CertManagerReady are what the certificates wait for.
	CertManagerReady []pulumi.Resource
	// Ready are what the release waits for: Longhorn and the monitoring
	// CRDs.
	Ready []pulumi.Resource
}

func (a *OpenBaoArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Replicas != 3 && a.Replicas != 5:
		return fmt.Errorf("%d replicas: Raft needs 3 or 5 voters", a.Replicas)
	case a.StorageSize == "" || a.AuditStorageSize == "" || a.StorageClass == "":
		return errors.New("the storage sizes and class are required")
	case a.ESONamespace == "" || a.ESOServiceAccount == "":
		return errors.New("the External Secrets Operator's namespace and service account are required")
	case !slices.Contains(Seals, a.Seal):
		return fmt.Errorf("seal %q: use one of %s", a.Seal, strings.Join(Seals, ", "))
	}
	return nil
}

// openBaoResources size each replica.
var openBaoResources = convention.NewResources("100m", "256Mi", "500m", "512Mi")

// Volumes are each replica's Raft data and audit log.
func (a *OpenBaoArgs) Volumes() []convention.Volumes {
	return []convention.Volumes{
		{Name: "openbao data", Count: a.Replicas, Size: a.StorageSize, StorageClass: a.StorageClass},
		{Name: "openbao audit", Count: a.Replicas, Size: a.AuditStorageSize, StorageClass: a.StorageClass},
	}
}

// OpenBaoRequests are the CPU and memory the replicas ask for.
func OpenBaoRequests(replicas int) convention.Requests {
	return convention.RequestsOf(replicas, openBaoResources)
}

// openBaoPods are the server's pods.
var openBaoPods = map[string]string{"app.kubernetes.io/name": "openbao", "component": "server"}

// openBaoNetwork: the replicas talk Raft and forward requests to each
// other (8200, 8201), the External Secrets Operator reads secrets (8200),
// Prometheus scrapes (8200), and the servers call the API server (service
// registration, token reviews for Kubernetes auth).
func openBaoNetwork(esoNamespace string) []netpol.Allow {
	return []netpol.Allow{
		convention.DNSAndAPI,
		{Name: "openbao", Pods: openBaoPods,
			Ingress: []netpol.Flow{
				netpol.Within(openBaoPods, 8200, 8201),
				netpol.From(esoNamespace, nil, 8200),
				{Peers: []netpol.Peer{convention.PrometheusPeer}, Ports: netpol.TCP(8200)},
			},
			Egress: []netpol.Flow{netpol.Within(openBaoPods, 8200, 8201)}},
	}
}

// openBaoConfig is the server's HCL: TLS on the listener, metrics without
// a token (Prometheus scrapes every replica), Raft joining the other
// replicas by their stable names, a file audit device on the audit
// volume, Kubernetes service registration (the active and standby
// Services follow the leader), and the static seal unless seal is
// SealShamir (disabled while migrating to Shamir).
func openBaoConfig(replicas int, seal string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `ui = false

listener "tcp" {
  address         = "[::]:8200"
  cluster_address = "[::]:8201"
  tls_cert_file   = "%[1]s/tls.crt"
  tls_key_file    = "%[1]s/tls.key"
  telemetry {
    unauthenticated_metrics_access = true
  }
}

storage "raft" {
  path = "/openbao/data"
`, tlsDir)
	for i := range replicas {
		fmt.Fprintf(&b, `
  retry_join {
    leader_api_addr       = "https://%[1]s-%[2]d.%[1]s-internal:8200"
    leader_ca_cert_file   = "%[3]s/ca.crt"
    leader_tls_servername = "%[1]s-%[2]d.%[1]s-internal"
  }
`, openBaoRelease, i, tlsDir)
	}
	fmt.Fprintf(&b, `}

service_registration "kubernetes" {}

telemetry {
  prometheus_retention_time = "1h"
  disable_hostname          = true
}

audit "file" "file" {
  description = "every request and response, HMAC'd, on the audit volume"
  options {
    file_path = "%s"
  }
}
`, auditLog)
	if seal == SealShamir {
		return b.String()
	}
	fmt.Fprintf(&b, `
seal "static" {
  current_key_id = "%s"
  current_key    = "file://%s/key"
`, SealKeyID, sealDir)
	if seal == SealMigrateToShamir {
		b.WriteString("  disabled       = \"true\"\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// esoPolicy lets the External Secrets Operator read the application
// secrets and nothing else.
var esoPolicy = fmt.Sprintf(`path "%[1]s/data/*" {
  capabilities = ["read"]
}
`, KVMount)

// bootstrapScript configures a freshly initialised OpenBao for the
// External Secrets Operator: the KV engine, Kubernetes auth (the server's
// own service account reviews tokens), the read-only policy and the role
// bound to the operator's service account. It is idempotent.
func bootstrapScript(esoNamespace, esoServiceAccount string) string {
	return fmt.Sprintf(`#!/bin/sh
# Run once after initialising and unsealing (docs/runbooks/openbao.md):
#   kubectl -n %[1]s exec -ti %[2]s-0 -- env BAO_TOKEN=<root token> sh %[3]s/configure.sh
set -eu
bao secrets list -format=json | grep -q '"%[4]s/"' || bao secrets enable -path=%[4]s -version=2 kv
bao auth list -format=json | grep -q '"kubernetes/"' || bao auth enable kubernetes
bao write auth/kubernetes/config kubernetes_host="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}"
bao policy write %[5]s %[3]s/%[5]s.hcl
bao write auth/kubernetes/role/%[6]s \
  bound_service_account_names=%[7]s \
  bound_service_account_namespaces=%[8]s \
  audience=%[9]s \
  token_policies=%[5]s \
  token_ttl=1h
echo "OpenBao is ready for the External Secrets Operator."
`, OpenBaoNamespace, openBaoRelease, bootstrapDir, KVMount, ESOPolicy, ESORole, esoServiceAccount, esoNamespace, ESOAudience)
}

// ESOAudience is the audience of the tokens the operator presents, which
// the role requires.
const ESOAudience = "openbao"

// openBaoChartValues are the chart's values: HA Raft with TLS, one replica per
// zone (and per node, the chart's default anti-affinity), Pod Security
// restricted (the chart's default container context does not drop
// capabilities), no injector, no UI.
func openBaoChartValues(a *OpenBaoArgs) openBaoValues {
	storage := func(size string) openBaoStorage {
		return openBaoStorage{Enabled: true, Size: size, StorageClass: a.StorageClass}
	}
	v := openBaoValues{
		Global: openBaoGlobal{TLSDisable: false},
		Server: openBaoServer{
			Resources: openBaoResources,
			HA: openBaoHA{Enabled: true, Replicas: a.Replicas,
				Raft: openBaoRaft{Enabled: true, SetNodeID: true, Config: openBaoConfig(a.Replicas, a.Seal)}},
			// All replicas start at once: the chart's OrderedReady would
			// wait for openbao-0 to be unsealed before creating the next.
			PodManagementPolicy:       "Parallel",
			DataStorage:               storage(a.StorageSize),
			AuditStorage:              storage(a.AuditStorageSize),
			TopologySpreadConstraints: []convention.TopologySpread{convention.ZoneSpread(openBaoPods, "DoNotSchedule")},
			Volumes: []volume{
				{Name: "tls", Secret: &secretVolume{SecretName: serverSecret}},
				{Name: "bootstrap", ConfigMap: &configMapVolume{Name: BootstrapConfigMap}},
			},
			VolumeMounts: []volumeMount{
				{Name: "tls", MountPath: tlsDir, ReadOnly: true},
				{Name: "bootstrap", MountPath: bootstrapDir, ReadOnly: true},
			},
			ExtraEnvironmentVars: map[string]string{"BAO_CACERT": tlsDir + "/ca.crt"},
		},
	}
	if a.Seal != SealShamir {
		// Readable by OpenBao's group only (the pod's fsGroup).
		v.Server.Volumes = append(v.Server.Volumes, volume{Name: "seal", Secret: &secretVolume{SecretName: SealSecret, DefaultMode: 0o440}})
		v.Server.VolumeMounts = append(v.Server.VolumeMounts, volumeMount{Name: "seal", MountPath: sealDir, ReadOnly: true})
	}
	v.Server.StatefulSet.SecurityContext.Pod = podSecurityContext{
		RunAsNonRoot: true, RunAsUser: 100, RunAsGroup: 1000, FSGroup: 1000, SeccompProfile: seccompProfile{"RuntimeDefault"},
	}
	v.Server.StatefulSet.SecurityContext.Container = containerSecurityContext{AllowPrivilegeEscalation: false, Capabilities: dropAll}
	return v
}

// sealKey generates the static seal's AES-256 key and writes it, base64
// (the 44 characters the static seal reads), into the Secret SealSecret.
// Both are protected: without the key, OpenBao's data cannot be
// decrypted, and the stack's state is the key's one backup.
func sealKey(ctx *pulumi.Context, name string, namespace pulumi.StringInput, opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	rnd, err := random.NewProvider(ctx, name+"-seal", nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("seal key provider: %w", err)
	}
	key, err := random.NewRandomBytes(ctx, name+"-seal-key", &random.RandomBytesArgs{Length: pulumi.Int(32)},
		append(opts, pulumi.Provider(rnd), pulumi.Protect(true))...)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	secret, err := corev1.NewSecret(ctx, name+"-seal", &corev1.SecretArgs{
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(SealSecret), Namespace: namespace},
		StringData: pulumi.StringMap{"key": pulumi.ToSecret(key.Base64).(pulumi.StringOutput)},
	}, append(opts, pulumi.Protect(true))...)
	if err != nil {
		return nil, fmt.Errorf("seal key secret: %w", err)
	}
	return secret, nil
}

// serverNames are the DNS names OpenBao answers to: its Services and
// every replica behind the headless one.
func serverNames() []string {
	ns := OpenBaoNamespace
	var out []string
	for _, svc := range []string{openBaoRelease, openBaoRelease + "-active", openBaoRelease + "-standby"} {
		out = append(out, svc+"."+ns+".svc", svc+"."+ns+".svc.cluster.local")
	}
	internal := openBaoRelease + "-internal"
	return append(out, "*."+internal, "*."+internal+"."+ns+".svc", "*."+internal+"."+ns+".svc.cluster.local")
}

// NewOpenBao creates the namespace (restricted, default deny), a private
// CA and the server certificate (cert-manager), the bootstrap ConfigMap,
// the release (protected: its volumes hold every secret) and the
// PodMonitor that scrapes every replica.
func NewOpenBao(ctx *pulumi.Context, name string, args *OpenBaoArgs, opts ...pulumi.ResourceOption) (*OpenBao, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("openbao %q: %w", name, err)
	}
	c := &OpenBao{}
	if err := ctx.RegisterComponentResource(OpenBaoType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("openbao %q: %w", name, err) }
	ns, err := convention.NewIsolatedNamespace(ctx, name, OpenBaoNamespace, convention.Restricted, nil, openBaoNetwork(args.ESONamespace), pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	if err := openBaoCertificates(ctx, name, ns.Name, args.CertManagerReady, pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}
	bootstrap, err := corev1.NewConfigMap(ctx, name+"-bootstrap", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(BootstrapConfigMap), Namespace: ns.Name},
		Data: pulumi.StringMap{
			"configure.sh":     pulumi.String(bootstrapScript(args.ESONamespace, args.ESOServiceAccount)),
			ESOPolicy + ".hcl": pulumi.String(esoPolicy),
		},
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	values, err := helm.Values(openBaoChartValues(args))
	if err != nil {
		return nil, wrap(err)
	}
	deps := append([]pulumi.Resource{bootstrap}, args.Ready...)
	if args.Seal != SealShamir {
		key, err := sealKey(ctx, name, ns.Name, pulumi.Parent(c))
		if err != nil {
			return nil, wrap(err)
		}
		deps = append(deps, key)
	}
	// The pods stay unready until OpenBao is initialised (and, with
	// Shamir, unsealed): the release does not wait for them, nor for the
	// certificates (the pods start once cert-manager has written their
	// Secrets; the kubelet retries).
	c.Release, err = helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: helm.Override(OpenBaoChart, args.Chart), Name: openBaoRelease, Namespace: ns.Name, Values: values, SkipAwait: true,
	}, pulumi.Parent(c), pulumi.Protect(true), pulumi.DependsOn(deps))
	if err != nil {
		return nil, wrap(err)
	}
	if _, err := customresource.New(ctx, name, customresource.Object{
		APIVersion: "monitoring.coreos.com/v1", Kind: "PodMonitor", Name: openBaoRelease, Namespace: ns.Name,
	}, map[string]any{
		"selector": map[string]any{"matchLabels": openBaoPods},
		"podMetricsEndpoints": []any{map[string]any{
			"port": "https", "scheme": "https", "path": "/v1/sys/metrics", "params": map[string]any{"format": []string{"prometheus"}},
			"interval": "30s",
			"tlsConfig": map[string]any{
				"ca":         map[string]any{"secret": map[string]any{"name": OpenBaoCASecret, "key": "ca.crt"}},
				"serverName": openBaoRelease + "." + OpenBaoNamespace + ".svc",
			},
		}},
	}, pulumi.Parent(c), pulumi.DependsOn(append([]pulumi.Resource{c.Release}, args.Ready...))); err != nil {
		return nil, wrap(err)
	}
	c.Address = pulumi.String(OpenBaoAddress).ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"address": c.Address})
}

// openBaoCertificates: a self-signed issuer makes a CA (ten years), the
// CA issues the server's certificate for every name it answers to (three
// years, renewed 90 days before: OpenBao reads it at start and on SIGHUP,
// see the runbook).
func openBaoCertificates(ctx *pulumi.Context, name string, ns pulumi.StringInput, ready []pulumi.Resource, opts ...pulumi.ResourceOption) error {
	opts = append(opts, pulumi.DependsOn(ready))
	type object struct {
		suffix, kind, objName string
		spec                  map[string]any
	}
	ecdsa := map[string]any{"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
	objects := []object{
		{"selfsigned", "Issuer", "openbao-selfsigned", map[string]any{"selfSigned": map[string]any{}}},
		{"ca", "Certificate", OpenBaoCASecret, map[string]any{
			"isCA": true, "commonName": "OpenBao CA", "secretName": OpenBaoCASecret,
			"duration": "87600h", "renewBefore": "8760h", "privateKey": ecdsa,
			"issuerRef": map[string]any{"kind": "Issuer", "name": "openbao-selfsigned"},
		}},
		{"ca-issuer", "Issuer", "openbao-ca", map[string]any{"ca": map[string]any{"secretName": OpenBaoCASecret}}},
		{"server", "Certificate", serverSecret, map[string]any{
			"secretName": serverSecret, "commonName": openBaoRelease + "." + OpenBaoNamespace + ".svc",
			"dnsNames": serverNames(), "ipAddresses": []string{"127.0.0.1"},
			"duration": "26280h", "renewBefore": "2160h", "privateKey": ecdsa,
			"usages":    []string{"server auth", "client auth", "digital signature", "key encipherment"},
			"issuerRef": map[string]any{"kind": "Issuer", "name": "openbao-ca"},
		}},
	}
	for _, o := range objects {
		if _, err := customresource.New(ctx, name+"-"+o.suffix, customresource.Object{
			APIVersion: "cert-manager.io/v1", Kind: o.kind, Name: o.objName, Namespace: ns,
		}, o.spec, opts...); err != nil {
			return err
		}
	}
	return nil
}
