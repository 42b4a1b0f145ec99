package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/helm"
)

// LonghornType is the type token of the Longhorn component.
const LonghornType = "camps:platform:Longhorn"

// LonghornChart is the pinned Longhorn chart.
var LonghornChart = helm.Chart{Name: "longhorn", Version: "1.12.1", Repository: "https://charts.longhorn.io"}

// Longhorn's namespace (convention.LonghornNamespace) must be privileged: the
// manager DaemonSet runs privileged and mounts the host's /dev, /proc and
// /var/lib/longhorn with bidirectional propagation to attach iSCSI block
// devices, and the CSI plugin needs SYS_ADMIN. No lower level admits that.

// LonghornResources size the Longhorn containers the chart lets us size:
// the manager (values) and the CSI components (a manager setting). The UI,
// the driver deployer and the engine image have no resources setting in
// chart 1.12.1.
type LonghornResources struct {
	Manager                                                 convention.Resources
	CSIAttacher, CSIProvisioner, CSIResizer, CSISnapshotter convention.Resources
	CSIPlugin, CSINodeDriverRegistrar, CSILivenessProbe     convention.Resources
}

// DefaultLonghornResources fit a few dozen volumes.
var DefaultLonghornResources = LonghornResources{
	Manager:                convention.NewResources("100m", "256Mi", "1", "512Mi"),
	CSIAttacher:            convention.NewResources("10m", "32Mi", "100m", "64Mi"),
	CSIProvisioner:         convention.NewResources("10m", "32Mi", "100m", "64Mi"),
	CSIResizer:             convention.NewResources("10m", "32Mi", "100m", "64Mi"),
	CSISnapshotter:         convention.NewResources("10m", "32Mi", "100m", "64Mi"),
	CSIPlugin:              convention.NewResources("10m", "48Mi", "200m", "128Mi"),
	CSINodeDriverRegistrar: convention.NewResources("5m", "16Mi", "50m", "32Mi"),
	CSILivenessProbe:       convention.NewResources("5m", "16Mi", "50m", "32Mi"),
}

// DiskSettings are how much of a node's disk Longhorn schedules volumes
// on: installed as Longhorn's settings of the same names, and counted by
// the stack's storage budget.
type DiskSettings struct {
	// ReservedPercent of the default disk is left to the node
	// (storageReservedPercentageForDefaultDisk).
	ReservedPercent int
	// MinimalAvailablePercent of a disk must stay free for Longhorn to
	// schedule another replica on it (storageMinimalAvailablePercentage).
	MinimalAvailablePercent int
	// OverProvisioningPercent: the scheduled replicas' sizes may reach
	// this share of the unreserved disk (storageOverProvisioningPercentage).
	OverProvisioningPercent int
}

// DefaultDiskSettings are Longhorn's own defaults, over-provisioning
// included: at 100 %, the sizes of the volumes on a disk never promise
// more than it has, so a full volume cannot fill the node's disk.
var DefaultDiskSettings = DiskSettings{ReservedPercent: 30, MinimalAvailablePercent: 25, OverProvisioningPercent: 100}

// Schedulable is how many bytes of replicas Longhorn schedules on a disk
// of diskBytes whose system (OS, images, logs) takes systemBytes: the
// scheduled sizes stay within the unreserved share times the
// over-provisioning, and, counting every replica as full, the disk keeps
// its minimal available share free.
func (d DiskSettings) Schedulable(diskBytes, systemBytes int64) int64 {
	byReservation := (diskBytes - diskBytes*int64(d.ReservedPercent)/100) * int64(d.OverProvisioningPercent) / 100
	byFreeSpace := diskBytes - diskBytes*int64(d.MinimalAvailablePercent)/100 - systemBytes
	return max(min(byReservation, byFreeSpace), 0)
}

// DefaultInstanceManagerCPU is the share of each node's CPU (percent)
// Longhorn reserves for the instance manager that runs the volumes'
// engines and replicas: Longhorn's own default.
const DefaultInstanceManagerCPU = 12

