package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/infra/kubeconfig"
	"gitlab.com/camps-ch/infra/internal/e2e/kube"
)

// deployerCheck is the Deployment each deployer creates in its namespace
// and is refused elsewhere. No Pod runs here; the API server only
// authorizes and stores it.
const deployerCheck = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"e2e-deployer-check"},
"spec":{"replicas":1,"selector":{"matchLabels":{"app":"check"}},"template":{"metadata":{"labels":{"app":"check"}},
"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
"containers":[{"name":"check","image":"registry.gitlab.com/camps-ch/check:1","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}}}`

// deployers reads the stacks' deployerKubeconfigs outputs and uses each
// as the namespace's CI would, against the API server: it creates (and
// deletes) a Deployment in its own namespace, and is refused (403) in
// every other application namespace, in kube-system and on a
// cluster-scoped object (a Namespace). A stack that attaches to another's
// cluster must export neither the admin kubeconfig nor Grafana's password.
func (p *project) deployers(ctx context.Context, r *runner, stacks ...auto.Stack) error {
	return p.step("deployer kubeconfigs in the API server", func(io.Writer) (string, error) {
		creds := map[string]string{}
		for _, s := range stacks {
			outs, err := s.Outputs(ctx)
			if err != nil {
				return "", err
			}
			o := outs["deployerKubeconfigs"]
			m, ok := o.Value.(map[string]any)
			if !ok || !o.Secret || len(m) == 0 {
				return "", fmt.Errorf("stack %s: deployerKubeconfigs is %T (secret %v), want a secret map of kubeconfigs", s.Name(), o.Value, o.Secret)
			}
			for ns, kc := range m {
				creds[ns], _ = kc.(string)
			}
			if outs["clusterMode"].Value == "attach" {
				for _, name := range []string{"adminKubeconfig", "grafanaAdminPassword"} {
					if v := outs[name].Value; v != "" {
						return "", fmt.Errorf("stack %s attaches but exports %s", s.Name(), name)
					}
				}
			}
		}
		namespaces := slices.Sorted(maps.Keys(creds))
		tokens := map[string]string{}
		for _, ns := range namespaces {
			others := append(slices.DeleteFunc(slices.Clone(namespaces), func(o string) bool { return o == ns }), "kube-system")
			token, err := checkDeployer(ctx, r, ns, creds[ns], others)
			if err != nil {
				return "", fmt.Errorf("namespace %s's deployer: %w", ns, err)
			}
			tokens[ns+"'s deployer token"] = token
			tokens[ns+"'s deployer token, base64"] = base64.StdEncoding.EncodeToString([]byte(token))
		}
		for _, s := range stacks {
			plain, err := p.plainSecrets(ctx, s, tokens)
			if err != nil {
				return "", err
			}
			if len(plain) > 0 {
				return "", fmt.Errorf("stack %s: in plain text in the state: %s", s.Name(), strings.Join(plain, ", "))
			}
		}
		return fmt.Sprintf("%s: each creates a Deployment in its namespace; refused (403) in the others, kube-system and on namespaces; tokens secret in the state",
			strings.Join(namespaces, ", ")), nil
	})
}

// checkDeployer uses one deployer kubeconfig and returns its token.
func checkDeployer(ctx context.Context, r *runner, ns, kc string, others []string) (string, error) {
	server, client, token, err := deployerClient(kc)
	if err != nil {
		return "", err
	}
	if server != r.kube.URL {
		return "", fmt.Errorf("its kubeconfig names server %s, not the cluster's %s", server, r.kube.URL)
	}
	return token, useDeployer(ctx, client, server, token, ns, others)
}

// useDeployer creates and deletes a Deployment in ns with token, and
// expects 403 in the other namespaces and on a Namespace.
func useDeployer(ctx context.Context, client *http.Client, server, token, ns string, others []string) error {
	send := func(method, path string, body string) (int, []byte, error) {
		return kube.Send(ctx, client, server, token, method, path, []byte(body), nil)
	}
	deployments := func(ns string) string { return "/apis/apps/v1/namespaces/" + ns + "/deployments" }
	status, body, err := send(http.MethodPost, deployments(ns), deployerCheck)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("creating a Deployment in its namespace: HTTP %d: %s", status, body)
	}
	if status, body, err = send(http.MethodDelete, deployments(ns)+"/e2e-deployer-check", ""); err != nil || status != http.StatusOK {
		return errors.Join(err, fmt.Errorf("deleting its Deployment: HTTP %d: %s", status, body))
	}
	refused := map[string]string{"namespaces": `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"e2e-deployer-check"}}`}
	for _, other := range others {
		refused[deployments(other)] = deployerCheck
	}
	for _, path := range slices.Sorted(maps.Keys(refused)) {
		full := path
		if path == "namespaces" {
			full = "/api/v1/namespaces"
		}
		status, body, err := send(http.MethodPost, full, refused[path])
		if err != nil {
			return err
		}
		if status != http.StatusForbidden {
			return fmt.Errorf("POST %s: HTTP %d, want 403: %s", full, status, body)
		}
	}
	return nil
}

// deployerClient reads a deployer kubeconfig: its server, a client that
// trusts its certificate authority, and its token.
func deployerClient(kc string) (string, *http.Client, string, error) {
	server, client, err := clusterClient(kc)
	if err != nil {
		return "", nil, "", err
	}
	var users struct {
		Users []struct {
			User struct{ Token string } `yaml:"user"`
		} `yaml:"users"`
	}
	if err := yaml.Unmarshal([]byte(kc), &users); err != nil || len(users.Users) != 1 || users.Users[0].User.Token == "" {
		return "", nil, "", errors.New("its kubeconfig has no single user with a token")
	}
	return server, client, users.Users[0].User.Token, nil
}

// clusterClient reads a kubeconfig's cluster: its server and a client
// that trusts its certificate authority.
func clusterClient(kc string) (string, *http.Client, error) {
	_, cluster, err := kubeconfig.Cluster(kc)
	if err != nil {
		return "", nil, err
	}
	caPEM, err := base64.StdEncoding.DecodeString(fmt.Sprint(cluster["certificate-authority-data"]))
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		return "", nil, errors.New("its kubeconfig has no certificate-authority-data")
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return fmt.Sprint(cluster["server"]), client, nil
}
