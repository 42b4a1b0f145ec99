package platform

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/infra/netpol"
)

// PushgatewayType is the type token of the Pushgateway component.
const PushgatewayType = "camps:platform:Pushgateway"

// PushgatewayChart is the pinned prometheus-pushgateway chart (app v1.11.3).
var PushgatewayChart = helm.Chart{
	Name: "prometheus-pushgateway", Version: "3.8.0",
	Repository: "https://prometheus-community.github.io/helm-charts",
}

// pushgatewayName is the Pushgateway's fixed name (fullnameOverride), so
// that its address is known to the jobs that push, in every stack on the
// cluster.
const pushgatewayName = "pushgateway"

// PushgatewayURL is where batch jobs push their results.
const PushgatewayURL = "http://" + pushgatewayName + "." + convention.MonitoringNamespace + ".svc:9091"

// PushgatewayVolume is the claim that keeps the pushed results across
// restarts: a restore drill runs weekly, and its last result must
// outlive the Pushgateway's pod.
const PushgatewayVolume = "256Mi"

// DefaultPushgatewayResources size the Pushgateway for a few groups.
var DefaultPushgatewayResources = convention.NewResources("10m", "32Mi", "100m", "64Mi")

// pushgatewayPods are its pods' labels (the chart's name label).
var pushgatewayPods = convention.PushgatewayPods

// pushingLabel marks the pods that may push, in any namespace.
const pushingLabel = "camps.ch/pushes-metrics"

// PushingPods label the pods that may push, in any namespace.
var PushingPods = map[string]string{pushingLabel: "true"}

// Pushgateway is Prometheus's Pushgateway, which keeps the last results of
// batch jobs (the restore drills) for Prometheus to scrape.
type Pushgateway struct {
	pulumi.ResourceState

	// URL is PushgatewayURL.
	URL pulumi.StringOutput `pulumi:"url"`
}

// PushgatewayArgs configure the Pushgateway.
type PushgatewayArgs struct {
	// Chart overrides the chart's source; default PushgatewayChart.
	Chart *helm.Chart
	// Namespace is the monitoring namespace; required.
	Namespace pulumi.StringInput
	// StorageClass holds its volume (PushgatewayVolume); required.
	StorageClass string
	// MonitoringReady is what its ServiceMonitor waits for (the CRD).
	MonitoringReady []pulumi.Resource
}

func (a *PushgatewayArgs) validate() error {
	if a == nil || a.Namespace == nil || a.StorageClass == "" {
		return errors.New("the monitoring namespace and a storage class are required")
	}
	return nil
}

// Volumes are its one volume.
func (a *PushgatewayArgs) Volumes() []convention.Volumes {
	return []convention.Volumes{{Name: "pushgateway", Count: 1, Size: PushgatewayVolume, StorageClass: a.StorageClass}}
}

// Requests are the CPU and memory it asks for.
func (a *PushgatewayArgs) Requests() convention.Requests {
	return convention.RequestsOf(1, DefaultPushgatewayResources)
}

type pushgatewayValues struct {
	FullnameOverride         string               `json:"fullnameOverride"`
	Resources                convention.Resources `json:"resources"`
	SecurityContext          map[string]any       `json:"securityContext"`
	ContainerSecurityContext map[string]any       `json:"containerSecurityContext"`
	AutomountToken           bool                 `json:"automountServiceAccountToken"`
	ExtraArgs                []string             `json:"extraArgs"`
	PersistentVolume         pushgatewayVolume    `json:"persistentVolume"`
	ServiceMonitor           blackboxSvcMonitor   `json:"serviceMonitor"`
}

type pushgatewayVolume struct {
	Enabled      bool   `json:"enabled"`
	Size         string `json:"size"`
	StorageClass string `json:"storageClass"`
	MountPath    string `json:"mountPath"`
}

func (a *PushgatewayArgs) values() pushgatewayValues {
	return pushgatewayValues{
		FullnameOverride: pushgatewayName,
		Resources:        DefaultPushgatewayResources,
		// The chart sets the user only; Pod Security restricted wants the rest.
		SecurityContext: map[string]any{
			"runAsNonRoot": true, "runAsUser": 65534, "fsGroup": 65534,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"},
		},
		ContainerSecurityContext: map[string]any{
			"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
			"capabilities": map[string]any{"drop": []any{"ALL"}},
		},
		AutomountToken: false,
		// Written every 5 minutes and at shutdown, read at start.
		ExtraArgs:        []string{"--persistence.file=/data/pushgateway.db", "--persistence.interval=5m"},
		PersistentVolume: pushgatewayVolume{Enabled: true, Size: PushgatewayVolume, StorageClass: a.StorageClass, MountPath: "/data"},
		// The program's own ServiceMonitor (below) waits for the CRD; the
		// release waits for nothing.
		ServiceMonitor: blackboxSvcMonitor{Enabled: false},
	}
}

// pushgatewayNetwork: Prometheus scrapes it; the pods labelled PushingPods,
// in any namespace, push to it.
func pushgatewayNetwork() []netpol.Allow {
	return []netpol.Allow{{Name: "pushgateway", Pods: pushgatewayPods, Ingress: []netpol.Flow{
		netpol.Within(convention.PrometheusPods, 9091),
		{Peers: []netpol.Peer{{AnyNamespace: true, Pods: PushingPods}}, Ports: netpol.TCP(9091)},
	}}}
}

// NewPushgateway installs the Pushgateway in the monitoring namespace,
// with its results on a volume and a ServiceMonitor that keeps the pushed
// labels (honorLabels). Defaults: chart PushgatewayChart, resources
// DefaultPushgatewayResources, one replica.
func NewPushgateway(ctx *pulumi.Context, name string, args *PushgatewayArgs, opts ...pulumi.ResourceOption) (*Pushgateway, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("pushgateway %q: %w", name, err)
	}
	c := &Pushgateway{}
	if err := ctx.RegisterComponentResource(PushgatewayType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("pushgateway %q: %w", name, err) }
	values, err := helm.Values(args.values())
	if err != nil {
		return nil, wrap(err)
	}
	if _, err := netpol.Add(ctx, name, args.Namespace, pushgatewayNetwork(), pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}
	if _, err := helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: helm.Override(PushgatewayChart, args.Chart), Name: name, Namespace: args.Namespace, Values: values,
	}, pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}
	if err := serviceMonitor(ctx, name, args.Namespace,
		map[string]any{"app.kubernetes.io/name": pushgatewayPods["app.kubernetes.io/name"]},
		map[string]any{"port": "http", "honorLabels": true},
		args.MonitoringReady, pulumi.Parent(c)); err != nil {
		return nil, wrap(err)
	}
	c.URL = pulumi.String(PushgatewayURL).ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"url": c.URL})
}
