package data

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/customresource"
	"gitlab.com/camps-ch/infra/infra/externalsecret"
)

// PostgresType is the type token of the Postgres component.
const PostgresType = "camps:data:Postgres"

// ClusterLabel is the label CloudNativePG puts on a cluster's pods.
const ClusterLabel = "cnpg.io/cluster"

// Postgres is one CloudNativePG cluster in an application namespace: its
// application user's password (generated, secret), WAL archiving and
// scheduled base backups to S3 through the Barman Cloud plugin, a
// PodMonitor, a NetworkPolicy that admits only its namespace, and the
// canary (a heartbeat row the exporter reports).
type Postgres struct {
	pulumi.ResourceState

	// Host is the read-write service, <name>-rw.
	Host pulumi.StringOutput `pulumi:"host"`
	// PoolerHost is the read-write pooler's service, <name>-pooler-rw,
	// when there is a pooler: what applications connect to.
	PoolerHost pulumi.StringOutput `pulumi:"poolerHost"`
	// CredentialsSecret names the Secret with the owner's username and password.
	CredentialsSecret pulumi.StringOutput `pulumi:"credentialsSecret"`
}

// PostgresBackup is where and how the cluster is backed up.
type PostgresBackup struct {
	// Bucket is the S3 bucket; the cluster's backups go under
	// s3://<bucket>/<namespace>/<server name>/.
	Bucket string
	// Endpoint is the S3 endpoint, https://…, and Region its region
	// (S3 requests are signed for it: Infomaniak refuses us-east-1).
	Endpoint, Region string
	// AccessKey and SecretKey reach the bucket; SecretKey is kept secret.
	AccessKey, SecretKey pulumi.StringInput
	// Schedule is the base backups' six-field cron (seconds first).
	Schedule string
	// Retention is how long backups and WAL are kept, e.g. 30d.
	Retention string
	// ServerName names this cluster's backups in the bucket; default the
	// cluster's name. A cluster recovered from a backup must write under
	// another name.
	ServerName string
}

// PostgresRecovery bootstraps the cluster from a backup, read through a
// read-only ObjectStore of its own: the backups of another namespace, of
// another stack's bucket, or of the copy in the other region.
type PostgresRecovery struct {
	// ServerName is the backed-up cluster's server name.
	ServerName string
	// TargetTime is the point in time to recover to, RFC 3339; empty means
	// the end of the archived WAL.
	TargetTime string
	// Bucket, Namespace, Endpoint and Region locate the backups:
	// s3://<bucket>/<namespace>/<server name>/. Default: the cluster's own
	// (Backup's bucket, endpoint and region, NamespaceName).
	Bucket, Namespace, Endpoint, Region string
}

// PostgresArgs configure a cluster. Every field is required unless it says
// otherwise.
type PostgresArgs struct {
	// Namespace is the application namespace, as the output of the
	// resource that creates it.
	Namespace pulumi.StringInput
	// NamespaceName is the same name, known now (backup paths, policies).
	NamespaceName string
	// Name of the cluster; default "postgres".
	Name string
	// Instances is 1, or 3 for a primary and two standbys.
	Instances int
	// ZoneSpread places each instance in its own zone (required pod
	// anti-affinity on the zone); otherwise on distinct nodes if possible.
	ZoneSpread bool
	// StorageSize and StorageClass of each instance's volume.
	StorageSize, StorageClass string
	// Requests and Limits are the instances' CPU and memory; the memory
	// limit sizes max_connections and shared_buffers.
	Requests, Limits map[string]string
	// PoolerInstances run PgBouncer in front of the cluster, in
	// transaction mode, its connections shared among them. Default: 0, no
	// pooler.
	PoolerInstances int
	// Database and Owner are the application's database and its owner.
	Database, Owner string
	// Backup configures WAL archiving and base backups.
	Backup PostgresBackup
	// Recovery, when set, bootstraps from a backup instead of initdb.
	Recovery *PostgresRecovery
	// Dump, when set, takes logical dumps of the database to DumpPath.
	// Default: none.
	Dump *PostgresDump
	// ArchiveTimeout forces a WAL switch (and so an archived segment) at
	// least this often while the database is written, bounding what a
	// restore loses; the canary writes every CanaryInterval. Default:
	// CloudNativePG's, 5min.
	ArchiveTimeout time.Duration
	// OperatorNamespace is CloudNativePG's namespace (its operator checks
	// the instances' status port).
	OperatorNamespace string
	// MonitoringNamespace is Prometheus's namespace.
	MonitoringNamespace string
	// OperatorReady, PluginReady and MonitoringReady are what needs their
	// CRDs waits for: the cluster and its scheduled backup the operator,
	// the object stores the Barman Cloud plugin, the PodMonitor the
	// monitoring release. Empty when another stack installed them.
	OperatorReady, PluginReady, MonitoringReady []pulumi.Resource
	// ExternalCredentials: the owner's credentials Secret is an
	// ExternalSecret from OpenBao (security.externalSecrets), not
	// generated here.
	ExternalCredentials bool
}

