// Package kube runs a Kubernetes control plane on loopback for the
// end-to-end run: etcd, kube-apiserver and a kube-controller-manager with
// the namespace, garbage-collector, resource-quota and claim-protection
// controllers (without them deletes hang on finalizers, such as a
// PersistentVolumeClaim's, and ResourceQuotas never get a status).
// There is no kubelet: no Pod ever runs.
//
// The API server serves TLS with a CA made here, authenticates one admin
// token (system:masters), authorizes with RBAC and runs without the
// admission webhooks: the charts' webhooks have no backend here, and a
// webhook with failurePolicy Fail would block every object it covers.
package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Tools are the control plane's binaries.
type Tools struct {
	Etcd, APIServer, ControllerManager string
}

// ToolsIn finds the binaries in a directory (make e2e-tools's bin/).
func ToolsIn(dir string) Tools {
	return Tools{
		Etcd:              filepath.Join(dir, "etcd"),
		APIServer:         filepath.Join(dir, "kube-apiserver"),
		ControllerManager: filepath.Join(dir, "kube-controller-manager"),
	}
}

// ControlPlane is a running control plane.
type ControlPlane struct {
	// URL is the API server's address, https://127.0.0.1:<port>.
	URL string
	// Kubeconfig is an admin kubeconfig of it.
	Kubeconfig []byte

	token string
	ca    *x509.CertPool
	dir   string
	procs []*proc
}

// proc is a started process; done is closed when it has exited.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts the control plane with its files in dir and logs in
// dir/*.log, and waits until the API server is ready.
func Start(ctx context.Context, tools Tools, dir string) (*ControlPlane, error) {
	cp := &ControlPlane{dir: dir}
	if err := cp.start(ctx, tools); err != nil {
		cp.Stop()
		return nil, err
	}
	return cp, nil
}

func (cp *ControlPlane) start(ctx context.Context, tools Tools) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	pki, err := cp.writePKI()
	if err != nil {
		return err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peer := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	if err := cp.run(ctx, "etcd", tools.Etcd,
		"--name=e2e", "--data-dir="+filepath.Join(cp.dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=e2e="+peer, "--unsafe-no-fsync=true"); err != nil {
		return err
	}
	cp.URL = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	if err := cp.run(ctx, "kube-apiserver", tools.APIServer,
		"--etcd-servers="+client,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		"--tls-cert-file="+pki.cert, "--tls-private-key-file="+pki.key,
		"--token-auth-file="+pki.tokens,
		"--authorization-mode=RBAC",
		// As on a real cluster: Longhorn's manager and node-exporter are privileged.
		"--allow-privileged=true",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+pki.saPub, "--service-account-signing-key-file="+pki.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--disable-admission-plugins=ValidatingAdmissionWebhook,MutatingAdmissionWebhook",
		"--enable-priority-and-fairness=false",
		// The only address is loopback, which the endpoint reconciler refuses.
		"--endpoint-reconciler-type=none",
	); err != nil {
		return err
	}
	cp.Kubeconfig = kubeconfig(cp.URL, pki.caPEM, cp.token)
	kc := filepath.Join(cp.dir, "admin.kubeconfig")
	if err := os.WriteFile(kc, cp.Kubeconfig, 0o600); err != nil {
		return err
	}
	if err := cp.waitReady(ctx); err != nil {
		return err
	}
	return cp.run(ctx, "kube-controller-manager", tools.ControllerManager,
		"--kubeconfig="+kc, "--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
		// As on a real cluster, the token controller fills ServiceAccount
		// token Secrets (the deployers' credentials), and the aggregation
		// controller fills the built-in view, edit and admin roles.
		"--controllers=namespace-controller,garbage-collector-controller,resourcequota-controller,persistentvolumeclaim-protection-controller,serviceaccount-token-controller,clusterrole-aggregation-controller",
		"--service-account-private-key-file="+pki.saKey, "--root-ca-file="+pki.ca,
		"--leader-elect=false", "--secure-port=0", "--use-service-account-credentials=false")
}

// run starts a process with its output in dir/<name>.log.
func (cp *ControlPlane) run(ctx context.Context, name, bin string, args ...string) error {
	log, err := os.Create(filepath.Join(cp.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting %s (%s): %w; build the tools with make e2e-tools", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	cp.procs = append(cp.procs, p)
	return nil
}

// Stop stops every process, the last started first.
func (cp *ControlPlane) Stop() {
	for i := len(cp.procs) - 1; i >= 0; i-- {
		p := cp.procs[i]
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	cp.procs = nil
}

// exited returns an error naming a process that has exited.
func (cp *ControlPlane) exited() error {
	for _, p := range cp.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v); see %s", p.name, p.err, filepath.Join(cp.dir, p.name+".log"))
		default:
		}
	}
	return nil
}

func (cp *ControlPlane) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last error
	for {
		status, _, err := cp.get(ctx, "/readyz")
		if err == nil && status == http.StatusOK {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("readyz answered %d", status)
		}
		if err := cp.exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver did not become ready (see %s): %w", filepath.Join(cp.dir, "kube-apiserver.log"), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Definitions writes the API server's OpenAPI v2 definitions to path, as
// a JSON schema document {"definitions": {...}} in the form of
// kubernetes-json-schema's _definitions.json: an int-or-string is a
// string or an integer (OpenAPI says string with that format).
func (cp *ControlPlane) Definitions(ctx context.Context, path string) error {
	var doc struct {
		Definitions map[string]any `json:"definitions"`
	}
	if err := cp.getJSON(ctx, "/openapi/v2", &doc); err != nil {
		return err
	}
	intOrString(doc.Definitions)
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// intOrString rewrites every schema of format int-or-string as one of a
// string or an integer, in place.
func intOrString(v any) {
	switch v := v.(type) {
	case map[string]any:
		if v["format"] == "int-or-string" {
			delete(v, "type")
			v["oneOf"] = []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}
		}
		for _, x := range v {
			intOrString(x)
		}
	case []any:
		for _, x := range v {
			intOrString(x)
		}
	}
}

// Token is the admin token: it must never appear in plain text in a state.
func (cp *ControlPlane) Token() string { return cp.token }

// Client is an admin HTTP client of the API server.
func (cp *ControlPlane) Client() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cp.ca}}}
}

