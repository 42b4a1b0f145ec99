package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/internal/e2e/kube"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

// access is one question to the API server's authorizer: may a person
// in group do verb on resource (and subresource) in namespace.
type access struct {
	group, verb, group2, resource, subresource, namespace string
	want                                                  bool
}

// people reads uat's oidcKubeconfig output (its cluster entry reaches
// the API server; its user signs in with kubelogin at GitLab as the
// stack's client), and asks the API server (SelfSubjectAccessReviews, as a
// GitLab user in one group, by impersonation) what each group of the
// stack files may do on the shared cluster, where uat binds them. The
// sign-in itself needs GitLab and is not exercised here.
func (p *project) people(ctx context.Context, r *runner, uatStack auto.Stack) error {
	return p.step("people's GitLab groups in the API server", func(io.Writer) (string, error) {
		uat, err := stackrun.LoadConfig(stackrun.Options{Dir: r.repo, Stack: "uat", Secrets: stackrun.OperatorValues()})
		if err != nil {
			return "", err
		}
		prod, err := stackrun.LoadConfig(stackrun.Options{Dir: r.repo, Stack: "prod", Secrets: stackrun.OperatorValues()})
		if err != nil {
			return "", err
		}
		if uat.Security.OIDC == nil || len(uat.Namespaces) == 0 || len(prod.Namespaces) == 0 {
			return "", fmt.Errorf("the uat and prod stack files need security.oidc and a namespace each for this check")
		}
		if err := checkOIDCKubeconfig(ctx, r, uatStack, uat.Security.OIDC.IssuerURL); err != nil {
			return "", err
		}
		g := uat.Security.Groups
		uatDeployers, prodDeployers := uat.Namespaces[0].DeployerGroup, prod.Namespaces[0].DeployerGroup
		checks := []access{
			{uatDeployers, "create", "apps", "deployments", "", "uat", true},
			{uatDeployers, "create", "", "pods", "exec", "uat", true},
			{uatDeployers, "create", "apps", "deployments", "", "production", false},
			{uatDeployers, "create", "rbac.authorization.k8s.io", "rolebindings", "", "uat", false},
			{prodDeployers, "create", "apps", "deployments", "", "production", true},
			{prodDeployers, "create", "", "pods", "exec", "production", false},
			{prodDeployers, "get", "", "secrets", "", "uat", false},
			{g.Auditors, "list", "", "pods", "", "production", true},
			{g.Auditors, "get", "", "secrets", "", "production", false},
			{g.PlatformAdmins, "create", "", "namespaces", "", "", true},
			{g.PlatformAdmins, "impersonate", "", "users", "", "", false},
			{g.BreakGlass, "impersonate", "", "users", "", "", true},
			{"gitlab:camps-ch/someone-else", "list", "", "pods", "", "uat", false},
		}
		for _, c := range checks {
			allowed, err := reviewAccess(ctx, r, c)
			if err != nil {
				return "", err
			}
			if allowed != c.want {
				return "", fmt.Errorf("group %s: %s %s/%s in %q: allowed %v, want %v", c.group, c.verb, c.resource, c.subresource, c.namespace, allowed, c.want)
			}
		}
		return fmt.Sprintf("oidcKubeconfig reaches the API server and names kubelogin, the issuer and the client (sign-in not exercised); %d questions answered as the stack files say: deployers in their namespace only (exec in uat), auditors without Secrets, platform admins without impersonation, break-glass all", len(checks)), nil
	})
}

// checkOIDCKubeconfig: the stack's oidcKubeconfig is plain, holds no
// credential, names the cluster's server with a certificate authority
// that verifies it (an unauthenticated GET /version), and signs in with
// kubelogin at the stack's issuer as its client.
func checkOIDCKubeconfig(ctx context.Context, r *runner, s auto.Stack, issuer string) error {
	outs, err := s.Outputs(ctx)
	if err != nil {
		return err
	}
	o := outs["oidcKubeconfig"]
	kc, _ := o.Value.(string)
	if o.Secret || kc == "" {
		return fmt.Errorf("oidcKubeconfig is %q (secret %v), want a plain kubeconfig", kc, o.Secret)
	}
	var users struct {
		Users []struct {
			User map[string]any `yaml:"user"`
		} `yaml:"users"`
	}
	if err := yaml.Unmarshal([]byte(kc), &users); err != nil || len(users.Users) != 1 || len(users.Users[0].User) != 1 || users.Users[0].User["exec"] == nil {
		return fmt.Errorf("oidcKubeconfig's user is not a lone exec sign-in: %v", users)
	}
	for _, want := range []string{"- oidc-login", "- --oidc-issuer-url=" + issuer, "- --oidc-client-id=" + oidcClientID} {
		if !strings.Contains(kc, want) {
			return fmt.Errorf("oidcKubeconfig lacks %q:\n%s", want, kc)
		}
	}
	server, client, err := clusterClient(kc)
	if err != nil {
		return fmt.Errorf("oidcKubeconfig: %w", err)
	}
	if server != r.kube.URL {
		return fmt.Errorf("oidcKubeconfig names server %s, not the cluster's %s", server, r.kube.URL)
	}
	status, body, err := kube.Send(ctx, client, server, "", http.MethodGet, "/version", nil, nil)
	if err != nil || status != http.StatusOK {
		return errors.Join(err, fmt.Errorf("oidcKubeconfig: GET /version: HTTP %d: %s", status, body))
	}
	return nil
}

// reviewAccess asks as a GitLab user (by ID, as the usernameClaim sub
// names them) in c.group.
func reviewAccess(ctx context.Context, r *runner, c access) (bool, error) {
	review, _ := json.Marshal(map[string]any{
		"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
		"spec": map[string]any{"resourceAttributes": map[string]string{
			"verb": c.verb, "group": c.group2, "resource": c.resource, "subresource": c.subresource, "namespace": c.namespace,
		}},
	})
	header := http.Header{}
	header.Set("Impersonate-User", "gitlab:4242")
	header.Add("Impersonate-Group", c.group)
	header.Add("Impersonate-Group", "system:authenticated")
	status, body, err := kube.Send(ctx, r.kube.Client(), r.kube.URL, r.kube.Token(), http.MethodPost,
		"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review, header)
	if err != nil {
		return false, err
	}
	if status != http.StatusCreated {
		return false, fmt.Errorf("SelfSubjectAccessReview: HTTP %d: %s", status, body)
	}
	var out struct {
		Status struct{ Allowed bool } `json:"status"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return false, fmt.Errorf("SelfSubjectAccessReview: %w", err)
	}
	return out.Status.Allowed, nil
}
