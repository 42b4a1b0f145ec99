package observability

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// DatasourceUID is the uid of the Prometheus datasource kube-prometheus-stack
// provisions in Grafana (grafana.sidecar.datasources.uid).
const DatasourceUID = "prometheus"

// Grafana folders of the dashboards.
const (
	FolderPlatform     = "Platform"
	FolderApplications = "Applications"
	FolderData         = "Data"
)

// Dashboard is a rendered Grafana dashboard and the folder it belongs in.
type Dashboard struct {
	// Name is the ConfigMap's name and the file name the sidecar writes.
	Name string
	// Folder is the Grafana folder.
	Folder string
	// JSON is the dashboard model.
	JSON string
}

// latencyHistogram is the ingress controller's upstream latency histogram
// (milliseconds); its labels name the Ingress (resource_namespace,
// resource_name), the upstream and the status code, but not the host.
const latencyHistogram = "nginx_ingress_controller_upstream_server_response_latency_ms"

// query is one PromQL target of a panel.
type query struct{ expr, legend string }

// panel is a time series (or, with single set, a stat) panel.
type panel struct {
	title, description, unit string
	queries                  []query
	single                   bool
	width                    uint32
}

func q(expr, legend string) query { return query{expr, legend} }

func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr(DatasourceUID)}
}

func (p panel) targets() []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(p.queries))
	for i, qu := range p.queries {
		b := prometheus.NewDataqueryBuilder().Expr(qu.expr).LegendFormat(qu.legend).RefId(string(rune('A' + i)))
		if p.single {
			b = b.Instant()
		}
		out[i] = b
	}
	return out
}

func (p panel) builder() cog.Builder[dashboard.Panel] {
	width := p.width
	if width == 0 {
		width = 12
	}
	if p.single {
		return stat.NewPanelBuilder().Title(p.title).Description(p.description).Unit(p.unit).
			Datasource(datasource()).Targets(p.targets()).Span(width).Height(5).
			GraphMode(common.BigValueGraphModeNone).TextMode(common.BigValueTextModeValueAndName).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	}
	return timeseries.NewPanelBuilder().Title(p.title).Description(p.description).Unit(p.unit).
		Datasource(datasource()).Targets(p.targets()).Span(width).Height(8).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).ShowLegend(true).Calcs([]string{"lastNotNull", "max"}))
}

// board is a dashboard's definition: rows of panels and an optional
// namespace variable filled from a metric's namespace label.
type board struct {
	name, folder, title, description string
	namespaceFrom                    string // label_values(<this>) fills $namespace
	rows                             []row
}

type row struct {
	title  string
	panels []panel
}

func (b board) render() (Dashboard, error) {
	// The classic (v1) model, not dashboardv2: Grafana's file provisioning,
	// which the sidecar feeds, reads v1 JSON; v2 needs Grafana's new API.
	//lint:ignore SA1019 see above
	d := dashboard.NewDashboardBuilder(b.title).Uid(b.name).Description(b.description).
		Tags([]string{"camps", "managed-by-pulumi"}).Refresh("1m").Time("now-6h", "now").
		Timezone("browser").Readonly()
	if b.namespaceFrom != "" {
		d = d.WithVariable(dashboard.NewQueryVariableBuilder("namespace").Label("Namespace").
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(b.namespaceFrom)}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).Multi(true).IncludeAll(true).AllValue(".*"))
	}
	for _, r := range b.rows {
		d = d.WithRow(dashboard.NewRowBuilder(r.title))
		for _, p := range r.panels {
			d = d.WithPanel(p.builder())
		}
	}
	model, err := d.Build()
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard %s: %w", b.name, err)
	}
	out, err := json.MarshalIndent(model, "", "  ")
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard %s: %w", b.name, err)
	}
	return Dashboard{Name: b.name, Folder: b.folder, JSON: string(out)}, nil
}

