package platform

import (
	"errors"
	"fmt"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/helm"
)

// MonitoringType is the type token of the Monitoring component.
const MonitoringType = "camps:platform:Monitoring"

// MonitoringChart is the pinned kube-prometheus-stack chart.
var MonitoringChart = helm.Chart{
	Name: "kube-prometheus-stack", Version: "88.5.3",
	Repository: "https://prometheus-community.github.io/helm-charts",
}

// The namespace of Prometheus, Alertmanager and Grafana
// (convention.MonitoringNamespace) must be privileged: node-exporter runs with the host's
// network and PID namespaces and mounts the host's /, /proc and /sys,
// which baseline forbids.

// MonitoringResources size every container of the chart.
type MonitoringResources struct {
	Prometheus, Alertmanager, ConfigReloader, Operator, AdmissionPatch convention.Resources
	Grafana, GrafanaSidecar, KubeStateMetrics, NodeExporter            convention.Resources
}

// DefaultMonitoringResources fit phase 1's small cluster: a few hundred
// series per node, 10 days of retention.
var DefaultMonitoringResources = MonitoringResources{
	Prometheus:       convention.NewResources("200m", "768Mi", "1", "1536Mi"),
	Alertmanager:     convention.NewResources("10m", "64Mi", "100m", "128Mi"),
	ConfigReloader:   convention.NewResources("10m", "25Mi", "50m", "50Mi"),
	Operator:         convention.NewResources("50m", "128Mi", "200m", "256Mi"),
	AdmissionPatch:   convention.NewResources("10m", "32Mi", "100m", "64Mi"),
	Grafana:          convention.NewResources("50m", "192Mi", "500m", "384Mi"),
	GrafanaSidecar:   convention.NewResources("10m", "64Mi", "100m", "128Mi"),
	KubeStateMetrics: convention.NewResources("20m", "64Mi", "200m", "128Mi"),
	NodeExporter:     convention.NewResources("20m", "32Mi", "200m", "64Mi"),
}

// Monitoring is kube-prometheus-stack: Prometheus on Longhorn storage,
// Alertmanager, and Grafana behind the ingress.
type Monitoring struct {
	pulumi.ResourceState

	// Namespace is the monitoring namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// GrafanaURL is Grafana's public address.
	GrafanaURL pulumi.StringOutput `pulumi:"grafanaUrl"`
	// GrafanaAdminPassword is the generated admin password. Always secret.
	GrafanaAdminPassword pulumi.StringOutput `pulumi:"grafanaAdminPassword"`
	// Release is the Helm release; what needs the monitoring CRDs
	// (ServiceMonitors, PrometheusRules) depends on it.
	Release *helm.Release `pulumi:"-"`
	// RuleLabels are the labels Prometheus selects PrometheusRules by: the
	// chart's own rules carry them, and so must every other rule.
	RuleLabels map[string]string `pulumi:"-"`
}

// MonitoringArgs configure the monitoring stack. Every field is required
// unless it says otherwise.
type MonitoringArgs struct {
	// Chart overrides the chart's source; default MonitoringChart.
	Chart *helm.Chart
	// Retention is how long Prometheus keeps samples, e.g. 10d.
	Retention string
	// StorageSize is Prometheus's volume, e.g. 8Gi; 85 % of it is the
	// size-based retention.
	StorageSize string
	// StorageClass of Prometheus's volume.
	StorageClass string
	// PrometheusReplicas is 1, or 2 for high availability.
	PrometheusReplicas int
	// Nodes is the smallest node count, for the budget (node-exporter).
	Nodes int
	// GrafanaHost is Grafana's public host name.
	GrafanaHost string
	// IngressClass serves Grafana.
	IngressClass string
	// ClusterIssuer issues Grafana's certificate.
	ClusterIssuer string
	// AlertmanagerConfig is alertmanager.yaml (see AlertmanagerConfig); it
	// is kept secret.
	AlertmanagerConfig pulumi.StringInput
	// Resources of the containers; default DefaultMonitoringResources.
	Resources *MonitoringResources
}

func (a *MonitoringArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Retention == "" || a.StorageClass == "" || a.GrafanaHost == "" || a.IngressClass == "" || a.ClusterIssuer == "":
		return errors.New("retention, storage class, Grafana host, ingress class and issuer are required")
	case a.PrometheusReplicas < 1 || a.Nodes < 1:
		return errors.New("the Prometheus replicas and the nodes must be at least 1")
	case a.AlertmanagerConfig == nil:
		return errors.New("an Alertmanager configuration is required")
	}
	if q, err := resource.ParseQuantity(a.StorageSize); err != nil || q.Sign() <= 0 {
		return fmt.Errorf("storage size %q is not a positive Kubernetes quantity", a.StorageSize)
	}
	return nil
}