// Longhorn is distributed block storage on the nodes' disks, the
// cluster's default StorageClass.
type Longhorn struct {
	pulumi.ResourceState

	// Namespace is Longhorn's namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// StorageClass is the default StorageClass.
	StorageClass pulumi.StringOutput `pulumi:"storageClass"`
	// LocalStorageClass is the class of one replica on the pod's node.
	LocalStorageClass pulumi.StringOutput `pulumi:"localStorageClass"`
	// ScratchStorageClass is the class of throwaway volumes.
	ScratchStorageClass pulumi.StringOutput `pulumi:"scratchStorageClass"`
	// Release is the Helm release; volumes depend on it.
	Release *helm.Release `pulumi:"-"`
}

// LonghornArgs configure Longhorn.
type LonghornArgs struct {
	// Chart overrides the chart's source; default LonghornChart.
	Chart *helm.Chart
	// Replicas of every volume; at least 1.
	Replicas int
	// Nodes is the cluster's smallest node count. When Replicas outnumber
	// it, replica soft anti-affinity lets replicas share a node; otherwise
	// every volume would stay degraded.
	Nodes int
	// NodeMilliCPU is one node's CPU in millicores, for the budget.
	NodeMilliCPU int64
	// InstanceManagerCPU is the percentage of each node's CPU reserved for
	// the instance manager; default DefaultInstanceManagerCPU.
	InstanceManagerCPU int
	// Snapshot is the recurring snapshot job; required.
	Snapshot RecurringJob
	// BackupTarget, when set, is the S3 backup store.
	BackupTarget *BackupTarget
	// Backup, when set, is the recurring backup job of every volume; it
	// needs BackupTarget.
	Backup *RecurringJob
	// Drill, when set, restores the newest backup on a schedule; it needs
	// Backup.
	Drill *LonghornDrill
	// Resources of the containers; default DefaultLonghornResources.
	Resources *LonghornResources
	// Disk settings; default DefaultDiskSettings.
	Disk *DiskSettings
	// MonitoringReady are what the ServiceMonitor waits for (the monitoring CRDs).
	MonitoringReady []pulumi.Resource
}

// RecurringJob is a Longhorn recurring job of the default volume group.
type RecurringJob struct {
	// Cron is the schedule, e.g. "0 2 * * *".
	Cron string
	// Retain is how many snapshots or backups the job keeps.
	Retain int
}

// BackupTarget is an S3 bucket for Longhorn backups.
type BackupTarget struct {
	// URL is s3://<bucket>@<region>/ (with the trailing slash).
	URL string
	// CredentialSecret names the Secret in longhorn-system holding
	// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_ENDPOINTS; with
	// Credentials, the component creates it under this name.
	CredentialSecret string
	// Credentials, when set, are written to CredentialSecret.
	Credentials *S3Credentials
}

// S3Credentials reach an S3 endpoint.
type S3Credentials struct {
	// Endpoint is the S3 endpoint, https://….
	Endpoint string
	// AccessKey and SecretKey; SecretKey is kept secret.
	AccessKey, SecretKey pulumi.StringInput
}

func (a *LonghornArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Replicas < 1 || a.Nodes < 1:
		return errors.New("replicas and nodes must be at least 1")
	case a.Disk != nil && (a.Disk.ReservedPercent < 0 || a.Disk.ReservedPercent > 100 ||
		a.Disk.MinimalAvailablePercent < 0 || a.Disk.MinimalAvailablePercent > 100 || a.Disk.OverProvisioningPercent < 1):
		return errors.New("the disk settings must be percentages, the over-provisioning at least 1")
	case a.Snapshot.Cron == "" || a.Snapshot.Retain < 1:
		return errors.New("the snapshot job needs a schedule and a retention")
	case a.Backup != nil && (a.Backup.Cron == "" || a.Backup.Retain < 1):
		return errors.New("the backup job needs a schedule and a retention")
	case a.Drill != nil && a.Backup == nil:
		return errors.New("the restore drill needs the backup job")
	case a.Drill.validate() != nil:
		return a.Drill.validate()
	case a.Backup != nil && a.BackupTarget == nil:
		return errors.New("the backup job needs a backup target")
	case a.BackupTarget != nil && (!strings.HasPrefix(a.BackupTarget.URL, "s3://") || !strings.HasSuffix(a.BackupTarget.URL, "/") || a.BackupTarget.CredentialSecret == ""):
		return errors.New("the backup target needs an s3://<bucket>@<region>/ URL and a credential Secret")
	case a.BackupTarget != nil && a.BackupTarget.Credentials != nil &&
		(!strings.HasPrefix(a.BackupTarget.Credentials.Endpoint, "https://") || a.BackupTarget.Credentials.AccessKey == nil || a.BackupTarget.Credentials.SecretKey == nil):
		return errors.New("the backup credentials need an https:// endpoint and both keys")
	}
	return nil
}

