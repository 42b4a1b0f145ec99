package platform

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/internal/scripttest"
)

// TestLonghornDrillScript runs longhorn-drill.sh with stand-ins for
// kubectl, curl and date: it restores the newest completed backup (by its
// creation time, not by name or list order), pushes the backup's age as
// the RPO and the restore's time as the RTO, and pushes a failure where
// the restore does not finish or leaves the volume faulted; the volume is
// deleted last either way.
func TestLonghornDrillScript(t *testing.T) {
	// The drill begins at 1764979300 (2025-12-06T00:01:40Z); the newest
	// completed backup is from 2025-12-05T03:00:00Z, 75700 s earlier.
	backups := strings.Join([]string{
		// A leftover drill volume's own backup is never the one restored.
		"2025-12-05T04:00:00Z backup-d s3://camps-prod-longhorn@dc4-a/?backup=backup-d&volume=restore-drill",
		"2025-12-05T03:00:00Z backup-b s3://camps-prod-longhorn@dc4-a/?backup=backup-b&volume=pvc-2",
		"2025-12-04T03:00:00Z backup-c s3://camps-prod-longhorn@dc4-a/?backup=backup-c&volume=pvc-1",
		"2025-11-30T03:00:00Z backup-a s3://camps-prod-longhorn@dc4-a/?backup=backup-a&volume=pvc-1",
	}, "\n") + "\n"
	tests := []struct {
		name       string
		backups    string
		finishes   bool
		robustness string
		wantErr    bool
		want       []string
		log        string
	}{
		{name: "restored", backups: backups, finishes: true, robustness: "unknown",
			want: []string{
				convention.DrillSuccess + `{source_namespace="longhorn-system"} 1`,
				convention.DrillRPO + `{source_namespace="longhorn-system"} 75700`,
				convention.DrillRTO + `{source_namespace="longhorn-system"} 60`,
				convention.DrillRPOObjective + `{source_namespace="longhorn-system"} 93600`,
				convention.DrillRTOObjective + `{source_namespace="longhorn-system"} 1800`,
			},
			log: "RPO 75700s (objective 93600s), RTO 60s (objective 1800s)"},
		{name: "never finishes", backups: backups, finishes: false, wantErr: true,
			want: []string{convention.DrillSuccess + `{source_namespace="longhorn-system"} 0`}, log: "did not finish within 3600s"},
		{name: "faulted", backups: backups, finishes: true, robustness: "faulted", wantErr: true,
			want: []string{convention.DrillSuccess + `{source_namespace="longhorn-system"} 0`}, log: "left the volume faulted"},
		{name: "the volume's state unreadable", backups: backups, finishes: true, robustness: "ERROR", wantErr: true,
			want: []string{convention.DrillSuccess + `{source_namespace="longhorn-system"} 0`}, log: "cannot read the state of restore-drill"},
		{name: "no backup", backups: "", wantErr: true,
			want: []string{convention.DrillSuccess + `{source_namespace="longhorn-system"} 0`}, log: "no completed backup"},
	}
	d := &LonghornDrill{Schedule: "0 4 * * 0", RTO: 30 * time.Minute, Pushgateway: PushgatewayURL}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			finish := "0"
			if !tt.finishes {
				finish = "1"
			}
			env := d.env()
			env["NAMESPACE"] = convention.LonghornNamespace
			env["TIMEOUT"] = strconv.Itoa(int(convention.DrillTimeout(d.RTO).Seconds()))
			res := scripttest.Exec(t, scripttest.Run{
				Files:  map[string]string{"drill.sh": longhornDrillScript, "lib.sh": convention.DrillLib, "backups": tt.backups},
				Script: "drill.sh",
				Stubs: map[string]string{
					"kubectl": `echo "kubectl $*" >> "$DIR/calls"
case "$1 $2" in
"get backups.longhorn.io") cat "$DIR/backups" ;;
"create -f") cat > "$DIR/created" ;;
"wait "*) case "$*" in *restoreRequired*) exit ` + finish + ` ;; esac ;;
"get volumes.longhorn.io/"*) [ ` + tt.robustness + ` != ERROR ] || exit 1; printf ` + tt.robustness + ` ;;
esac
`,
					"curl": `cat >> "$DIR/pushed"; echo "curl push ${*##* }" >> "$DIR/calls"`,
					"date": scripttest.Clock,
				},
				Env: env,
			})
			if (res.Err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v\n%s", res.Err, tt.wantErr, res.Output)
			}
			if !strings.Contains(res.Output, tt.log) {
				t.Errorf("output lacks %q:\n%s", tt.log, res.Output)
			}
			if failed := convention.DrillSuccess + `{source_namespace="longhorn-system"} 0`; !tt.wantErr && strings.Contains(res.File("pushed"), failed) {
				t.Errorf("a successful drill also pushed a failure:\n%s", res.File("pushed"))
			}
			for _, w := range tt.want {
				if !strings.Contains(res.File("pushed"), w+"\n") {
					t.Errorf("pushed lacks %q:\n%s", w, res.File("pushed"))
				}
			}
			if tt.backups != "" {
				if created := res.File("created"); !strings.Contains(created, `"fromBackup":"s3://camps-prod-longhorn@dc4-a/?backup=backup-b&volume=pvc-2"`) ||
					!strings.Contains(created, `"numberOfReplicas":1`) || !strings.Contains(created, `"name":"restore-drill"`) {
					t.Errorf("created %s", created)
				}
			}
			calls := strings.Split(strings.TrimSpace(res.File("calls")), "\n")
			if !strings.Contains(res.File("calls"), "curl push "+PushgatewayURL+"/metrics/job/restore-drill/namespace/longhorn-system") ||
				!strings.HasPrefix(calls[len(calls)-1], "kubectl delete volumes.longhorn.io restore-drill") {
				t.Errorf("calls:\n%s", res.File("calls"))
			}
		})
	}
}
