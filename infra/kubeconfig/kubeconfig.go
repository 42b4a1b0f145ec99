// Package kubeconfig derives scoped kubeconfigs from a cluster's admin
// kubeconfig: the same cluster entry (server, certificate authority), a
// different user.
package kubeconfig

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// config is the part of a kubeconfig this package reads.
type config struct {
	Clusters []struct {
		Name    string         `yaml:"name"`
		Cluster map[string]any `yaml:"cluster"`
	} `yaml:"clusters"`
	Contexts []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster string `yaml:"cluster"`
		} `yaml:"context"`
	} `yaml:"contexts"`
	CurrentContext string `yaml:"current-context"`
}

// ClusterFields are the fields of a cluster entry that Cluster keeps: where
// the API server is and how to verify it. Anything else (a proxy URL that
// may carry a password, extensions) stays in the admin kubeconfig.
var ClusterFields = []string{"server", "certificate-authority-data", "tls-server-name"}

// Cluster returns the name and the cluster entry (ClusterFields only) of
// admin's current context. An entry that points at a file
// (certificate-authority) or skips TLS verification is refused: the file
// does not travel with the kubeconfig, and a scoped kubeconfig must verify
// the server it sends its token to.
func Cluster(admin string) (string, map[string]any, error) {
	var c config
	if err := yaml.Unmarshal([]byte(admin), &c); err != nil {
		// The parser's message may quote the document, which holds a
		// credential: say where, not what.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return "", nil, fmt.Errorf("kubeconfig: %d field(s) of the wrong type; clusters, contexts and current-context must be as kubectl writes them", len(te.Errors))
		}
		return "", nil, errors.New("kubeconfig: not a YAML document")
	}
	name := ""
	for _, ctx := range c.Contexts {
		if ctx.Name == c.CurrentContext {
			name = ctx.Context.Cluster
		}
	}
	if name == "" && len(c.Clusters) == 1 {
		name = c.Clusters[0].Name
	}
	if name == "" {
		return "", nil, fmt.Errorf("kubeconfig: current-context %q names no context with a cluster", c.CurrentContext)
	}
	for _, cl := range c.Clusters {
		if cl.Name != name {
			continue
		}
		if s, _ := cl.Cluster["server"].(string); s == "" {
			return "", nil, fmt.Errorf("kubeconfig: cluster %q has no server", name)
		}
		if _, ok := cl.Cluster["certificate-authority"]; ok {
			return "", nil, fmt.Errorf("kubeconfig: cluster %q reads its certificate authority from a file; embed it as certificate-authority-data", name)
		}
		if skip, _ := cl.Cluster["insecure-skip-tls-verify"].(bool); skip {
			return "", nil, fmt.Errorf("kubeconfig: cluster %q skips TLS verification; give it its certificate-authority-data", name)
		}
		kept := map[string]any{}
		for _, f := range ClusterFields {
			if v, ok := cl.Cluster[f]; ok {
				kept[f] = v
			}
		}
		return name, kept, nil
	}
	return "", nil, fmt.Errorf("kubeconfig: no cluster %q", name)
}

// WithToken renders a kubeconfig of admin's cluster for the user called
// user, who authenticates with a bearer token, in namespace by default.
func WithToken(admin, user, namespace, token string) (string, error) {
	if user == "" || namespace == "" || token == "" {
		return "", errors.New("kubeconfig: a user, a namespace and a token are required")
	}
	return render(admin, user, namespace, map[string]any{"token": token})
}

// KubeloginVersion is the kubelogin (int128/kubelogin, kubectl
// oidc-login) the OIDC kubeconfig is written for; docs/access.md installs
// it.
const KubeloginVersion = "v1.36.3" // renovate: datasource=github-releases depName=int128/kubelogin

// WithOIDC renders a kubeconfig of admin's cluster that holds no
// credential: its user signs in at issuer as client clientID through
// kubelogin, which opens a browser and caches the ID token.
func WithOIDC(admin, user, issuer, clientID string) (string, error) {
	if user == "" || issuer == "" || clientID == "" {
		return "", errors.New("kubeconfig: a user, an issuer and a client ID are required")
	}
	return render(admin, user, "", map[string]any{"exec": map[string]any{
		"apiVersion": "client.authentication.k8s.io/v1",
		"command":    "kubectl",
		"args": []string{"oidc-login", "get-token",
			"--oidc-issuer-url=" + issuer, "--oidc-client-id=" + clientID},
		"interactiveMode":    "Never",
		"provideClusterInfo": false,
		"installHint":        "kubelogin " + KubeloginVersion + " signs you in: docs/access.md",
	}})
}

// render writes a kubeconfig of admin's cluster with one user and one
// context, in namespace when it is not empty.
func render(admin, user, namespace string, credential map[string]any) (string, error) {
	name, cluster, err := Cluster(admin)
	if err != nil {
		return "", err
	}
	context := map[string]any{"cluster": name, "user": user}
	if namespace != "" {
		context["namespace"] = namespace
	}
	b, err := yaml.Marshal(map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"clusters":        []any{map[string]any{"name": name, "cluster": cluster}},
		"users":           []any{map[string]any{"name": user, "user": credential}},
		"contexts":        []any{map[string]any{"name": user, "context": context}},
		"current-context": user,
	})
	if err != nil {
		return "", fmt.Errorf("kubeconfig: %w", err)
	}
	return string(b), nil
}