var (
	dnsLabel   = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,48}[a-z0-9])?$`)
	identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	cron6      = regexp.MustCompile(`^([0-9*/,\-]+ ){5}[0-9*/,\-]+$`)
	cron5      = regexp.MustCompile(`^([0-9*/,\-]+ ){4}[0-9*/,\-]+$`)
	retention  = regexp.MustCompile(`^[1-9][0-9]*[dwm]$`)
)

// IsSQLIdentifier tells whether s is a lowercase SQL identifier, as a
// database and its owner must be.
func IsSQLIdentifier(s string) bool { return identifier.MatchString(s) }

// IsBackupSchedule tells whether s is a six-field cron, seconds first, as
// CloudNativePG's scheduled backups take.
func IsBackupSchedule(s string) bool { return cron6.MatchString(s) }

// isCron5 tells whether s is a five-field cron schedule (a CronJob's).
func isCron5(s string) bool { return cron5.MatchString(s) }

// IsDNSLabel tells whether s is a name the components accept for what
// they create (a namespace, a cluster): a DNS label of at most 50
// characters.
func IsDNSLabel(s string) bool { return dnsLabel.MatchString(s) }

// IsRetention tells whether s is a retention policy such as 30d (days,
// weeks or months).
func IsRetention(s string) bool { return retention.MatchString(s) }

// DefaultClusterName names a cluster whose args name none.
const DefaultClusterName = "postgres"

func (a *PostgresArgs) name() string {
	if a.Name == "" {
		return DefaultClusterName
	}
	return a.Name
}

func (a *PostgresArgs) serverName() string {
	if a.Backup.ServerName == "" {
		return a.name()
	}
	return a.Backup.ServerName
}

func (a *PostgresArgs) validate() error {
	if a == nil || a.Namespace == nil || a.NamespaceName == "" {
		return errors.New("a namespace is required")
	}
	b := a.Backup
	switch {
	case !dnsLabel.MatchString(a.name()):
		return fmt.Errorf("cluster name %q is not a DNS label", a.name())
	case a.Instances < 1 || a.Instances > 9:
		return fmt.Errorf("%d instances: want 1 to 9", a.Instances)
	case a.PoolerInstances < 0 || a.PoolerInstances > 9:
		return fmt.Errorf("%d pooler instances: want 0 to 9", a.PoolerInstances)
	case a.memoryLimit() <= 0:
		return fmt.Errorf("memory limit %q is not a positive quantity: it sizes the connections", a.Limits["memory"])
	case a.StorageSize == "" || a.StorageClass == "":
		return errors.New("a storage size and class are required")
	case !identifier.MatchString(a.Database) || !identifier.MatchString(a.Owner):
		return fmt.Errorf("database %q and owner %q must be lowercase SQL identifiers", a.Database, a.Owner)
	case b.Bucket == "" || !strings.HasPrefix(b.Endpoint, "https://") || b.Region == "" || b.AccessKey == nil || b.SecretKey == nil:
		return errors.New("the backup needs a bucket, an https:// endpoint, its region and credentials")
	case !cron6.MatchString(b.Schedule):
		return fmt.Errorf("backup schedule %q is not a six-field cron (seconds first)", b.Schedule)
	case !retention.MatchString(b.Retention):
		return fmt.Errorf("retention %q is not a number of days, weeks or months such as 30d", b.Retention)
	case !dnsLabel.MatchString(a.serverName()):
		return fmt.Errorf("server name %q is not a DNS label", a.serverName())
	case a.OperatorNamespace == "" || a.MonitoringNamespace == "":
		return errors.New("the operator's and the monitoring namespaces are required")
	case a.ArchiveTimeout != 0 && (a.ArchiveTimeout < time.Minute || a.ArchiveTimeout%time.Second != 0):
		return fmt.Errorf("archive timeout %s: want whole seconds, at least 1m", a.ArchiveTimeout)
	}
	if err := a.Dump.validate(); err != nil {
		return err
	}
	if r := a.Recovery; r != nil {
		switch {
		case !dnsLabel.MatchString(r.ServerName):
			return fmt.Errorf("recovery server name %q is not a DNS label", r.ServerName)
		case r.ServerName == a.serverName() && a.recoverySource() == a.ownSource():
			return fmt.Errorf("the recovered cluster must back up under another server name than %q, which it recovers from", r.ServerName)
		case r.Endpoint != "" && !strings.HasPrefix(r.Endpoint, "https://"):
			return fmt.Errorf("recovery endpoint %q is not https://", r.Endpoint)
		}
		if r.TargetTime != "" {
			if _, err := time.Parse(time.RFC3339, r.TargetTime); err != nil {
				return fmt.Errorf("recovery target time %q is not RFC 3339", r.TargetTime)
			}
		}
	}
	return nil
}

// Volumes are the instances' data volumes (WAL included: no separate
// WAL volume).
func (a *PostgresArgs) Volumes() []convention.Volumes {
	return []convention.Volumes{{Name: "postgres " + a.NamespaceName, Count: a.Instances, Size: a.StorageSize, StorageClass: a.StorageClass}}
}

// Names of the objects of a cluster called n.
func credentialsSecret(n string) string { return n + "-app" }
func s3Secret(n string) string          { return n + "-backup-s3" }
func objectStore(n string) string       { return n + "-backups" }
func recoveryStore(n string) string     { return n + "-recovery-source" }

// CredentialsSecret is the name of the owner's credentials Secret
// (basic-auth: username, password) of the CloudNativePG cluster named
// cluster.
func CredentialsSecret(cluster string) string { return credentialsSecret(cluster) }

// CredentialsSpec is the ExternalSecret that replaces the owner's
// credentials of the default cluster in the namespace ns (created as
// namespace) once they come from OpenBao: same name, type basic-auth,
// username and password at ns/<name> in the store.
func CredentialsSpec(ns string, namespace pulumi.StringInput) externalsecret.Spec {
	creds := CredentialsSecret(DefaultClusterName)
	return externalsecret.Spec{
		Name: creds, Namespace: namespace, Type: "kubernetes.io/basic-auth",
		Fields: []externalsecret.Field{externalsecret.Mirrored(ns, creds, "username"), externalsecret.Mirrored(ns, creds, "password")},
	}
}

// backupLocation is where a namespace's backups are: s3://<bucket>/<namespace>.
type backupLocation struct {
	S3Location
	namespace string
}

func (l backupLocation) path() string { return fmt.Sprintf("s3://%s/%s", l.Bucket, l.namespace) }

func (a *PostgresArgs) ownSource() backupLocation {
	return backupLocation{S3Location{a.Backup.Bucket, a.Backup.Endpoint, a.Backup.Region}, a.NamespaceName}
}

// recoverySource is where a recovery reads: the own location, field by
// field overridden by Recovery.
func (a *PostgresArgs) recoverySource() backupLocation {
	l := a.ownSource()
	if r := a.Recovery; r != nil {
		for _, f := range []struct {
			dst *string
			v   string
		}{
			{&l.Bucket, r.Bucket}, {&l.namespace, r.Namespace}, {&l.Endpoint, r.Endpoint}, {&l.Region, r.Region},
		} {
			if f.v != "" {
				*f.dst = f.v
			}
		}
	}
	return l
}

func (a *PostgresArgs) clusterSpec() clusterSpec {
	n := a.name()
	archiver := true
	spec := clusterSpec{
		Instances:             a.Instances,
		ImageName:             PostgresImage,
		EnableSuperuserAccess: false,
		PostgreSQL:            postgresConfig{Parameters: a.postgresParameters()},
		Storage:               storage{Size: a.StorageSize, StorageClass: a.StorageClass},
		Resources:             resources{Requests: a.Requests, Limits: a.Limits},
		Affinity:              affinity{EnablePodAntiAffinity: true, TopologyKey: "kubernetes.io/hostname", PodAntiAffinityType: "preferred"},
		Monitoring:            canaryMonitoring(n),
		Plugins: []pluginConfig{{
			Name: PluginName, IsWALArchiver: &archiver,
			Parameters: map[string]string{"barmanObjectName": objectStore(n), "serverName": a.serverName()},
		}},
	}
	if a.Instances == 1 {
		// A PodDisruptionBudget on a single instance blocks every node drain.
		off := false
		spec.EnablePDB = &off
	}
	if a.ZoneSpread {
		spec.Affinity = affinity{EnablePodAntiAffinity: true, TopologyKey: "topology.kubernetes.io/zone", PodAntiAffinityType: "required"}
	}
	if r := a.Recovery; r != nil {
		source := "backup-" + r.ServerName
		spec.Bootstrap.Recovery = &recovery{Source: source, Database: a.Database, Owner: a.Owner, Secret: secretRef{credentialsSecret(n)}}
		if r.TargetTime != "" {
			spec.Bootstrap.Recovery.RecoveryTarget = &recoveryTarget{TargetTime: r.TargetTime}
		}
		spec.ExternalClusters = []externalCluster{{Name: source, Plugin: pluginConfig{
			Name: PluginName, Parameters: map[string]string{"barmanObjectName": recoveryStore(n), "serverName": r.ServerName},
		}}}
	} else {
		spec.Bootstrap.InitDB = &initDB{Database: a.Database, Owner: a.Owner, Secret: secretRef{credentialsSecret(n)}}
	}
	return spec
}

// objectStoreSpec is the store the cluster archives to (retention set) or,
// for a recovery source, reads from (no retention: it never deletes).
func (a *PostgresArgs) objectStoreSpec(at backupLocation, regionKey, retention string) objectStoreSpec {
	s := s3Secret(a.name())
	return objectStoreSpec{
		Configuration: barmanConfig{
			DestinationPath: at.path(),
			EndpointURL:     at.Endpoint,
			S3Credentials: s3Credentials{
				AccessKeyID:     secretKeyRef{Name: s, Key: "ACCESS_KEY_ID"},
				SecretAccessKey: secretKeyRef{Name: s, Key: "ACCESS_SECRET_KEY"},
				Region:          secretKeyRef{Name: s, Key: regionKey},
			},
			WAL:  walConfig{Compression: "gzip", MaxParallel: 2},
			Data: dataConfig{Compression: "gzip", Jobs: 2},
		},
		RetentionPolicy: retention,
		InstanceSidecarConfiguration: sidecarConfig{
			// S3-compatible stores refuse the checksums newer AWS SDKs send
			// by default.
			Env: []envVar{
				{Name: "AWS_REQUEST_CHECKSUM_CALCULATION", Value: "when_required"},
				{Name: "AWS_RESPONSE_CHECKSUM_VALIDATION", Value: "when_required"},
			},
			Resources: resources{
				Requests: map[string]string{"cpu": sidecarResources.Requests.CPU, "memory": sidecarResources.Requests.Memory},
				Limits:   map[string]string{"cpu": sidecarResources.Limits.CPU, "memory": sidecarResources.Limits.Memory},
			},
		},
	}
}

func (a *PostgresArgs) scheduledBackupSpec() scheduledBackupSpec {
	return scheduledBackupSpec{
		Schedule: a.Backup.Schedule, Immediate: true, BackupOwnerReference: "self",
		Cluster: localRef{a.name()}, Method: "plugin", PluginConfiguration: pluginConfig{Name: PluginName},
	}
}

// NewPostgres creates the cluster and what it needs. The cluster is
// protected: deleting it deletes its volumes.
func NewPostgres(ctx *pulumi.Context, name string, args *PostgresArgs, opts ...pulumi.ResourceOption) (*Postgres, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("postgres %q: %w", name, err)
	}
	c := &Postgres{}
	if err := ctx.RegisterComponentResource(PostgresType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("postgres %q: %w", name, err) }
	n := args.name()
	meta := func(obj string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(obj), Namespace: args.Namespace}
	}
	child := pulumi.Parent(c)

	var ready []pulumi.Resource
	if !args.ExternalCredentials {
		creds, err := args.credentials(ctx, name, meta(credentialsSecret(n)), child)
		if err != nil {
			return nil, wrap(err)
		}
		ready = append(ready, creds)
	}
	s3, err := corev1.NewSecret(ctx, name+"-backup-s3", &corev1.SecretArgs{
		Metadata: meta(s3Secret(n)),
		StringData: pulumi.ToSecret(pulumi.StringMap{
			"ACCESS_KEY_ID":     args.Backup.AccessKey,
			"ACCESS_SECRET_KEY": args.Backup.SecretKey,
			"REGION":            pulumi.String(args.Backup.Region),
			"RECOVERY_REGION":   pulumi.String(args.recoverySource().Region),
		}).(pulumi.StringMapOutput),
	}, child)
	if err != nil {
		return nil, wrap(fmt.Errorf("S3 credentials: %w", err))
	}

	// The object stores need the plugin's CRD and the S3 Secret; the
	// cluster the operator's CRDs and its credentials. The cluster names
	// its object store and the operator waits for it: no edge between them.
	storeReady := append([]pulumi.Resource{s3}, args.PluginReady...)
	if _, err := custom(ctx, name+"-object-store", "barmancloud.cnpg.io/v1", "ObjectStore", objectStore(n), args.Namespace,
		args.objectStoreSpec(args.ownSource(), "REGION", args.Backup.Retention), child, pulumi.DependsOn(storeReady)); err != nil {
		return nil, wrap(err)
	}
	if args.Recovery != nil {
		if _, err := custom(ctx, name+"-recovery-source", "barmancloud.cnpg.io/v1", "ObjectStore", recoveryStore(n), args.Namespace,
			args.objectStoreSpec(args.recoverySource(), "RECOVERY_REGION", ""), child, pulumi.DependsOn(storeReady)); err != nil {
			return nil, wrap(err)
		}
	}
	if _, err := custom(ctx, name, "postgresql.cnpg.io/v1", "Cluster", n, args.Namespace,
		args.clusterSpec(), child, pulumi.DependsOn(append(ready, args.OperatorReady...)), pulumi.Protect(true)); err != nil {
		return nil, wrap(err)
	}
	// The operator starts the scheduled backups once the cluster is ready.
	if _, err := custom(ctx, name+"-scheduled-backup", "postgresql.cnpg.io/v1", "ScheduledBackup", n+"-scheduled", args.Namespace,
		args.scheduledBackupSpec(), child, pulumi.DependsOn(args.OperatorReady)); err != nil {
		return nil, wrap(err)
	}
	if _, err := custom(ctx, name+"-pod-monitor", "monitoring.coreos.com/v1", "PodMonitor", n, args.Namespace, map[string]any{
		"selector":            map[string]any{"matchLabels": map[string]any{ClusterLabel: n}},
		"podMetricsEndpoints": []any{map[string]any{"port": "metrics"}},
	}, child, pulumi.DependsOn(args.MonitoringReady)); err != nil {
		return nil, wrap(err)
	}
	if err := args.networkPolicy(ctx, name, child); err != nil {
		return nil, wrap(err)
	}
	if args.Dump != nil {
		if err := args.newDump(ctx, name, child); err != nil {
			return nil, wrap(err)
		}
	}
	if err := args.newCanary(ctx, name, child); err != nil {
		return nil, wrap(err)
	}
	c.Host = pulumi.Sprintf("%s-rw", n)
	c.PoolerHost = pulumi.String("").ToStringOutput()
	if args.PoolerInstances > 0 {
		if err := args.newPooler(ctx, name, child); err != nil {
			return nil, wrap(err)
		}
		c.PoolerHost = pulumi.String(args.PoolerName()).ToStringOutput()
	}
	c.CredentialsSecret = pulumi.String(credentialsSecret(n)).ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"host": c.Host, "poolerHost": c.PoolerHost, "credentialsSecret": c.CredentialsSecret})
}

// credentials generates the owner's password (its own random provider)
// and writes the basic-auth Secret.
func (a *PostgresArgs) credentials(ctx *pulumi.Context, name string, meta *metav1.ObjectMetaArgs, opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	rnd, err := random.NewProvider(ctx, name, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("random provider: %w", err)
	}
	password, err := random.NewRandomPassword(ctx, name+"-password", &random.RandomPasswordArgs{
		Length: pulumi.Int(32), Special: pulumi.Bool(false),
	}, append(opts, pulumi.Provider(rnd))...)
	if err != nil {
		return nil, fmt.Errorf("password: %w", err)
	}
	// Retained when the program drops it: the switch to an ExternalSecret
	// (ExternalCredentials) adopts it by name, with no gap for the pods.
	creds, err := corev1.NewSecret(ctx, name+"-app", &corev1.SecretArgs{
		Metadata: meta,
		Type:     pulumi.String("kubernetes.io/basic-auth"),
		StringData: pulumi.ToSecret(pulumi.StringMap{
			"username": pulumi.String(a.Owner),
			"password": password.Result,
		}).(pulumi.StringMapOutput),
	}, append(opts, pulumi.RetainOnDelete(true))...)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	return creds, nil
}

// networkPolicy admits PostgreSQL (5432) from the namespace's pods only,
// the operator to the instances' status port (8000) and PostgreSQL and Prometheus to the
// metrics port (9187); the instances may reach each other, the Kubernetes
// API and S3 (HTTPS).
func (a *PostgresArgs) networkPolicy(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) error {
	n := a.name()
	fromNamespace := func(ns string) networkingv1.NetworkPolicyPeerArray {
		return networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
			NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(ns)}},
		}}
	}
	port := func(p int) networkingv1.NetworkPolicyPortArray {
		return networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)}}
	}
	instances := &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{ClusterLabel: pulumi.String(n)}}
	_, err := networkingv1.NewNetworkPolicy(ctx, name+"-network-policy", &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: a.Namespace},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: instances,
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{}}}, Ports: port(5432)},
				// The operator reads each instance's status and connects to PostgreSQL.
				networkingv1.NetworkPolicyIngressRuleArgs{From: fromNamespace(a.OperatorNamespace), Ports: append(port(8000), port(5432)...)},
				networkingv1.NetworkPolicyIngressRuleArgs{From: fromNamespace(a.MonitoringNamespace), Ports: port(9187)},
			},
			Egress: networkingv1.NetworkPolicyEgressRuleArray{
				networkingv1.NetworkPolicyEgressRuleArgs{To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{PodSelector: instances}}},
				// The API server (the instance manager) and S3 (backups)
				// live outside the cluster at addresses it does not know.
				networkingv1.NetworkPolicyEgressRuleArgs{Ports: networkingv1.NetworkPolicyPortArray{
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(443)},
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(6443)},
				}},
			},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("network policy: %w", err)
	}
	return nil
}

// custom creates a custom resource from a typed spec.
func custom(ctx *pulumi.Context, name, apiVersion, kind, objName string, namespace pulumi.StringInput, spec any,
	opts ...pulumi.ResourceOption,
) (*apiextensions.CustomResource, error) {
	return customresource.New(ctx, name, customresource.Object{APIVersion: apiVersion, Kind: kind, Name: objName, Namespace: namespace}, spec, opts...)
}
