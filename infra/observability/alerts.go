package observability

import (
	"fmt"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// PostgresMetricsPort is the port name of CloudNativePG's metrics endpoint
// on the instance pods' postgres container; the database rules select the
// scrape targets by it.
const PostgresMetricsPort = "metrics"

// RuleOptions say which optional alerts apply.
type RuleOptions struct {
	// LonghornBackups: Longhorn backs volumes up, so stale or missing
	// backups alert.
	LonghornBackups bool
	// OpenBaoNamespace, when set, is where the stack runs OpenBao: a
	// sealed replica, a replica that cannot be scraped and a cluster
	// without a leader alert.
	OpenBaoNamespace string
}

// PlatformRules are the alerts kube-prometheus-stack does not ship:
// restarts and limits of containers, PostgreSQL (CloudNativePG) health,
// certificates (cert-manager), Longhorn volumes and disks, and the
// freshness of backups and of their copy. Every alert's description quotes
// the value that fired it.
func PlatformRules(opts RuleOptions) []RuleGroup {
	groups := []RuleGroup{
		{Name: "camps.workloads", Rules: rules(
			alert{
				name:        "PodRestartingOften",
				expr:        `increase(kube_pod_container_status_restarts_total[1h]) >= 3`,
				severity:    Warning,
				summary:     "A container restarts again and again.",
				description: `Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} restarted {{ $value | printf "%.0f" }} times in the last hour.`,
				runbook:     "pod-restarts.md",
			},
			alert{
				name: "ContainerCPUNearLimit",
				expr: `sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m]))
  / sum by (namespace, pod, container) (kube_pod_container_resource_limits{resource="cpu"}) > 0.9`,
				forDuration: "15m",
				severity:    Warning,
				summary:     "A container uses more than 90 % of its CPU limit.",
				description: `Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} uses {{ $value | humanizePercentage }} of its CPU limit; it is being throttled.`,
				runbook:     "container-near-limit.md",
			},
			alert{
				name: "ContainerMemoryNearLimit",
				expr: `sum by (namespace, pod, container) (container_memory_working_set_bytes{container!="", image!=""})
  / sum by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory"}) > 0.9`,
				forDuration: "15m",
				severity:    Warning,
				summary:     "A container uses more than 90 % of its memory limit.",
				description: `Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit; it will be OOM-killed when it reaches it.`,
				runbook:     "container-near-limit.md",
			},
		)},
		{Name: "camps.postgres", Rules: rules(
			alert{
				name:        "PostgresExporterDown",
				expr:        `up{container="postgres", endpoint="` + PostgresMetricsPort + `"} == 0`,
				forDuration: "5m",
				severity:    Critical,
				summary:     "A PostgreSQL instance cannot be scraped.",
				description: `The metrics endpoint of PostgreSQL instance {{ $labels.namespace }}/{{ $labels.pod }} has been down for 5 minutes (up = {{ $value }}); the instance or its pod is unhealthy.`,
				runbook:     "postgres.md",
			},
			alert{
				name:        "PostgresDown",
				expr:        `cnpg_collector_up == 0`,
				forDuration: "2m",
				severity:    Critical,
				summary:     "PostgreSQL does not answer its instance manager.",
				description: `PostgreSQL in {{ $labels.namespace }}/{{ $labels.pod }} does not accept connections (cnpg_collector_up = {{ $value }}).`,
				runbook:     "postgres.md",
			},
			alert{
				name: "PostgresConnectionsNearMax",
				expr: `sum by (namespace, pod) (cnpg_backends_total)
  / max by (namespace, pod) (cnpg_pg_settings_setting{name="max_connections"}) > 0.8`,
				forDuration: "5m",
				severity:    Warning,
				summary:     "PostgreSQL is running out of connections.",
				description: `PostgreSQL instance {{ $labels.namespace }}/{{ $labels.pod }} uses {{ $value | humanizePercentage }} of max_connections; new connections will be refused at 100 %.`,
				runbook:     "postgres.md",
			},
		)},
		{Name: "camps.certificates", Rules: rules(
			alert{
				name:        "CertificateExpiringSoon",
				expr:        certificateTimeLeft + ` < ` + days(14),
				forDuration: "1h",
				severity:    Warning,
				summary:     "A certificate expires in less than 14 days.",
				description: `Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}; cert-manager renews 30 days ahead, so renewal is failing.`,
				runbook:     "certificates.md",
			},
			alert{
				name:        "CertificateExpiringSoon",
				expr:        certificateTimeLeft + ` < ` + days(3),
				forDuration: "10m",
				severity:    Critical,
				summary:     "A certificate expires in less than 3 days.",
				description: `Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}.`,
				runbook:     "certificates.md",
			},
			alert{
				name:        "CertificateNotReady",
				expr:        `max by (namespace, name) (certmanager_certificate_ready_status{condition!="True"}) == 1`,
				forDuration: "30m",
				severity:    Warning,
				summary:     "A certificate has not been ready for 30 minutes.",
				description: `Certificate {{ $labels.namespace }}/{{ $labels.name }} is not ready (value {{ $value }}); its Ingress serves no valid certificate or an old one.`,
				runbook:     "certificates.md",
			},
		)},
		// The blackbox exporter's probes: the edge certificate every probed
		// host presents (Cloudflare's, for proxied hosts), and the hosts of
		// another cluster this one watches.
		{Name: "camps.probes", Rules: rules(
			alert{
				name:        "EdgeCertificateExpiringSoon",
				expr:        edgeCertificateTimeLeft + ` < ` + days(14),
				forDuration: "1h",
				severity:    Warning,
				summary:     "A public host presents a certificate that expires in less than 14 days.",
				description: `{{ $labels.instance }} presents a certificate that expires in {{ $value | humanizeDuration }}.`,
				runbook:     "certificates.md",
			},
			alert{
				name:        "EdgeCertificateExpiringSoon",
				expr:        edgeCertificateTimeLeft + ` < ` + days(3),
				forDuration: "10m",
				severity:    Critical,
				summary:     "A public host presents a certificate that expires in less than 3 days.",
				description: `{{ $labels.instance }} presents a certificate that expires in {{ $value | humanizeDuration }}.`,
				runbook:     "certificates.md",
			},
			alert{
				name:        "WatchedHostDown",
				expr:        `max by (instance) (probe_success{` + WatchLabel + `="true"}) == 0`,
				forDuration: "5m",
				severity:    Critical,
				summary:     "A public host of another cluster fails when probed from this one.",
				description: `{{ $labels.instance }} has failed every probe from this cluster for 5 minutes (probe_success = {{ $value }}): the other cluster, its load balancer or its edge is down.`,
				runbook:     "watched-host-down.md",
			},
		)},
		// Longhorn 1.12 reports a volume's robustness and state as one
		// series per state, 1 for the current one (not the old 0–3 gauge).
		{Name: "camps.longhorn", Rules: rules(
			alert{
				name:        "LonghornVolumeDegraded",
				expr:        `longhorn_volume_robustness{state="degraded"} == 1`,
				forDuration: "15m",
				severity:    Warning,
				summary:     "A Longhorn volume has lost a replica.",
				description: `Volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) has been degraded for 15 minutes (value {{ $value }}); it runs with fewer replicas than configured.`,
				runbook:     "longhorn.md",
			},
			alert{
				name:        "LonghornVolumeFaulted",
				expr:        `longhorn_volume_robustness{state="faulted"} == 1`,
				forDuration: "2m",
				severity:    Critical,
				summary:     "A Longhorn volume has no healthy replica.",
				description: `Volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) is faulted (value {{ $value }}): its data is unavailable.`,
				runbook:     "longhorn.md",
			},
			alert{
				name:        "LonghornNodeStorageNearlyFull",
				expr:        `longhorn_node_storage_usage_bytes / longhorn_node_storage_capacity_bytes > 0.8`,
				forDuration: "15m",
				severity:    Warning,
				summary:     "A node's Longhorn disks are more than 80 % full.",
				description: `Longhorn storage on node {{ $labels.node }} is {{ $value | humanizePercentage }} used.`,
				runbook:     "longhorn.md",
			},
			alert{
				name:        "LonghornNodeStorageNearlyFull",
				expr:        `longhorn_node_storage_usage_bytes / longhorn_node_storage_capacity_bytes > 0.9`,
				forDuration: "5m",
				severity:    Critical,
				summary:     "A node's Longhorn disks are more than 90 % full.",
				description: `Longhorn storage on node {{ $labels.node }} is {{ $value | humanizePercentage }} used; replicas will stop being scheduled and writes can fail.`,
				runbook:     "longhorn.md",
			},
		)},
		{Name: "camps.backups", Rules: rules(
			alert{
				name:        "PostgresBackupStale",
				expr:        `time() - max by (namespace) (barman_cloud_cloudnative_pg_io_last_available_backup_timestamp) > 26 * 3600`,
				forDuration: "15m",
				severity:    Warning,
				summary:     "A PostgreSQL cluster has no base backup from the last day.",
				description: `The last base backup of the PostgreSQL cluster in {{ $labels.namespace }} is {{ $value | humanizeDuration }} old; scheduled backups run daily.`,
				runbook:     "backups.md",
			},
			alert{
				name:        "PostgresWALArchivingFailing",
				expr:        `cnpg_pg_stat_archiver_last_failed_time > cnpg_pg_stat_archiver_last_archived_time`,
				forDuration: "10m",
				severity:    Critical,
				summary:     "PostgreSQL cannot archive its WAL to S3.",
				description: `{{ $labels.namespace }}/{{ $labels.pod }} failed to archive WAL after its last success (failure at {{ $value | humanizeTimestamp }}): point-in-time recovery stops there and the WAL volume fills.`,
				runbook:     "backups.md",
			},
			alert{
				name:        "PostgresReplicationLag",
				expr:        `max by (namespace, pod) (cnpg_pg_replication_lag) > 300`,
				forDuration: "5m",
				severity:    Warning,
				summary:     "A PostgreSQL standby is more than 5 minutes behind.",
				description: `Standby {{ $labels.namespace }}/{{ $labels.pod }} lags {{ $value | humanizeDuration }} behind its primary; a failover now would lose that much.`,
				runbook:     "postgres.md",
			},
			alert{
				name:        "PostgresDumpStale",
				expr:        cronJobStale(fmt.Sprintf(`cronjob=~".+%s"`, convention.DumpJobSuffix), 26*3600),
				forDuration: "15m",
				severity:    Warning,
				summary:     "A database has no logical dump from the last day.",
				description: `The dump {{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded for {{ $value | humanizeDuration }}; dumps run daily.`,
				runbook:     "backups.md",
			},
			alert{
				name: "BackupCopyStale",
				// Each bucket's copy on its own (backup-copy-<what>).
				expr:        cronJobStale(fmt.Sprintf(`cronjob=~"%s.+"`, convention.BackupCopyJobPrefix), 36*3600),
				forDuration: "15m",
				severity:    Warning,
				summary:     "A bucket has not been copied to the other region for a day and a half.",
				description: fmt.Sprintf(`The copy of the stack's {{ $labels.cronjob | reReplaceAll "^%s" "" }} bucket to the other region ({{ $labels.namespace }}/{{ $labels.cronjob }}) has not succeeded for {{ $value | humanizeDuration }}.`, convention.BackupCopyJobPrefix),
				runbook:     "backups.md",
			},
		)},
	}
	groups = append(groups, RuleGroup{Name: "camps.restore-drills", Rules: restoreDrillAlerts()})
	if opts.LonghornBackups {
		groups = append(groups, RuleGroup{Name: "camps.longhorn-backups", Rules: rules(
			alert{
				name:        "LonghornBackupStale",
				expr:        fmt.Sprintf(`time() - (longhorn_volume_last_backup_at > 0) > %d`, int(convention.LonghornBackupMaxAge.Seconds())),
				forDuration: "15m",
				severity:    Warning,
				summary:     "A Longhorn volume has no backup from the last day.",
				description: `Volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) was last backed up {{ $value | humanizeDuration }} ago; the backup job runs daily.`,
				runbook:     "backups.md",
			},
			alert{
				name:        "LonghornBackupMissing",
				expr:        `longhorn_volume_last_backup_at == 0`,
				forDuration: "26h",
				severity:    Warning,
				summary:     "A Longhorn volume has never been backed up.",
				description: `Volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) has had no backup for a day (last backup at {{ $value }}).`,
				runbook:     "backups.md",
			},
		)})
	}
	if ns := opts.OpenBaoNamespace; ns != "" {
		groups = append(groups, RuleGroup{Name: "camps.openbao", Rules: rules(
			alert{
				// A replica that stays sealed (the static seal failed, or
				// Shamir key holders have not come) or cannot start. A sealed
				// replica reports unsealed = 0 once; the series can
				// age out while it stays sealed. Its readiness probe is
				// `bao status`, so kube-state-metrics sees it unready (and a
				// replica that cannot start) for as long as it lasts.
				name: "OpenBaoSealed",
				expr: `max by (namespace, pod) (vault_core_unsealed{namespace="` + ns + `"} == 0)
  or max by (namespace, pod) (kube_pod_status_ready{namespace="` + ns + `", condition="true"} == 0)`,
				forDuration: "5m",
				severity:    Critical,
				summary:     "An OpenBao replica is sealed or not ready.",
				description: `OpenBao replica {{ $labels.pod }} has been sealed or unready for 5 minutes (unsealed or ready = {{ $value }}) and serves nothing. With the static seal it unseals itself at start: its seal key is missing or wrong, or it cannot start. With Shamir, key holders unseal it.`,
				runbook:     "openbao.md",
			},
			alert{
				name:        "OpenBaoLeaderLost",
				expr:        `(sum(vault_core_active{namespace="` + ns + `"}) or vector(0)) < 1`,
				forDuration: "2m",
				severity:    Critical,
				summary:     "OpenBao has no active node.",
				description: `No OpenBao replica has been active for 2 minutes ({{ $value }} active): secrets cannot be read and ExternalSecrets stop refreshing.`,
				runbook:     "openbao.md",
			},
			alert{
				name:        "OpenBaoReplicaDown",
				expr:        `up{namespace="` + ns + `"} == 0`,
				forDuration: "10m",
				severity:    Warning,
				summary:     "An OpenBao replica cannot be scraped.",
				description: `OpenBao replica {{ $labels.pod }} has not answered Prometheus for 10 minutes (up = {{ $value }}); Raft keeps a quorum with one replica down, not two.`,
				runbook:     "openbao.md",
			},
		)})
	}
	return groups
}

// certificateTimeLeft is the seconds until each issued certificate
// expires; cert-manager reports 0 for one not issued yet, which
// CertificateNotReady covers.
const certificateTimeLeft = `(certmanager_certificate_expiration_timestamp_seconds > 0) - time()`

// edgeCertificateTimeLeft is the seconds until the earliest certificate a
// probed host presents expires; a failed probe reports none.
const edgeCertificateTimeLeft = `min by (instance) (probe_ssl_earliest_cert_expiry > 0) - time()`

// WatchLabel marks the probes of another cluster's hosts.
const WatchLabel = "watched"

func rules(alerts ...alert) []Rule {
	out := make([]Rule, len(alerts))
	for i, a := range alerts {
		out[i] = a.rule()
	}
	return out
}

// restoreDrillAlerts read the results the restore drills push (one group
// per drill namespace, the restored database's as source_namespace) and
// the canary every database carries.
func restoreDrillAlerts() []Rule {
	c := convention.RestoreDrillJob
	// Only drills that still exist: the Pushgateway keeps a removed
	// drill's last result.
	live := fmt.Sprintf(` and on (namespace) kube_cronjob_created{cronjob="%s"}`, c)
	return rules(
		alert{
			name:        "RestoreDrillFailed",
			expr:        convention.DrillSuccess + " == 0" + live,
			severity:    Warning,
			summary:     "The last restore drill of a database failed.",
			description: `The weekly restore of {{ $labels.source_namespace }}'s newest backup (namespace {{ $labels.namespace }}) did not produce a ready, verified database (success {{ $value }}): nobody knows whether the backups restore.`,
			runbook:     "restore-drill.md",
		},
		alert{
			name: "RestoreDrillStale",
			// Since the last success or, when none was ever pushed, since
			// the drill's CronJob was created.
			expr: fmt.Sprintf(`(time() - %[1]s > 8 * 86400%[3]s)
or
(time() - kube_cronjob_created{cronjob="%[2]s"} > 8 * 86400 unless on (namespace) %[1]s)`, convention.DrillLastSuccess, c, live),
			forDuration: "1h",
			severity:    Warning,
			summary:     "No restore drill has succeeded for more than a week.",
			description: `The restore drill in {{ $labels.namespace }} has not succeeded for {{ $value | humanizeDuration }}; it runs weekly.`,
			runbook:     "restore-drill.md",
		},
		alert{
			name:        "RestoreDrillRPOAboveObjective",
			expr:        "(" + convention.DrillRPO + " > " + convention.DrillRPOObjective + ")" + live,
			severity:    Warning,
			summary:     "A restore lost more data than the recovery point objective allows.",
			description: `The last drill restored {{ $labels.source_namespace }}'s data as it was {{ $value | humanizeDuration }} before the restore began, more than the objective: WAL is archived too rarely or lags.`,
			runbook:     "restore-drill.md",
		},
		alert{
			name:        "RestoreDrillRTOAboveObjective",
			expr:        "(" + convention.DrillRTO + " > " + convention.DrillRTOObjective + ")" + live,
			severity:    Warning,
			summary:     "A restore took longer than the recovery time objective allows.",
			description: `The last drill of {{ $labels.source_namespace }} took {{ $value | humanizeDuration }} to a ready, verified database, more than the objective.`,
			runbook:     "restore-drill.md",
		},
		alert{
			name: "PostgresCanaryMissing",
			// An instance is scraped, but its database reports no canary:
			// the writer never ran, or the exporter may not read the table.
			expr:        fmt.Sprintf(`count by (namespace) (cnpg_collector_up) unless on (namespace) %s`, convention.CanaryNewest),
			forDuration: "15m",
			severity:    Warning,
			summary:     "A database reports no canary.",
			description: `PostgreSQL in {{ $labels.namespace }} ({{ $value }} instance(s) scraped) reports no canary row: its restore drills cannot measure anything.`,
			runbook:     "restore-drill.md",
		},
		alert{
			name:        "PostgresCanaryStale",
			expr:        fmt.Sprintf(`time() - max by (namespace) (%s) > 10 * 60`, convention.CanaryNewest),
			forDuration: "5m",
			severity:    Warning,
			summary:     "A database's canary has not been written for 10 minutes.",
			description: `The newest heartbeat row in {{ $labels.namespace }} is {{ $value | humanizeDuration }} old: its writer stopped, or the primary accepts no writes. The restore drills measure the RPO by it.`,
			runbook:     "restore-drill.md",
		},
	)
}

// cronJobStale selects the CronJobs matching selector whose last success
// is older than seconds or, before the first one (which kube-state-metrics
// only reports once it happened), whose creation is.
func cronJobStale(selector string, seconds int) string {
	return fmt.Sprintf(`(time() - kube_cronjob_status_last_successful_time{%[1]s} > %[2]d)
or
(time() - kube_cronjob_created{%[1]s} > %[2]d
  unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{%[1]s})`, selector, seconds)
}