func (a *LonghornArgs) resources() LonghornResources {
	if a.Resources != nil {
		return *a.Resources
	}
	return DefaultLonghornResources
}

func (a *LonghornArgs) disk() DiskSettings {
	if a.Disk != nil {
		return *a.Disk
	}
	return DefaultDiskSettings
}

func (a *LonghornArgs) instanceManagerCPU() int {
	if a.InstanceManagerCPU > 0 {
		return a.InstanceManagerCPU
	}
	return DefaultInstanceManagerCPU
}

// csiReplicas runs one CSI controller per node, at most three.
func (a *LonghornArgs) csiReplicas() int { return min(a.Nodes, 3) }

// uiReplicas runs one UI on a single node, two otherwise.
func (a *LonghornArgs) uiReplicas() int { return min(a.Nodes, 2) }

// SoftAntiAffinity tells whether replicas may share a node.
func (a *LonghornArgs) SoftAntiAffinity() bool { return a.Replicas > a.Nodes }

// Requests are the CPU and memory Longhorn asks for on Nodes nodes: the
// manager and CSI plugin on every node, the CSI controllers, and the
// instance manager's CPU reservation.
func (a *LonghornArgs) Requests() convention.Requests {
	r := a.resources()
	perNode := convention.RequestsOf(1, r.Manager, r.CSIPlugin, r.CSINodeDriverRegistrar, r.CSILivenessProbe).
		Add(convention.Requests{MilliCPU: a.NodeMilliCPU * int64(a.instanceManagerCPU()) / 100})
	controllers := convention.RequestsOf(a.csiReplicas(), r.CSIAttacher, r.CSIProvisioner, r.CSIResizer, r.CSISnapshotter)
	return perNode.Times(a.Nodes).Add(controllers)
}

type longhornValues struct {
	Persistence        longhornPersistence  `json:"persistence"`
	DefaultSettings    longhornSettings     `json:"defaultSettings"`
	DefaultBackupStore *longhornBackupStore `json:"defaultBackupStore,omitempty"`
	LonghornManager    resourcesOnly        `json:"longhornManager"`
	LonghornUI         longhornUI           `json:"longhornUI"`
	CSI                longhornCSI          `json:"csi"`
}

type longhornPersistence struct {
	DefaultClass             bool   `json:"defaultClass"`
	DefaultClassReplicaCount int    `json:"defaultClassReplicaCount"`
	ReclaimPolicy            string `json:"reclaimPolicy"`
}

type longhornSettings struct {
	DefaultReplicaCount                      int    `json:"defaultReplicaCount"`
	ReplicaSoftAntiAffinity                  bool   `json:"replicaSoftAntiAffinity"`
	DeletingConfirmationFlag                 bool   `json:"deletingConfirmationFlag"`
	GuaranteedInstanceManagerCPU             int    `json:"guaranteedInstanceManagerCPU"`
	SystemManagedCSIComponentsResourceLimits string `json:"systemManagedCSIComponentsResourceLimits"`
	StorageReservedPercentageForDefaultDisk  int    `json:"storageReservedPercentageForDefaultDisk"`
	StorageMinimalAvailablePercentage        int    `json:"storageMinimalAvailablePercentage"`
	StorageOverProvisioningPercentage        int    `json:"storageOverProvisioningPercentage"`
}

type longhornBackupStore struct {
	BackupTarget                 string `json:"backupTarget"`
	BackupTargetCredentialSecret string `json:"backupTargetCredentialSecret"`
}

type longhornUI struct {
	Replicas int `json:"replicas"`
}

