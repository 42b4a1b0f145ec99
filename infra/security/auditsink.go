package security

import (
	"errors"
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// AuditSinkType is the type token of the AuditSink component.
const AuditSinkType = "camps:security:AuditSink"

// VectorChart is Vector's chart (app 0.56.0), the audit log's pipeline.
var VectorChart = helm.Chart{Name: "vector", Version: "0.56.0", Repository: "https://helm.vector.dev"}

// AuditNamespace holds the sink.
const AuditNamespace = "audit"

// Names of the sink's objects and its listening ports.
const (
	auditRelease    = "vector"
	auditSecret     = "audit-sink"
	auditPort       = 8080
	auditMetrics    = 9598
	auditAPIPort    = 8686
	auditBufferSize = 512 << 20
)

// AuditSink receives the API server's audit events over HTTPS, through
// the ingress and Cloudflare (the managed control plane is outside the
// cluster), and writes them to a bucket. The bucket's retention (a job
// that deletes what is older) is the caller's, in Namespace, after
// Policies.
type AuditSink struct {
	pulumi.ResourceState

	// URL is where the API server sends its events.
	URL pulumi.StringOutput `pulumi:"url"`
	// Namespace is the audit namespace, once created.
	Namespace pulumi.StringOutput `pulumi:"-"`
	// Policies are the namespace's network allowances.
	Policies []pulumi.Resource `pulumi:"-"`
}

// Where the sink writes: under AuditKeyPrefix in its bucket, which a
// retention job (AuditRetentionJob) empties of old objects.
const (
	AuditKeyPrefix    = "audit/"
	AuditRetentionJob = "audit-retention"
)

// AuditSinkArgs configure the sink. Every field but Chart is required.
type AuditSinkArgs struct {
	// Chart overrides the chart's source; default VectorChart.
	Chart *helm.Chart
	// Host is the sink's public name.
	Host string
	// IngressClass and ClusterIssuer serve it over TLS.
	IngressClass, ClusterIssuer string
	// Token is the bearer token the API server presents (a secret).
	Token pulumi.StringInput
	// Bucket keeps the log, at Endpoint (https://) in Region; AccessKey
	// and SecretKey reach it.
	Bucket, Endpoint, Region string
	AccessKey, SecretKey     pulumi.StringInput
	// StorageClass holds Vector's disk buffer (Longhorn).
	StorageClass string
	// Ready are what the release waits for: the monitoring CRDs (its
	// PodMonitor) and Longhorn (its volume).
	Ready []pulumi.Resource
}

func (a *AuditSinkArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Host == "" || a.IngressClass == "" || a.ClusterIssuer == "" || a.StorageClass == "":
		return errors.New("a host, an ingress class, a cluster issuer and a storage class are required")
	case a.Token == nil || a.AccessKey == nil || a.SecretKey == nil:
		return errors.New("the token and the bucket's credentials are required")
	case a.Bucket == "" || a.Endpoint == "" || a.Region == "":
		return errors.New("the bucket, its endpoint and its region are required")
	}
	return nil
}

// vectorResources size the sink.
var vectorResources = convention.NewResources("50m", "128Mi", "500m", "512Mi")

// AuditSinkRequests are the CPU and memory the sink asks for.
func AuditSinkRequests() convention.Requests { return convention.RequestsOf(1, vectorResources) }

// auditVolumeSize is the volume of Vector's data directory, twice its
// disk buffer (auditBufferSize), which holds the audit events while the
// bucket is unreachable.
const auditVolumeSize = "1Gi"

// Volumes are Vector's one disk buffer.
func (a *AuditSinkArgs) Volumes() []convention.Volumes {
	return []convention.Volumes{{Name: "audit buffer", Count: 1, Size: auditVolumeSize, StorageClass: a.StorageClass}}
}

// vectorPods are the sink's pods.
var vectorPods = map[string]string{"app.kubernetes.io/name": "vector"}

// auditNetwork: the ingress controller brings the API server's events,
// Prometheus scrapes Vector, Vector and the retention job talk HTTPS to
// S3; nothing here calls the Kubernetes API.
func auditNetwork() []netpol.Allow {
	return []netpol.Allow{
		{Name: "dns", Egress: []netpol.Flow{netpol.DNS}},
		{Name: "vector", Pods: vectorPods,
			Ingress: []netpol.Flow{
				{Peers: []netpol.Peer{convention.IngressPeer}, Ports: netpol.TCP(auditPort)},
				{Peers: []netpol.Peer{convention.PrometheusPeer}, Ports: netpol.TCP(auditMetrics)},
			},
			Egress: []netpol.Flow{netpol.HTTPS}},
	}
}

