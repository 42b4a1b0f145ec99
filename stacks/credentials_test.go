package stacks_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/contract"
	"gitlab.com/camps-ch/infra/internal/stackrun"
	"gitlab.com/camps-ch/infra/stacks"
)

// TestEveryCredentialIsDocumented plans every stack and phase and fails
// on a credential docs/credentials.md does not list: a Secret or an
// ExternalSecret the program creates (as <namespace>/<name>, application
// namespaces written <namespace>), a secret output of the contract, a
// secret configuration key.
func TestEveryCredentialIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/credentials.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var missing []string
	// need wants what, in code format and after prefix, in the document.
	needAs := func(prefix, what string) {
		if !strings.Contains(doc, prefix+"`"+what+"`") && !slices.Contains(missing, prefix+what) {
			missing = append(missing, prefix+what)
		}
	}
	need := func(what string) { needAs("", what) }
	for _, f := range contract.Fields() {
		if f.Secret {
			needAs("output ", f.Name)
		}
	}
	for _, key := range stacks.SecretKeys {
		need(key)
	}
	appNamespace := regexp.MustCompile(`^(uat|production)(-restore-drill)?$`)
	generation := regexp.MustCompile(`^(deployer-token)-[0-9]+$`)
	for _, opts := range []stackrun.Options{
		{Stack: "uat"}, {Stack: "prod"}, {Stack: "dr"},
		{Stack: "prod", Set: map[string]string{key("phase"): "2"}},
		{Stack: "prod", Set: map[string]string{key("phase"): "2", key("security"): `{"externalSecrets":true}`}},
	} {
		res := mustRun(t, opts)
		for _, typ := range []string{"kubernetes:core/v1:Secret", "kubernetes:external-secrets.io/v1:ExternalSecret"} {
			for _, r := range res.Recorder.OfType(typ) {
				ns := appNamespace.ReplaceAllString(r.String("metadata.namespace"), "<namespace>$2")
				need(ns + "/" + generation.ReplaceAllString(r.String("metadata.name"), "$1-<generation>"))
			}
		}
		if len(res.Recorder.OfType("openstack:identity/ec2CredentialV3:Ec2CredentialV3")) > 0 {
			need("openstack:identity/ec2CredentialV3")
		}
	}
	if len(missing) > 0 {
		t.Errorf("docs/credentials.md does not document (owner, scope, rotation):\n  %s", strings.Join(missing, "\n  "))
	}
}