type longhornCSI struct {
	AttacherReplicaCount    int `json:"attacherReplicaCount"`
	ProvisionerReplicaCount int `json:"provisionerReplicaCount"`
	ResizerReplicaCount     int `json:"resizerReplicaCount"`
	SnapshotterReplicaCount int `json:"snapshotterReplicaCount"`
}

func (a *LonghornArgs) values() (longhornValues, error) {
	r := a.resources()
	csi, err := json.Marshal(map[string]convention.Resources{
		"csi-attacher": r.CSIAttacher, "csi-provisioner": r.CSIProvisioner,
		"csi-resizer": r.CSIResizer, "csi-snapshotter": r.CSISnapshotter,
		"longhorn-csi-plugin": r.CSIPlugin, "node-driver-registrar": r.CSINodeDriverRegistrar,
		"longhorn-liveness-probe": r.CSILivenessProbe,
	})
	if err != nil {
		return longhornValues{}, err
	}
	v := longhornValues{
		// Retain: deleting a claim keeps its volume until someone deletes it.
		Persistence: longhornPersistence{DefaultClass: true, DefaultClassReplicaCount: a.Replicas, ReclaimPolicy: "Retain"},
		DefaultSettings: longhornSettings{
			DefaultReplicaCount:     a.Replicas,
			ReplicaSoftAntiAffinity: a.SoftAntiAffinity(),
			// Left false, Longhorn's uninstall hook refuses to run: with
			// the release protected, Longhorn cannot be deleted by accident.
			DeletingConfirmationFlag:                 false,
			GuaranteedInstanceManagerCPU:             a.instanceManagerCPU(),
			SystemManagedCSIComponentsResourceLimits: string(csi),
			StorageReservedPercentageForDefaultDisk:  a.disk().ReservedPercent,
			StorageMinimalAvailablePercentage:        a.disk().MinimalAvailablePercent,
			StorageOverProvisioningPercentage:        a.disk().OverProvisioningPercent,
		},
		LonghornManager: resourcesOnly{r.Manager},
		LonghornUI:      longhornUI{Replicas: a.uiReplicas()},
		CSI: longhornCSI{
			AttacherReplicaCount: a.csiReplicas(), ProvisionerReplicaCount: a.csiReplicas(),
			ResizerReplicaCount: a.csiReplicas(), SnapshotterReplicaCount: a.csiReplicas(),
		},
	}
	if t := a.BackupTarget; t != nil {
		v.DefaultBackupStore = &longhornBackupStore{BackupTarget: t.URL, BackupTargetCredentialSecret: t.CredentialSecret}
	}
	return v, nil
}