// Dashboards renders the platform's dashboards: the cluster, the
// applications behind the ingress, the databases, the ingress controller
// and the SLOs.
func Dashboards() ([]Dashboard, error) {
	var out []Dashboard
	for _, b := range []board{clusterBoard(), applicationsBoard(), databaseBoard(), ingressBoard(), sloBoard()} {
		d, err := b.render()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func clusterBoard() board {
	return board{
		name: "camps-cluster", folder: FolderPlatform, title: "Kubernetes cluster",
		description: "Nodes, requests against capacity, pods, namespaces and volumes.",
		rows: []row{
			{"Nodes", []panel{
				{title: "CPU used", unit: "percentunit", queries: []query{
					q(`1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))`, "{{instance}}")}},
				{title: "Memory used", unit: "percentunit", queries: []query{
					q(`1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes`, "{{instance}}")}},
				{title: "CPU requested of allocatable", unit: "percentunit", single: true, width: 6, queries: []query{
					q(`sum(kube_pod_container_resource_requests{resource="cpu"}) / sum(kube_node_status_allocatable{resource="cpu"})`, "CPU")}},
				{title: "Memory requested of allocatable", unit: "percentunit", single: true, width: 6, queries: []query{
					q(`sum(kube_pod_container_resource_requests{resource="memory"}) / sum(kube_node_status_allocatable{resource="memory"})`, "memory")}},
				{title: "Nodes ready", unit: "none", single: true, width: 6, queries: []query{
					q(`sum(kube_node_status_condition{condition="Ready", status="true"})`, "ready")}},
				{title: "Longhorn storage used", unit: "percentunit", single: true, width: 6, queries: []query{
					q(`longhorn_node_storage_usage_bytes / longhorn_node_storage_capacity_bytes`, "{{node}}")}},
			}},
			{"Workloads", []panel{
				{title: "CPU by namespace", unit: "cores", queries: []query{
					q(`sum by (namespace) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[$__rate_interval]))`, "{{namespace}}")}},
				{title: "Memory by namespace", unit: "bytes", queries: []query{
					q(`sum by (namespace) (container_memory_working_set_bytes{container!="", image!=""})`, "{{namespace}}")}},
				{title: "Pods not running", unit: "none", queries: []query{
					q(`sum by (namespace, phase) (kube_pod_status_phase{phase=~"Pending|Failed|Unknown"}) > 0`, "{{namespace}} {{phase}}")}},
				{title: "Container restarts (1 h)", unit: "none", queries: []query{
					q(`sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[1h])) > 0`, "{{namespace}}/{{pod}}")}},
				{title: "Volumes used", unit: "percentunit", width: 24, queries: []query{
					q(`kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes`, "{{namespace}}/{{persistentvolumeclaim}}")}},
			}},
		},
	}
}

func applicationsBoard() board {
	sel := `{resource_namespace=~"$namespace"}`
	by := "resource_namespace, resource_name"
	quantile := func(p float64) panel {
		return panel{title: fmt.Sprintf("Latency p%.0f", p*100), unit: "ms", width: 8, queries: []query{
			q(fmt.Sprintf(`histogram_quantile(%g, sum by (%s, le) (rate(%s_bucket%s[$__rate_interval])))`, p, by, latencyHistogram, sel),
				"{{resource_namespace}}/{{resource_name}}")}}
	}
	return board{
		name: "camps-applications", folder: FolderApplications, title: "Applications",
		description: "Traffic of each Ingress from the NGINX ingress controller's upstream latency histogram " +
			"(the open-source controller labels it by Ingress, not by host), and the blackbox probes of the public hosts.",
		namespaceFrom: "label_values(" + latencyHistogram + "_count, resource_namespace)",
		rows: []row{
			{"Requests", []panel{
				{title: "Request rate by Ingress", unit: "reqps", queries: []query{
					q(fmt.Sprintf(`sum by (%s) (rate(%s_count%s[$__rate_interval]))`, by, latencyHistogram, sel), "{{resource_namespace}}/{{resource_name}}")}},
				{title: "Error rate (5xx share) by Ingress", unit: "percentunit", queries: []query{
					q(fmt.Sprintf(`sum by (%[1]s) (rate(%[2]s_count{resource_namespace=~"$namespace", code=~"5.."}[$__rate_interval]))
  / sum by (%[1]s) (rate(%[2]s_count%[3]s[$__rate_interval]))`, by, latencyHistogram, sel), "{{resource_namespace}}/{{resource_name}}")}},
			}},
			{"Latency", []panel{quantile(0.5), quantile(0.9), quantile(0.95)}},
			{"Public hosts (blackbox probes)", []panel{
				{title: "Probe success", unit: "percentunit", queries: []query{
					q(`avg by (instance) (avg_over_time(probe_success{namespace=~"$namespace"}[$__rate_interval]))`, "{{instance}}")}},
				{title: "Probe duration", unit: "s", queries: []query{
					q(`probe_duration_seconds{namespace=~"$namespace"}`, "{{instance}}")}},
			}},
		},
	}
}

func databaseBoard() board {
	sel := `{namespace=~"$namespace"}`
	return board{
		name: "camps-postgres", folder: FolderData, title: "PostgreSQL",
		description:   "CloudNativePG instances: availability, connections, transactions, query duration and replication; the canary and the restore drills' measured RPO and RTO.",
		namespaceFrom: "label_values(cnpg_collector_up, namespace)",
		rows: []row{
			{"Instances", []panel{
				{title: "PostgreSQL up", unit: "none", single: true, queries: []query{
					q(`cnpg_collector_up`+sel, "{{namespace}}/{{pod}}")}},
				{title: "Connections of max_connections", unit: "percentunit", single: true, queries: []query{
					q(`sum by (namespace, pod) (cnpg_backends_total`+sel+`) / max by (namespace, pod) (cnpg_pg_settings_setting{namespace=~"$namespace", name="max_connections"})`, "{{namespace}}/{{pod}}")}},
			}},
			{"Activity", []panel{
				{title: "Connections by database and state", unit: "none", queries: []query{
					q(`sum by (namespace, pod, datname, state) (cnpg_backends_total`+sel+`)`, "{{pod}} {{datname}} {{state}}")}},
				{title: "Transactions", unit: "ops", queries: []query{
					q(`sum by (namespace, datname) (rate(cnpg_pg_stat_database_xact_commit`+sel+`[$__rate_interval]))`, "{{namespace}} {{datname}} commit"),
					q(`sum by (namespace, datname) (rate(cnpg_pg_stat_database_xact_rollback`+sel+`[$__rate_interval]))`, "{{namespace}} {{datname}} rollback")}},
				{title: "Longest running transaction", unit: "s", queries: []query{
					q(`max by (namespace, pod) (cnpg_backends_max_tx_duration_seconds`+sel+`)`, "{{namespace}}/{{pod}}")}},
				{title: "Replication lag", unit: "s", queries: []query{
					q(`max by (namespace, pod) (cnpg_pg_replication_lag`+sel+`)`, "{{namespace}}/{{pod}}")}},
			}},
			// The drills' results carry the restored database's namespace
			// as source_namespace (their own is <namespace>-restore-drill).
			{"Recovery", []panel{
				{title: "Canary age", description: "Age of the newest heartbeat row: how far the database lags its writer.", unit: "s", single: true, width: 6, queries: []query{
					q(`time() - max by (namespace) (`+convention.CanaryNewest+sel+`)`, "{{namespace}}")}},
				{title: "Last restore drill", description: "Since the last drill that restored and verified the database.", unit: "s", single: true, width: 6, queries: []query{
					q(`time() - max by (source_namespace) (`+convention.DrillLastSuccess+drillSel+`)`, "{{source_namespace}}")}},
				{title: "Measured RPO", description: "The restored copy's age when the restore began, against the objective.", unit: "s", width: 6, queries: []query{
					q(`max by (source_namespace) (`+convention.DrillRPO+drillSel+`)`, "{{source_namespace}} measured"),
					q(`max by (source_namespace) (`+convention.DrillRPOObjective+drillSel+`)`, "{{source_namespace}} objective")}},
				{title: "Measured RTO", description: "From the restore's start to a ready, verified database, against the objective.", unit: "s", width: 6, queries: []query{
					q(`max by (source_namespace) (`+convention.DrillRTO+drillSel+`)`, "{{source_namespace}} measured"),
					q(`max by (source_namespace) (`+convention.DrillRTOObjective+drillSel+`)`, "{{source_namespace}} objective")}},
			}},
		},
	}
}

// drillSel selects the drills of the dashboard's namespaces, and
// Longhorn's.
const drillSel = `{source_namespace=~"$namespace|longhorn-system"}`

func ingressBoard() board {
	return board{
		name: "camps-ingress", folder: FolderPlatform, title: "Ingress controller",
		description: "F5 NGINX Ingress Controller (open-source edition): connections, requests, configuration reloads, upstream latency, and the certificates cert-manager keeps for the Ingresses.",
		rows: []row{
			{"Traffic", []panel{
				{title: "Connections", unit: "none", queries: []query{
					q(`sum(nginx_ingress_nginx_connections_active)`, "active"),
					q(`sum(nginx_ingress_nginx_connections_reading)`, "reading"),
					q(`sum(nginx_ingress_nginx_connections_writing)`, "writing"),
					q(`sum(nginx_ingress_nginx_connections_waiting)`, "waiting")}},
				{title: "Connections accepted and requests", unit: "ops", queries: []query{
					q(`sum(rate(nginx_ingress_nginx_connections_accepted[$__rate_interval]))`, "connections accepted"),
					q(`sum(rate(nginx_ingress_nginx_http_requests_total[$__rate_interval]))`, "requests")}},
				{title: "Upstream latency", unit: "ms", width: 24, queries: []query{
					q(`histogram_quantile(0.5, sum by (le) (rate(`+latencyHistogram+`_bucket[$__rate_interval])))`, "p50"),
					q(`histogram_quantile(0.95, sum by (le) (rate(`+latencyHistogram+`_bucket[$__rate_interval])))`, "p95"),
					q(`histogram_quantile(0.99, sum by (le) (rate(`+latencyHistogram+`_bucket[$__rate_interval])))`, "p99")}},
			}},
			{"Configuration", []panel{
				{title: "Reloads", unit: "none", queries: []query{
					q(`sum by (pod) (increase(nginx_ingress_controller_nginx_reloads_total[$__rate_interval]))`, "{{pod}} reloads"),
					q(`sum by (pod) (increase(nginx_ingress_controller_nginx_reload_errors_total[$__rate_interval]))`, "{{pod}} errors")}},
				{title: "Last reload succeeded", unit: "bool", single: true, queries: []query{
					q(`nginx_ingress_controller_nginx_last_reload_status`, "{{pod}}")}},
			}},
			{"TLS certificates", []panel{
				{title: "Days until expiry", unit: "d", single: true, width: 16, queries: []query{
					q(`(`+certificateTimeLeft+`) / 86400`, "{{namespace}}/{{name}}")}},
				{title: "Certificates not ready", unit: "none", single: true, width: 8, queries: []query{
					q(`sum(certmanager_certificate_ready_status{condition!="True"})`, "not ready")}},
			}},
		},
	}
}

func sloBoard() board {
	sel := `{namespace=~"$namespace"}`
	budget := `(1 - ` + ObjectiveMetric + sel + `)`
	return board{
		name: "camps-slo", folder: FolderApplications, title: "SLOs",
		description:   "Availability (blackbox probes of the public hosts) and latency (ingress controller) objectives per namespace, over a rolling " + Period + ".",
		namespaceFrom: "label_values(" + ObjectiveMetric + ", namespace)",
		rows: []row{
			{"Compliance over " + Period, []panel{
				{title: "Objective", unit: "percentunit", single: true, width: 6, queries: []query{
					q(ObjectiveMetric+sel, "{{namespace}} {{slo}}")}},
				{title: "Achieved", unit: "percentunit", single: true, width: 6, queries: []query{
					q(`1 - `+ErrorRatioMetric(Period)+sel, "{{namespace}} {{slo}}")}},
				{title: "Error budget left", unit: "percentunit", single: true, width: 12, queries: []query{
					q(`1 - `+ErrorRatioMetric(Period)+sel+` / on (namespace, slo) `+budget, "{{namespace}} {{slo}}")}},
			}},
			{"Burn rate (1 = the budget lasts exactly the period)", []panel{
				{title: "Burn rate, 1 h", unit: "none", queries: []query{
					q(ErrorRatioMetric("1h")+sel+` / on (namespace, slo) `+budget, "{{namespace}} {{slo}}")}},
				{title: "Burn rate, 6 h", unit: "none", queries: []query{
					q(ErrorRatioMetric("6h")+sel+` / on (namespace, slo) `+budget, "{{namespace}} {{slo}}")}},
				{title: "Error ratio, 5 m", unit: "percentunit", width: 24, queries: []query{
					q(ErrorRatioMetric("5m")+sel, "{{namespace}} {{slo}}")}},
			}},
		},
	}
}
