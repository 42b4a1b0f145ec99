package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The phase 2 migration (docs/runbooks/phase2-migration.md), step by step
// as configuration: the runbook's commands set exactly these.
var (
	// migrationDuring keeps production's records on the shared cluster's
	// address (uat's ingressIp; 203.0.113.90 is what the offline plan's
	// stand-in for uat's outputs says) and leave the database for the
	// cutover (steps 2 and 3).
	migrationDuring = []string{
		"-set", "camps-infra:phase=2",
		"-set", `camps-infra:edge={"zone":"camps.ch","zoneSettings":true,"records":[{"name":"camps.ch","content":"203.0.113.90"},{"name":"www.camps.ch","content":"203.0.113.90"}]}`,
		"-set", `camps-infra:data={"postgres":{"enabled":false}}`,
	}
	// migrationAfter recovers the database from the old one's backups
	// under a new server name and removes the pins (step 9).
	migrationAfter = []string{
		"-set", "camps-infra:phase=2",
		"-set", `camps-infra:data={"postgres":{"serverName":"postgres-2","recovery":{"serverName":"postgres"}}}`,
	}
	// migrationForget are the components the state forgets in step 2, so
	// that production keeps running on the shared cluster.
	migrationForget = []string{
		"urn:pulumi:prod::camps-infra::camps:tenancy:Namespace::production",
		"urn:pulumi:prod::camps-infra::camps:data:Postgres::postgres-production",
		"urn:pulumi:prod::camps-infra::camps:data:RestoreDrill::restore-drill-production",
		"urn:pulumi:prod::camps-infra::camps:observability:SLO::slo-production",
	}
)

// TestPhase2MigrationRehearsal rehearses the move offline: the plans
// before (phase 1), during (phase 2, records pinned, no database) and
// after (the database recovered, records moved), and what each step
// changes. Without step 2 the up would delete production's running
// resources and stop at the protected ones; the runbook forgets exactly
// those components. With it, nothing running is deleted or replaced; the
// cutover only creates the database and moves the records. Run it with -v
// (make rehearse-migration) to read the changes.
func TestPhase2MigrationRehearsal(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, args ...string) string {
		file := filepath.Join(dir, name+".json")
		if err := os.WriteFile(file, []byte(plan_(t, append([]string{"-stack", "prod", "-format", "json"}, args...)...)), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	before, during := save("before"), save("during", migrationDuring...)

	naive := plan_(t, append(append([]string{"-stack", "prod"}, migrationDuring...), "-compare", before)...)
	t.Logf("steps 3-4 without step 2:\n%s", naive)
	for _, urn := range migrationForget {
		if !strings.Contains(naive, "\n  "+urn+" (") {
			t.Errorf("the runbook forgets %s, which the change does not touch", urn)
		}
	}
	if got := strings.Count(naive[strings.Index(naive, "deleted or replaced, by component"):strings.Index(naive, "blocked:")], "\n  urn:"); got != len(migrationForget) {
		t.Errorf("the change touches %d components, the runbook forgets %d:\n%s", got, len(migrationForget), naive)
	}
	if !strings.Contains(naive, "blocked: 3 protected") {
		t.Errorf("without step 2 the up should stop at the protected namespace, database and drill namespace:\n%s", naive)
	}

	args := append([]string{"-stack", "prod"}, migrationDuring...)
	args = append(args, "-compare", before)
	for _, urn := range migrationForget {
		args = append(args, "-forget", urn)
	}
	steps := plan_(t, args...)
	t.Logf("steps 2-4:\n%s", steps)
	for _, want := range []string{"0 to replace, 1 to delete", "delete:\n  pulumi:pulumi:StackReference organization/camps-infra/uat\n", "infomaniak:kaas:Cluster cluster  [protected]"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps 2-4 lack %q", want)
		}
	}
	if strings.Contains(steps, "blocked:") || strings.Contains(steps, "dns-a-camps_ch: content") {
		t.Errorf("steps 2-4 delete something running or move the records early:\n%s", steps)
	}

	cutover := plan_(t, append(append([]string{"-stack", "prod"}, migrationAfter...), "-compare", during)...)
	t.Logf("step 9:\n%s", cutover)
	for _, want := range []string{"0 to replace, 0 to delete", "dns-a-camps_ch: content", "dns-a-www_camps_ch: content",
		"kubernetes:postgresql.cnpg.io/v1:Cluster postgres-production  [protected]", "ObjectStore postgres-production-recovery-source"} {
		if !strings.Contains(cutover, want) {
			t.Errorf("step 9 lacks %q:\n%s", want, cutover)
		}
	}
}