func (a *MonitoringArgs) resources() MonitoringResources {
	if a.Resources != nil {
		return *a.Resources
	}
	return DefaultMonitoringResources
}

// Requests are the CPU and memory of the long-running pods: Prometheus and
// Alertmanager with their config reloaders, the operator, Grafana with its
// two sidecars, kube-state-metrics, and node-exporter on every node.
func (a *MonitoringArgs) Requests() convention.Requests {
	r := a.resources()
	return convention.RequestsOf(a.PrometheusReplicas, r.Prometheus, r.ConfigReloader).
		Add(convention.RequestsOf(1, r.Alertmanager, r.ConfigReloader, r.Operator, r.Grafana, r.KubeStateMetrics)).
		Add(convention.RequestsOf(2, r.GrafanaSidecar)).
		Add(convention.RequestsOf(a.Nodes, r.NodeExporter))
}

// Volumes are Prometheus's: one claim per replica.
func (a *MonitoringArgs) Volumes() []convention.Volumes {
	return []convention.Volumes{{Name: "prometheus", Count: a.PrometheusReplicas, Size: a.StorageSize, StorageClass: a.StorageClass}}
}

// retentionSize is 85 % of the volume, in Prometheus's units (GiB).
func (a *MonitoringArgs) retentionSize() string {
	q, err := resource.ParseQuantity(a.StorageSize)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%dGiB", max(q.Value()*85/(100<<30), 1))
}

type monitoringValues struct {
	Prometheus            prometheusValues   `json:"prometheus"`
	Alertmanager          alertmanagerValues `json:"alertmanager"`
	Grafana               grafanaValues      `json:"grafana"`
	PrometheusOperator    operatorValues     `json:"prometheusOperator"`
	KubeStateMetrics      resourcesOnly      `json:"kube-state-metrics"`
	NodeExporter          resourcesOnly      `json:"prometheus-node-exporter"`
	KubeControllerManager enabledOnly        `json:"kubeControllerManager"`
	KubeScheduler         enabledOnly        `json:"kubeScheduler"`
	KubeEtcd              enabledOnly        `json:"kubeEtcd"`
	// CustomRules overrides the chart's own alerts, by name.
	CustomRules map[string]customRule `json:"customRules"`
}

// customRule overrides one of the chart's alerts.
type customRule struct {
	Severity string `json:"severity,omitempty"`
}

// raisedAlerts are the chart's alerts of severity info that must reach
// someone: they are raised to warning. Node CPU saturation (above 90 % for
// 15 minutes) would otherwise go nowhere.
var raisedAlerts = []string{"NodeCPUHighUsage"}

type prometheusValues struct {
	PrometheusSpec prometheusSpec `json:"prometheusSpec"`
}

type prometheusSpec struct {
	Replicas      int                  `json:"replicas"`
	Retention     string               `json:"retention"`
	RetentionSize string               `json:"retentionSize"`
	Resources     convention.Resources `json:"resources"`
	StorageSpec   storage              `json:"storageSpec"`
	// Rules are picked up by RuleSelector (the release label) in every
	// namespace; every monitor and probe in every namespace.
	RuleSelectorNilUsesHelmValues           bool                     `json:"ruleSelectorNilUsesHelmValues"`
	RuleSelector                            convention.LabelSelector `json:"ruleSelector"`
	ServiceMonitorSelectorNilUsesHelmValues bool                     `json:"serviceMonitorSelectorNilUsesHelmValues"`
	PodMonitorSelectorNilUsesHelmValues     bool                     `json:"podMonitorSelectorNilUsesHelmValues"`
	ProbeSelectorNilUsesHelmValues          bool                     `json:"probeSelectorNilUsesHelmValues"`
	ScrapeConfigSelectorNilUsesHelmValues   bool                     `json:"scrapeConfigSelectorNilUsesHelmValues"`
}

type storage struct {
	VolumeClaimTemplate volumeClaimTemplate `json:"volumeClaimTemplate"`
}

type volumeClaimTemplate struct {
	Spec volumeClaimSpec `json:"spec"`
}

type volumeClaimSpec struct {
	StorageClassName string               `json:"storageClassName"`
	AccessModes      []string             `json:"accessModes"`
	Resources        volumeClaimResources `json:"resources"`
}

