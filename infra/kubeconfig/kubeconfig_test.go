package kubeconfig

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const admin = `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: https://other:6443}
- name: camps-prod
  cluster:
    server: https://camps-prod.example:6443
    certificate-authority-data: Q0E=
    tls-server-name: kubernetes
    proxy-url: http://ops:pr0xy-s3cr3t@proxy.example:3128
    extensions: [{name: client.authentication.k8s.io/exec, extension: {token: ext-s3cr3t}}]
users:
- name: admin
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}
contexts:
- name: other
  context: {cluster: other, user: admin}
- name: prod
  context: {cluster: camps-prod, user: admin}
current-context: prod
`

func TestWithToken(t *testing.T) {
	got, err := WithToken(admin, "production-deployer", "production", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	var kc struct {
		Clusters []struct {
			Name    string
			Cluster map[string]string
		}
		Users []struct {
			Name string
			User map[string]string
		}
		Contexts []struct {
			Name    string
			Context map[string]string
		}
		Current string `yaml:"current-context"`
	}
	if err := yaml.Unmarshal([]byte(got), &kc); err != nil {
		t.Fatal(err)
	}
	if len(kc.Clusters) != 1 || kc.Clusters[0].Name != "camps-prod" || kc.Clusters[0].Cluster["server"] != "https://camps-prod.example:6443" ||
		kc.Clusters[0].Cluster["certificate-authority-data"] != "Q0E=" || kc.Clusters[0].Cluster["tls-server-name"] != "kubernetes" {
		t.Errorf("clusters = %+v, want the current context's cluster entry as is", kc.Clusters)
	}
	if len(kc.Users) != 1 || len(kc.Users[0].User) != 1 || kc.Users[0].User["token"] != "t0ken" || kc.Users[0].Name != "production-deployer" {
		t.Errorf("users = %+v, want the deployer with its token only", kc.Users)
	}
	if len(kc.Contexts) != 1 || kc.Current != kc.Contexts[0].Name || kc.Contexts[0].Context["namespace"] != "production" {
		t.Errorf("contexts = %+v, current %q", kc.Contexts, kc.Current)
	}
	for _, leak := range []string{"a2V5", "other", "pr0xy-s3cr3t", "ext-s3cr3t"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q of the admin kubeconfig leaked:\n%s", leak, got)
		}
	}
}

func TestClusterRefusals(t *testing.T) {
	tests := []struct{ name, kubeconfig, want string }{
		{"not YAML", "clusters: [s3cr3t", "kubeconfig: not a YAML document"},
		{"wrong types", "clusters: s3cr3t", "kubeconfig: 1 field(s) of the wrong type"},
		{"no context", "clusters: [{name: a, cluster: {server: https://a}}, {name: b, cluster: {server: https://b}}]", `current-context "" names no context with a cluster`},
		{"missing cluster", "contexts: [{name: x, context: {cluster: gone}}]\ncurrent-context: x", `kubeconfig: no cluster "gone"`},
		{"no server", "clusters: [{name: a, cluster: {insecure-skip-tls-verify: true}}]", `cluster "a" has no server`},
		{"a CA file", "clusters: [{name: a, cluster: {server: https://a, certificate-authority: /ca.crt}}]", "embed it as certificate-authority-data"},
		{"no TLS verification", "clusters: [{name: a, cluster: {server: https://a, insecure-skip-tls-verify: true}}]", `cluster "a" skips TLS verification`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Cluster(tt.kubeconfig)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error quotes the document: %v", err)
			}
		})
	}
	if _, err := WithToken(admin, "u", "ns", ""); err == nil {
		t.Error("an empty token is accepted")
	}
}

// FuzzCluster: no input panics, a parser error never reaches the message
// (it may quote the credential), and a cluster found has a server.
func FuzzCluster(f *testing.F) {
	f.Add(admin)
	f.Add("clusters: [{name: a, cluster: {server: https://a}}]")
	f.Add("current-context: [")
	f.Fuzz(func(t *testing.T, in string) {
		name, cluster, err := Cluster(in)
		if err != nil {
			if strings.Contains(err.Error(), "yaml:") {
				t.Errorf("the parser's message reaches the error: %v", err)
			}
			return
		}
		if s, _ := cluster["server"].(string); s == "" || name == "" && len(cluster) == 0 {
			t.Errorf("Cluster(%q) = %q, %v without a server", in, name, cluster)
		}
		if _, err := WithToken(in, "u", "ns", "t"); err != nil {
			t.Errorf("WithToken fails on a kubeconfig Cluster accepts: %v", err)
		}
	})
}
