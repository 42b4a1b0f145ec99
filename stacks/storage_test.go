package stacks_test

import (
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/internal/stackrun"
)

// TestStorageBudget places every stack's volumes on its smallest node set:
// the presets fit, volumes beyond the disks are refused with the figures,
// and a flavor with a larger disk makes room for them.
func TestStorageBudget(t *testing.T) {
	phase2 := func(extra map[string]string) map[string]string {
		set := map[string]string{key("phase"): "2"}
		for k, v := range extra {
			set[k] = v
		}
		return set
	}
	disks := func(gb string) map[string]string {
		pools := `[`
		for i, zone := range []string{"az-1", "az-2", "az-3"} {
			if i > 0 {
				pools += ","
			}
			pools += `{"zone":"` + zone + `","flavor":"a4-ram8-disk` + gb + `-perf1"}`
		}
		return map[string]string{key("cluster"): `{"pools":` + pools + `]}`}
	}
	bigDatabase := map[string]string{key("data"): `{"postgres":{"storageSize":"25Gi"}}`}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name  string
		stack string
		set   map[string]string
		// need and schedulable are the budget's figures in GB; err, when
		// set, is the refusal.
		need, schedulable string
		err               string
	}{
		{name: "uat's single node", stack: "uat", need: "13.2 GB", schedulable: "32.5 GB"},
		{name: "prod phase 2 on three 50 GB disks", stack: "prod", set: phase2(nil), need: "77.0 GB", schedulable: "97.5 GB"},
		// Three instances and the restore drill's throwaway copy.
		{name: "a 75 GB database on 50 GB disks", stack: "prod", set: phase2(bigDatabase),
			err: `camps-infra:data.postgres.storageSize: the volumes need 141.5 GB of the 97.5 GB Longhorn schedules on 3 node(s), 44.0 GB short; the largest are postgres production, 3 × 26.8 GB on longhorn-local with 1 replica(s) (80.5 GB)`},
		{name: "the same on 100 GB disks", stack: "prod", set: phase2(merge(bigDatabase, disks("100"))), need: "141.5 GB", schedulable: "195.0 GB"},
		// Without drills: a Prometheus volume the others cannot sit beside.
		{name: "room in sum but not per node", stack: "prod", set: phase2(map[string]string{key("platform"): `{"monitoring":{"grafanaHost":"g.camps.ch","storageSize":"26Gi"}}`,
			key("data"): `{"postgres":{"storageSize":"2Gi"},"drill":{"schedule":"off"}}`}),
			err: `camps-infra:platform.monitoring.storageSize: the volumes need 79.2 GB of the 97.5 GB Longhorn schedules on 3 node(s), enough in sum, but postgres production finds no node with room for its replicas; the largest are prometheus, 2 × 27.9 GB`},
		// With them, Longhorn's drill may restore that volume's backup.
		{name: "Longhorn's drill restores the largest volume", stack: "prod", set: phase2(map[string]string{key("platform"): `{"monitoring":{"grafanaHost":"g.camps.ch","storageSize":"26Gi"}}`,
			key("data"): `{"postgres":{"storageSize":"2Gi"}}`}),
			err: `camps-infra:platform.monitoring.storageSize: the volumes need 107.1 GB of the 97.5 GB Longhorn schedules on 3 node(s), 9.6 GB short`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(t, stackrun.Options{Stack: tt.stack, Set: tt.set})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing\n  %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b := res.Deployment.Config.StorageBudget()
			text := b.String()
			if !b.Fits() || !strings.Contains(text, "storage budget on") ||
				!strings.Contains(text, tt.need+" of volume replicas of the "+tt.schedulable+" Longhorn schedules") {
				t.Errorf("budget does not fit or lacks %s of %s:\n%s", tt.need, tt.schedulable, text)
			}
			if room := b.ApplicationRoom(); room < b.ApplicationQuota {
				t.Errorf("the applications' quotas allow %d bytes, but only %d are left:\n%s", b.ApplicationQuota, room, text)
			}
		})
	}
}
