package data

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TestRcloneJobsRefuseBadArgs: the copy and the expiry name what is wrong
// before anything is registered.
func TestRcloneJobsRefuseBadArgs(t *testing.T) {
	at := S3Location{Bucket: "camps-prod-audit", Endpoint: "https://s3.pub2.infomaniak.cloud", Region: "dc4-a"}
	other := S3Location{Bucket: "camps-prod-copy", Endpoint: "https://s3.pub1.infomaniak.cloud", Region: "dc3-a"}
	key := pulumi.String("k")
	copyArgs := func(mut func(*BackupCopyArgs)) error {
		a := BackupCopyArgs{Job: "backup-copy-audit", Namespace: pulumi.String("production"), From: at, To: other, AccessKey: key, SecretKey: key, Schedule: "0 5 * * *"}
		mut(&a)
		return a.validate()
	}
	expiryArgs := func(mut func(*ObjectExpiryArgs)) error {
		a := ObjectExpiryArgs{Name: "audit-retention", Namespace: pulumi.String("audit"), At: at, MaxAgeDays: 90,
			AccessKey: key, SecretKey: key, Schedule: "30 4 * * *"}
		mut(&a)
		return a.validate()
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // "" = valid
	}{
		{"a valid copy", copyArgs(func(*BackupCopyArgs) {}), ""},
		{"a copy under another name", copyArgs(func(a *BackupCopyArgs) { a.Job = "copy-audit" }), `job "copy-audit" is not backup-copy-<what>`},
		{"a copy onto itself", copyArgs(func(a *BackupCopyArgs) { a.To = a.From }), "two different buckets"},
		{"a copy over HTTP", copyArgs(func(a *BackupCopyArgs) { a.To.Endpoint = "http://s3" }), `endpoint "http://s3" is not an https:// URL`},
		{"a copy without region", copyArgs(func(a *BackupCopyArgs) { a.From.Region = "" }), "its region is required"},
		{"a copy without credentials", copyArgs(func(a *BackupCopyArgs) { a.SecretKey = nil }), "credentials are required"},
		{"a six-field schedule", copyArgs(func(a *BackupCopyArgs) { a.Schedule = "0 0 5 * * *" }), "not a five-field cron"},
		{"a valid expiry", expiryArgs(func(*ObjectExpiryArgs) {}), ""},
		{"an expiry of no day", expiryArgs(func(a *ObjectExpiryArgs) { a.MaxAgeDays = 0 }), "at least one day"},
		{"an expiry of a bad bucket", expiryArgs(func(a *ObjectExpiryArgs) { a.At.Bucket = "Audit_Log" }), `bucket "Audit_Log"`},
		{"an expiry without namespace", expiryArgs(func(a *ObjectExpiryArgs) { a.Namespace = nil }), "a namespace is required"},
		{"an expiry without name", expiryArgs(func(a *ObjectExpiryArgs) { a.Name = "" }), "a name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.want == "") != (tc.err == nil) || (tc.err != nil && !strings.Contains(tc.err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", tc.err, tc.want)
			}
		})
	}
}
