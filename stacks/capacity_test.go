package stacks_test

import (
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/internal/stackrun"
)

// TestPhase2Autoscales: prod's phase 2 scales its workloads, not only its
// nodes: metrics-server serves the resource metrics, the ingress
// controller has an autoscaler (3 to 9) with its disruption budget, and
// the database a PgBouncer pooler in transaction mode with its own
// policy and monitor.
func TestPhase2Autoscales(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	rel := releases(t, res)
	in := rel["nginx-ingress"]
	for path, want := range map[string]any{
		"values.controller.autoscaling.enabled":                           true,
		"values.controller.autoscaling.create":                            true,
		"values.controller.autoscaling.minReplicas":                       3,
		"values.controller.autoscaling.maxReplicas":                       9,
		"values.controller.autoscaling.targetCPUUtilizationPercentage":    60,
		"values.controller.autoscaling.targetMemoryUtilizationPercentage": 0,
		"values.controller.podDisruptionBudget.enabled":                   true,
		"values.controller.podDisruptionBudget.maxUnavailable":            1,
	} {
		wantValue(t, in, path, want)
	}
	ms := rel["metrics-server"]
	wantValue(t, ms, "namespace", "metrics-server")
	wantValue(t, ms, "values.replicas", 2)
	wantValue(t, ms, "values.podDisruptionBudget.enabled", true)
	wantValue(t, ms, "values.podDisruptionBudget.minAvailable", 1)
	ns := find(t, res, typeNamespace, "metrics-server")
	wantValue(t, ns, `metadata.labels["pod-security.kubernetes.io/enforce"]`, "restricted")

	pooler := find(t, res, "kubernetes:postgresql.cnpg.io/v1:Pooler", "postgres-production-pooler")
	for path, want := range map[string]any{
		"metadata.name": "postgres-pooler-rw", "metadata.namespace": "production",
		"spec.cluster.name": "postgres", "spec.type": "rw", "spec.instances": 3,
		"spec.pgbouncer.poolMode": "transaction", `spec.pgbouncer.parameters["default_pool_size"]`: "28",
		`spec.pgbouncer.parameters["max_client_conn"]`:                "1000",
		"spec.template.spec.topologySpreadConstraints[0].topologyKey": "topology.kubernetes.io/zone",
	} {
		wantValue(t, pooler, path, want)
	}
	cluster := find(t, res, "kubernetes:postgresql.cnpg.io/v1:Cluster", "postgres-production")
	wantValue(t, cluster, `spec.postgresql.parameters["max_connections"]`, "96")
	find(t, res, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "postgres-production-pooler-pod-monitor")
	wantOutput(t, res, "databaseHost", "postgres-pooler-rw")
	find(t, res, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "postgres-production-pooler-network-policy")

	most := res.Deployment.Config.MostReplicas()
	if most.Nodes != 9 || !most.Fits() || len(most.Rooms) != 1 || most.Rooms[0].Pods != 92 || most.Rooms[0].Requests.MilliCPU != 4890 {
		t.Errorf("at most: %s", most)
	}
}

// TestMostReplicasFitThePools: the pools at their maximum must hold every
// autoscaler at its maximum, or the node autoscaler could never satisfy
// them; both ways, with the figures.
func TestMostReplicasFitThePools(t *testing.T) {
	tests := []struct {
		name  string
		stack string
		set   map[string]string
		err   string
	}{
		{name: "uat's single node", stack: "uat"},
		{name: "uat in phase 2 keeps one node's quotas", stack: "uat", set: map[string]string{key("phase"): "2"}},
		{name: "prod phase 2", stack: "prod", set: map[string]string{key("phase"): "2"}},
		{name: "an ingress maximum beyond the pools", stack: "prod", set: map[string]string{key("phase"): "2",
			key("platform"): `{"monitoring":{"grafanaHost":"grafana.camps.ch"},"ingress":{"maxReplicas":300}}`},
			err: `camps-infra:cluster.pools: at their maximum (9 node(s)) hold 32400m CPU, 66355Mi memory for pods, but the platform at its autoscalers' maximum (platform.ingress.maxReplicas 300) and the namespaces' quotas (their autoscalers at maximum replicas) request 43500m CPU, 60779Mi memory`},
		{name: "pools that cannot grow", stack: "prod", set: map[string]string{key("phase"): "2",
			key("cluster"):    `{"pools":[{"zone":"az-1","maxInstances":1},{"zone":"az-2","maxInstances":1},{"zone":"az-3","maxInstances":1}]}`,
			key("namespaces"): `[{"name":"production","quota":{"requestsCpu":"8","limitsCpu":"16"}}]`},
			err: `camps-infra:cluster.pools: at their maximum (3 node(s)) hold 10800m CPU, 22118Mi memory for pods`},
		{name: "a maximum below the minimum", stack: "prod", set: map[string]string{key("phase"): "2",
			key("platform"): `{"monitoring":{"grafanaHost":"grafana.camps.ch"},"ingress":{"replicas":3,"maxReplicas":2}}`},
			err: `camps-infra:platform.ingress.maxReplicas: 2 is below platform.ingress.replicas 3`},
		{name: "a quota below its database", stack: "prod", set: map[string]string{key("phase"): "2",
			key("namespaces"): `[{"name":"production","quota":{"requestsCpu":"500m"}}]`},
			err: `camps-infra:namespaces[0].quota.requestsCpu: 500m is below the PostgreSQL cluster's 1110m (3 instances with their backup sidecars, 3 poolers, the canary, the dump)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(t, stackrun.Options{Stack: tt.stack, Set: tt.set})
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m := res.Deployment.Config.MostReplicas(); !m.Fits() {
					t.Errorf("does not fit: %s", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error = %v, want one containing\n  %s", err, tt.err)
			}
		})
	}
}

// TestPoolerIsOptional: without poolers the applications reach the
// cluster's read-write Service, and no Pooler is created.
func TestPoolerIsOptional(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "uat", Set: map[string]string{key("data"): `{"postgres":{"poolerInstances":0}}`}})
	wantOutput(t, res, "databaseHost", "postgres-rw")
	for _, r := range res.Recorder.Resources() {
		if r.Type == "kubernetes:postgresql.cnpg.io/v1:Pooler" {
			t.Errorf("a pooler %s without poolerInstances", r.Name)
		}
	}
	wantOutput(t, mustRun(t, stackrun.Options{Stack: "uat"}), "databaseHost", "postgres-pooler-rw")
}