// vectorConfig is Vector's pipeline: the webhook's EventList batches,
// authenticated by the bearer token, split into one event per line of
// gzip'd JSON under audit/YYYY/MM/DD/, buffered on disk so a restart or an
// S3 outage loses nothing. Secrets come from the environment.
func vectorConfig(a *AuditSinkArgs) map[string]any {
	return map[string]any{
		"data_dir": "/vector-data-dir",
		"api":      map[string]any{"enabled": true, "address": fmt.Sprintf("0.0.0.0:%d", auditAPIPort)},
		"sources": map[string]any{
			"apiserver": map[string]any{
				"type": "http_server", "address": fmt.Sprintf("0.0.0.0:%d", auditPort),
				"path": "/", "strict_path": true, "method": "POST",
				"decoding": map[string]any{"codec": "json"},
				"framing":  map[string]any{"method": "bytes"},
				"auth": map[string]any{
					"strategy": "custom",
					"source":   `.headers.authorization == "Bearer ${AUDIT_TOKEN}"`,
				},
			},
			"internal": map[string]any{"type": "internal_metrics"},
		},
		"transforms": map[string]any{
			"events": map[string]any{
				"type": "remap", "inputs": []string{"apiserver"}, "drop_on_error": true,
				"source": ". = array!(.items)",
			},
		},
		"sinks": map[string]any{
			"s3": map[string]any{
				"type": "aws_s3", "inputs": []string{"events"},
				"bucket": a.Bucket, "region": a.Region, "endpoint": a.Endpoint, "force_path_style": true,
				"key_prefix":  AuditKeyPrefix + "%Y/%m/%d/",
				"compression": "gzip",
				"encoding":    map[string]any{"codec": "json"},
				"framing":     map[string]any{"method": "newline_delimited"},
				"batch":       map[string]any{"timeout_secs": 300, "max_bytes": 10_000_000},
				"auth": map[string]any{
					"access_key_id": "${AWS_ACCESS_KEY_ID}", "secret_access_key": "${AWS_SECRET_ACCESS_KEY}",
				},
				"buffer": map[string]any{"type": "disk", "max_size": auditBufferSize, "when_full": "block"},
			},
			"prom_exporter": map[string]any{
				"type": "prometheus_exporter", "inputs": []string{"internal"},
				"address": fmt.Sprintf("0.0.0.0:%d", auditMetrics),
			},
		},
	}
}

// vectorChartValues are the chart's values: one aggregator under Pod Security
// restricted (the image runs as root unless told otherwise), its buffer on
// a 1Gi volume, the secrets from the sink's Secret.
func vectorChartValues(a *AuditSinkArgs) vectorValues {
	var probe httpProbe
	probe.HTTPGet.Path, probe.HTTPGet.Port = "/health", "api"
	return vectorValues{
		Role:     "Aggregator",
		Replicas: 1,
		PodSecurityContext: podSecurityContext{
			RunAsNonRoot: true, RunAsUser: 65532, RunAsGroup: 65532, FSGroup: 65532,
			SeccompProfile: seccompProfile{"RuntimeDefault"},
		},
		SecurityContext: containerSecurityContext{AllowPrivilegeEscalation: false, ReadOnlyRootFilesystem: true, Capabilities: dropAll},
		Resources:       vectorResources,
		Persistence:     vectorPersistence{Enabled: true, StorageClassName: a.StorageClass, Size: auditVolumeSize},
		Env: []envVar{
			fromSecret("AUDIT_TOKEN", auditSecret, "token"),
			fromSecret("AWS_ACCESS_KEY_ID", auditSecret, "accessKey"),
			fromSecret("AWS_SECRET_ACCESS_KEY", auditSecret, "secretKey"),
		},
		ReadinessProbe: probe,
		LivenessProbe:  probe,
		PodMonitor:     enabled{true},
		CustomConfig:   vectorConfig(a),
	}
}

// NewAuditSink creates the audit namespace (restricted, default deny), the
// sink's Secret, Vector and its Ingress.
func NewAuditSink(ctx *pulumi.Context, name string, args *AuditSinkArgs, opts ...pulumi.ResourceOption) (*AuditSink, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("audit sink %q: %w", name, err)
	}
	c := &AuditSink{}
	if err := ctx.RegisterComponentResource(AuditSinkType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("audit sink %q: %w", name, err) }
	ns, err := convention.NewIsolatedNamespace(ctx, name, AuditNamespace, convention.Restricted, nil, auditNetwork(), pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	secret, err := corev1.NewSecret(ctx, name+"-secret", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(auditSecret), Namespace: ns.Name},
		StringData: pulumi.ToSecret(pulumi.StringMap{
			"token": args.Token, "accessKey": args.AccessKey, "secretKey": args.SecretKey,
		}).(pulumi.StringMapOutput),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	values, err := helm.Values(vectorChartValues(args))
	if err != nil {
		return nil, wrap(err)
	}
	deps := append([]pulumi.Resource{secret}, args.Ready...)
	if _, err := helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: helm.Override(VectorChart, args.Chart), Name: auditRelease, Namespace: ns.Name, Values: values,
	}, pulumi.Parent(c), pulumi.DependsOn(deps)); err != nil {
		return nil, wrap(err)
	}
	if _, err := networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(auditRelease), Namespace: ns.Name,
			Annotations: pulumi.StringMap{
				"cert-manager.io/cluster-issuer": pulumi.String(args.ClusterIssuer),
				// A batch is up to 400 events; NGINX's default is 1m.
				"nginx.org/client-max-body-size": pulumi.String("16m"),
			},
		},
		Spec: &networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(args.IngressClass),
			Tls: networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
				Hosts: pulumi.ToStringArray([]string{args.Host}), SecretName: pulumi.String("audit-sink-tls"),
			}},
			Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
				Host: pulumi.String(args.Host),
				Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{
					networkingv1.HTTPIngressPathArgs{
						Path: pulumi.String("/"), PathType: pulumi.String("Prefix"),
						Backend: networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
							Name: pulumi.String(auditRelease),
							Port: &networkingv1.ServiceBackendPortArgs{Number: pulumi.Int(auditPort)},
						}},
					},
				}},
			}},
		},
	}, pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}
	c.Namespace, c.Policies = ns.Name, ns.Policies
	c.URL = pulumi.Sprintf("https://%s/", args.Host).ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"url": c.URL})
}