type volumeClaimResources struct {
	Requests map[string]string `json:"requests"`
}

type alertmanagerValues struct {
	AlertmanagerSpec alertmanagerSpec `json:"alertmanagerSpec"`
}

type alertmanagerSpec struct {
	UseExistingSecret bool                 `json:"useExistingSecret"`
	ConfigSecret      string               `json:"configSecret"`
	Resources         convention.Resources `json:"resources"`
}

type grafanaValues struct {
	Admin     grafanaAdmin         `json:"admin"`
	Ingress   grafanaIngress       `json:"ingress"`
	Sidecar   grafanaSidecar       `json:"sidecar"`
	Resources convention.Resources `json:"resources"`
}

type grafanaAdmin struct {
	ExistingSecret string `json:"existingSecret"`
	UserKey        string `json:"userKey"`
	PasswordKey    string `json:"passwordKey"`
}

type grafanaIngress struct {
	Enabled          bool              `json:"enabled"`
	IngressClassName string            `json:"ingressClassName"`
	Annotations      map[string]string `json:"annotations"`
	Hosts            []string          `json:"hosts"`
	Path             string            `json:"path"`
	TLS              []ingressTLS      `json:"tls"`
}

type ingressTLS struct {
	SecretName string   `json:"secretName"`
	Hosts      []string `json:"hosts"`
}

type grafanaSidecar struct {
	Dashboards grafanaDashboards    `json:"dashboards"`
	Resources  convention.Resources `json:"resources"`
}

type grafanaDashboards struct {
	Enabled          bool            `json:"enabled"`
	Label            string          `json:"label"`
	LabelValue       string          `json:"labelValue"`
	SearchNamespace  string          `json:"searchNamespace"`
	FolderAnnotation string          `json:"folderAnnotation"`
	Provider         dashboardFolder `json:"provider"`
}

type dashboardFolder struct {
	FoldersFromFilesStructure bool `json:"foldersFromFilesStructure"`
}

type operatorValues struct {
	Resources                convention.Resources `json:"resources"`
	AdmissionWebhooks        admissionWebhooks    `json:"admissionWebhooks"`
	PrometheusConfigReloader resourcesOnly        `json:"prometheusConfigReloader"`
}

type admissionWebhooks struct {
	Patch resourcesOnly `json:"patch"`
}

// Names of the Secrets the chart is pointed at.
const (
	grafanaAdminSecret       = "grafana-admin"
	alertmanagerConfigSecret = "alertmanager-config"
)

func (a *MonitoringArgs) values(release string) monitoringValues {
	r := a.resources()
	return monitoringValues{
		Prometheus: prometheusValues{PrometheusSpec: prometheusSpec{
			RuleSelector:  convention.LabelSelector{MatchLabels: convention.RuleLabels(release)},
			Replicas:      a.PrometheusReplicas,
			Retention:     a.Retention,
			RetentionSize: a.retentionSize(),
			Resources:     r.Prometheus,
			StorageSpec: storage{VolumeClaimTemplate: volumeClaimTemplate{Spec: volumeClaimSpec{
				StorageClassName: a.StorageClass,
				AccessModes:      []string{"ReadWriteOnce"},
				Resources:        volumeClaimResources{Requests: map[string]string{"storage": a.StorageSize}},
			}}},
		}},
		Alertmanager: alertmanagerValues{AlertmanagerSpec: alertmanagerSpec{
			UseExistingSecret: true, ConfigSecret: alertmanagerConfigSecret, Resources: r.Alertmanager,
		}},
		Grafana: grafanaValues{
			Admin: grafanaAdmin{ExistingSecret: grafanaAdminSecret, UserKey: "admin-user", PasswordKey: "admin-password"},
			Ingress: grafanaIngress{
				Enabled:          true,
				IngressClassName: a.IngressClass,
				Annotations:      map[string]string{"cert-manager.io/cluster-issuer": a.ClusterIssuer},
				Hosts:            []string{a.GrafanaHost},
				Path:             "/",
				TLS:              []ingressTLS{{SecretName: "grafana-tls", Hosts: []string{a.GrafanaHost}}},
			},
			Sidecar: grafanaSidecar{
				Dashboards: grafanaDashboards{
					Enabled: true, Label: convention.DashboardLabel, LabelValue: convention.DashboardLabelValue, SearchNamespace: "ALL",
					FolderAnnotation: convention.DashboardFolderLabel, Provider: dashboardFolder{FoldersFromFilesStructure: true},
				},
				Resources: r.GrafanaSidecar,
			},
			Resources: r.Grafana,
		},
		PrometheusOperator: operatorValues{
			Resources:                r.Operator,
			AdmissionWebhooks:        admissionWebhooks{Patch: resourcesOnly{r.AdmissionPatch}},
			PrometheusConfigReloader: resourcesOnly{r.ConfigReloader},
		},
		KubeStateMetrics: resourcesOnly{r.KubeStateMetrics},
		NodeExporter:     resourcesOnly{r.NodeExporter},
		// The managed control plane is not scrapeable: these targets would
		// only raise "down" alerts forever.
		KubeControllerManager: enabledOnly{false},
		KubeScheduler:         enabledOnly{false},
		KubeEtcd:              enabledOnly{false},
		CustomRules:           raised(),
	}
}