// get sends an admin GET.
func (cp *ControlPlane) get(ctx context.Context, path string) (int, []byte, error) {
	return Get(ctx, cp.Client(), cp.URL, cp.token, path)
}

// Get sends a GET with a bearer token and returns the status and body.
func Get(ctx context.Context, c *http.Client, base, token, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

type pkiFiles struct {
	ca, cert, key, tokens, saKey, saPub string
	caPEM                               []byte
}

// writePKI makes a CA, the API server's serving certificate for
// 127.0.0.1, the service-account signing key and the admin token.
func (cp *ControlPlane) writePKI() (pkiFiles, error) {
	f := pkiFiles{
		ca:   filepath.Join(cp.dir, "ca.crt"),
		cert: filepath.Join(cp.dir, "apiserver.crt"), key: filepath.Join(cp.dir, "apiserver.key"),
		tokens: filepath.Join(cp.dir, "tokens.csv"), saKey: filepath.Join(cp.dir, "sa.key"), saPub: filepath.Join(cp.dir, "sa.pub"),
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return f, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "camps-infra e2e CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return f, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return f, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return f, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost", "kubernetes.default.svc"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return f, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return f, err
	}
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return f, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return f, err
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return f, err
	}
	cp.token = hex.EncodeToString(secret)
	f.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	cp.ca = x509.NewCertPool()
	cp.ca.AddCert(ca)
	for path, content := range map[string][]byte{
		f.ca:     f.caPEM,
		f.cert:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		f.key:    pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		f.saKey:  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sa)}),
		f.saPub:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		f.tokens: []byte(cp.token + ",e2e-admin,e2e-admin,system:masters\n"),
	} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			return f, err
		}
	}
	return f, nil
}

// kubeconfig renders an admin kubeconfig.
func kubeconfig(server string, caPEM []byte, token string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: e2e-admin
  user:
    token: %s
contexts:
- name: e2e
  context: {cluster: e2e, user: e2e-admin}
current-context: e2e
`, server, base64.StdEncoding.EncodeToString(caPEM), token)
}

// freePorts asks the kernel for n free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(errors.New("no free loopback port"), err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
