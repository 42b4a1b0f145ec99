package stacks_test

import (
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/internal/stackrun"
)

// TestRecoveryStack: the recovery stack (Pulumi.dr.yaml) plans offline,
// creates its cluster in dc3-a with pools in dc3-a's zones, restores
// production's database from the copy of its backups in dc3-a, and
// touches nothing in dc4-a: its providers, buckets and S3 endpoints are
// all dc3-a's, and it copies nothing back.
func TestRecoveryStack(t *testing.T) {
	res := mustRun(t, stackrun.Options{Stack: "dr"})
	cluster := find(t, res, "infomaniak:kaas:Cluster", "cluster")
	wantValue(t, cluster, "region", "dc3-a")
	wantValue(t, cluster, "name", "camps-dr")
	for _, zone := range []string{"dc3-a-04", "dc3-a-09", "dc3-a-10"} {
		found := false
		for _, p := range res.Recorder.OfType("infomaniak:kaas:InstancePool") {
			found = found || p.String("availabilityZone") == zone
		}
		if !found {
			t.Errorf("no pool in zone %s", zone)
		}
	}
	source := find(t, res, "kubernetes:barmancloud.cnpg.io/v1:ObjectStore", "postgres-production-recovery-source")
	wantValue(t, source, "spec.configuration.destinationPath", "s3://camps-prod-postgres-copy/production")
	wantValue(t, source, "spec.configuration.endpointURL", "https://s3.pub1.infomaniak.cloud")
	pg := find(t, res, "kubernetes:postgresql.cnpg.io/v1:Cluster", "postgres-production")
	wantValue(t, pg, "spec.bootstrap.recovery.source", "backup-postgres")
	for _, typ := range []string{"pulumi:providers:openstack", "openstack:objectstorage/container:Container"} {
		for _, r := range res.Recorder.OfType(typ) {
			if region := r.String("region"); region != "" && region != "dc3-a" {
				t.Errorf("%s %s in %s", typ, r.Name, region)
			}
			if strings.HasPrefix(r.String("name"), "camps-prod") {
				t.Errorf("the recovery stack manages prod's bucket %s", r.String("name"))
			}
		}
	}
	for _, r := range res.Recorder.OfType("kubernetes:batch/v1:CronJob") {
		if strings.HasPrefix(r.Name, "backup-copy") {
			t.Errorf("the recovery stack copies to the lost region: %s", r.Name)
		}
	}
	for _, r := range res.Recorder.OfType("kubernetes:barmancloud.cnpg.io/v1:ObjectStore") {
		if url := r.String("spec.configuration.endpointURL"); url != "https://s3.pub1.infomaniak.cloud" {
			t.Errorf("object store %s at %s", r.Name, url)
		}
	}
}