func raised() map[string]customRule {
	out := map[string]customRule{}
	for _, name := range raisedAlerts {
		out[name] = customRule{Severity: "warning"}
	}
	return out
}

// AlertRoutes name the receivers of each severity. An empty list means
// every receiver.
type AlertRoutes struct {
	Critical []string
	Warning  []string
	// HeartbeatURL, when set, receives the always-firing Watchdog every
	// minute: a dead man's switch outside the cluster (a healthchecks-style
	// service) alerts when the pings stop, i.e. when Prometheus,
	// Alertmanager or the cluster is down. A secret.
	HeartbeatURL string
}

// HeartbeatReceiver is the receiver of the Watchdog.
const HeartbeatReceiver = "heartbeat"

// inhibitEqual are the labels a critical alert and the warning it silences
// share: the same alert about the same object (namespace, pod, container,
// certificate, node, volume claim, filesystem, SLO). A label both lack
// counts as equal.
var inhibitEqual = []string{"alertname", "namespace", "pod", "container", "name", "node", "instance",
	"persistentvolumeclaim", "mountpoint", "device", "slo"}

// AlertmanagerConfig renders alertmanager.yaml from receivers in
// Alertmanager's own format (each a mapping with a unique name) and the
// receivers of each severity. Critical alerts go to routes.Critical and are
// repeated hourly; warnings, and alerts without a severity, to
// routes.Warning, repeated every 12 hours; the always-firing Watchdog to
// routes.HeartbeatURL every minute when it is set; info alerts, the
// InfoInhibitor (and the Watchdog without a heartbeat) go nowhere. A critical alert silences the
// warnings and infos of the same alert about the same object, a warning
// the infos. With no receivers, alerts are kept in Alertmanager's UI only.
func AlertmanagerConfig(receivers []map[string]any, routes AlertRoutes) (string, error) {
	all := []map[string]any{{"name": "null"}}
	seen := map[string]bool{"null": true, HeartbeatReceiver: true}
	var names []string
	for i, r := range receivers {
		name, _ := r["name"].(string)
		if name == "" || seen[name] {
			return "", fmt.Errorf("receiver %d: a unique, non-empty name other than \"null\" and %q is required", i, HeartbeatReceiver)
		}
		seen[name] = true
		names = append(names, name)
		all = append(all, r)
	}
	pick := func(severity string, want []string) ([]string, error) {
		if len(want) == 0 {
			return names, nil
		}
		for _, n := range want {
			if n == "null" || !seen[n] {
				return nil, fmt.Errorf("%s route: %q is not one of the receivers (%s)", severity, n, strings.Join(names, ", "))
			}
		}
		return want, nil
	}
	critical, err := pick("critical", routes.Critical)
	if err != nil {
		return "", err
	}
	warning, err := pick("warning", routes.Warning)
	if err != nil {
		return "", err
	}
	root := "null"
	if len(warning) > 0 {
		root = warning[0]
	}
	var tree []any
	if routes.HeartbeatURL != "" {
		all = append(all, map[string]any{"name": HeartbeatReceiver, "webhook_configs": []any{
			map[string]any{"url": routes.HeartbeatURL, "send_resolved": false},
		}})
		tree = append(tree, map[string]any{
			"receiver": HeartbeatReceiver, "matchers": []string{`alertname = "Watchdog"`},
			"group_wait": "0s", "group_interval": "1m", "repeat_interval": "1m",
		})
	}
	tree = append(tree,
		map[string]any{"receiver": "null", "matchers": []string{`alertname =~ "Watchdog|InfoInhibitor"`}},
		map[string]any{"receiver": "null", "matchers": []string{`severity =~ "info|none"`}},
	)
	// Each receiver of a severity gets the alert: all but the last route
	// continue to the next.
	severityRoutes := func(matcher, repeat string, to []string) {
		for i, r := range to {
			tree = append(tree, map[string]any{
				"receiver": r, "matchers": []string{matcher},
				"repeat_interval": repeat, "continue": i < len(to)-1,
			})
		}
	}
	severityRoutes(`severity = "critical"`, "1h", critical)
	severityRoutes(`severity =~ "warning|"`, "12h", warning) // and alerts without a severity
	b, err := yaml.Marshal(map[string]any{
		"route": map[string]any{
			"receiver":        root,
			"group_by":        []string{"alertname", "namespace"},
			"group_wait":      "30s",
			"group_interval":  "5m",
			"repeat_interval": "4h",
			"routes":          tree,
		},
		"inhibit_rules": []any{
			map[string]any{"source_matchers": []string{`severity = "critical"`}, "target_matchers": []string{`severity =~ "warning|info"`}, "equal": inhibitEqual},
			map[string]any{"source_matchers": []string{`severity = "warning"`}, "target_matchers": []string{`severity = "info"`}, "equal": inhibitEqual},
			map[string]any{"source_matchers": []string{`alertname = "InfoInhibitor"`}, "target_matchers": []string{`severity = "info"`}, "equal": []string{"namespace"}},
		},
		"receivers": all,
	})
	return string(b), err
}