// NewLonghorn installs Longhorn as the default StorageClass with its
// recurring snapshot job and a ServiceMonitor. The namespace and release
// are protected and Longhorn's deleting-confirmation flag stays false, so
// it cannot be uninstalled by accident. Defaults: chart LonghornChart, resources
// DefaultLonghornResources, instance manager CPU DefaultInstanceManagerCPU.
func NewLonghorn(ctx *pulumi.Context, name string, args *LonghornArgs, opts ...pulumi.ResourceOption) (*Longhorn, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("longhorn %q: %w", name, err)
	}
	c := &Longhorn{}
	if err := ctx.RegisterComponentResource(LonghornType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("longhorn %q: %w", name, err) }
	ns, err := convention.NewIsolatedNamespace(ctx, name, convention.LonghornNamespace, convention.Privileged, nil, longhornNetwork(), pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.Namespace = ns.Name
	if t := args.BackupTarget; t != nil && t.Credentials != nil {
		if _, err := corev1.NewSecret(ctx, name+"-backup-credentials", &corev1.SecretArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(t.CredentialSecret), Namespace: c.Namespace},
			StringData: pulumi.ToSecret(pulumi.StringMap{
				"AWS_ACCESS_KEY_ID":     t.Credentials.AccessKey,
				"AWS_SECRET_ACCESS_KEY": t.Credentials.SecretKey,
				"AWS_ENDPOINTS":         pulumi.String(t.Credentials.Endpoint),
			}).(pulumi.StringMapOutput),
		}, pulumi.Parent(c)); err != nil {
			return nil, wrap(fmt.Errorf("backup credentials: %w", err))
		}
	}
	v, err := args.values()
	if err != nil {
		return nil, wrap(err)
	}
	values, err := helm.Values(v)
	if err != nil {
		return nil, wrap(err)
	}
	chart := helm.Override(LonghornChart, args.Chart)
	c.Release, err = helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: chart, Name: name, Namespace: c.Namespace, Values: values, Timeout: 900,
	}, pulumi.Parent(c), pulumi.Protect(true))
	if err != nil {
		return nil, wrap(err)
	}
	c.StorageClass = pulumi.String(convention.StorageClass).ToStringOutput()
	local, err := localStorageClass(ctx, name, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.LocalStorageClass = local.Metadata.Name().Elem()
	scratch, err := scratchStorageClass(ctx, name, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.ScratchStorageClass = scratch.Metadata.Name().Elem()

	// The backup job forces a backup of every volume, unchanged or
	// detached ones too, so that each volume's last backup is recent and
	// the freshness alert means what it says.
	for _, j := range []struct {
		name, task string
		job        *RecurringJob
	}{{"snapshot", "snapshot", &args.Snapshot}, {"backup", "backup-force-create", args.Backup}} {
		if j.job == nil {
			continue
		}
		if _, err := customResource(ctx, name+"-"+j.name, "longhorn.io/v1beta2", "RecurringJob", j.name, c.Namespace, map[string]any{
			"name": j.name, "task": j.task, "cron": j.job.Cron, "retain": j.job.Retain,
			"concurrency": 1, "groups": []any{"default"}, "labels": map[string]any{},
		}, pulumi.Parent(c), pulumi.DependsOn([]pulumi.Resource{c.Release})); err != nil {
			return nil, wrap(err)
		}
	}
	if args.Drill != nil {
		if err := newLonghornDrill(ctx, name, c.Namespace, args.Drill, pulumi.Parent(c)); err != nil {
			return nil, wrap(err)
		}
	}
	if err := serviceMonitor(ctx, name, c.Namespace,
		map[string]any{"app": "longhorn-manager"},
		map[string]any{"port": "manager", "interval": "60s"},
		args.MonitoringReady, pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"namespace": c.Namespace, "storageClass": c.StorageClass, "localStorageClass": c.LocalStorageClass,
		"scratchStorageClass": c.ScratchStorageClass,
	})
}

// localStorageClass is convention.LocalStorageClass: one replica, which
// strict-local data locality keeps on the node of the pod that uses the
// volume, as Longhorn's data-locality guide advises for applications that
// replicate their data themselves. Binding waits for the pod, so the
// replica is made where the pod is scheduled. Retain, like the default
// class: deleting a claim keeps its volume. The class needs no running
// Longhorn to be created; claims on it wait for the CSI driver.
func localStorageClass(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (*storagev1.StorageClass, error) {
	return oneReplicaClass(ctx, name+"-local", convention.LocalStorageClass, "Retain", "strict-local", opts...)
}

// scratchStorageClass is convention.ScratchStorageClass, for volumes that
// live minutes (the restore drill's database): one replica near its pod
// (best-effort), deleted with its claim, so nothing is left behind.
func scratchStorageClass(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (*storagev1.StorageClass, error) {
	return oneReplicaClass(ctx, name+"-scratch", convention.ScratchStorageClass, "Delete", "best-effort", opts...)
}

func oneReplicaClass(ctx *pulumi.Context, name, class, reclaim, locality string, opts ...pulumi.ResourceOption) (*storagev1.StorageClass, error) {
	sc, err := storagev1.NewStorageClass(ctx, name, &storagev1.StorageClassArgs{
		Metadata:             &metav1.ObjectMetaArgs{Name: pulumi.String(class)},
		Provisioner:          pulumi.String("driver.longhorn.io"),
		AllowVolumeExpansion: pulumi.Bool(true),
		ReclaimPolicy:        pulumi.String(reclaim),
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		Parameters: pulumi.StringMap{
			"numberOfReplicas":    pulumi.String("1"),
			"dataLocality":        pulumi.String(locality),
			"staleReplicaTimeout": pulumi.String("30"),
			"fsType":              pulumi.String("ext4"),
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("storage class %s: %w", class, err)
	}
	return sc, nil
}