// NewMonitoring installs kube-prometheus-stack: Prometheus with retention
// and Longhorn storage, picking up every ServiceMonitor, PodMonitor, Probe
// and PrometheusRule of the cluster; Alertmanager configured from a
// Secret; Grafana behind the ingress with a Let's Encrypt certificate, the
// dashboard sidecar on, and a generated admin password.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	c := &Monitoring{}
	if err := ctx.RegisterComponentResource(MonitoringType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("monitoring %q: %w", name, err) }
	ns, err := convention.NewIsolatedNamespace(ctx, name, convention.MonitoringNamespace, convention.Privileged, nil, monitoringNetwork(), pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.Namespace = ns.Name
	meta := func(n string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: c.Namespace}
	}

	rnd, err := random.NewProvider(ctx, name, nil, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(fmt.Errorf("random provider: %w", err))
	}
	password, err := random.NewRandomPassword(ctx, name+"-grafana-admin", &random.RandomPasswordArgs{
		Length: pulumi.Int(32), Special: pulumi.Bool(false),
	}, pulumi.Parent(c), pulumi.Provider(rnd))
	if err != nil {
		return nil, wrap(fmt.Errorf("grafana admin password: %w", err))
	}
	c.GrafanaAdminPassword = pulumi.ToSecret(password.Result).(pulumi.StringOutput)
	// The release does not wait for these Secrets: they are created in
	// parallel, and the pods that mount them start once they exist.
	if _, err := corev1.NewSecret(ctx, name+"-grafana-admin", &corev1.SecretArgs{
		Metadata: meta(grafanaAdminSecret),
		StringData: pulumi.StringMap{
			"admin-user":     pulumi.String("admin"),
			"admin-password": c.GrafanaAdminPassword,
		},
	}, pulumi.Parent(c)); err != nil {
		return nil, wrap(fmt.Errorf("grafana admin secret: %w", err))
	}
	if _, err := corev1.NewSecret(ctx, name+"-alertmanager-config", &corev1.SecretArgs{
		Metadata:   meta(alertmanagerConfigSecret),
		StringData: pulumi.StringMap{"alertmanager.yaml": pulumi.ToSecret(args.AlertmanagerConfig.ToStringOutput()).(pulumi.StringOutput)},
	}, pulumi.Parent(c)); err != nil {
		return nil, wrap(fmt.Errorf("alertmanager config secret: %w", err))
	}

	values, err := helm.Values(args.values(name))
	if err != nil {
		return nil, wrap(err)
	}
	chart := helm.Override(MonitoringChart, args.Chart)
	c.Release, err = helm.NewRelease(ctx, name, &helm.ReleaseArgs{
		Chart: chart, Name: name, Namespace: c.Namespace, Values: values, Timeout: 900,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(err)
	}
	c.RuleLabels = convention.RuleLabels(name)
	c.GrafanaURL = pulumi.String("https://" + args.GrafanaHost).ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"namespace": c.Namespace, "grafanaUrl": c.GrafanaURL, "grafanaAdminPassword": c.GrafanaAdminPassword,
	})
}
