// Package kaasfake runs the fake of Infomaniak's KaaS API (the provider
// module's cmd/kaas-fake) for the end-to-end run, and reads what it holds
// through the API itself.
package kaasfake

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Fault is an injected answer: an HTTP status with a body and headers,
// or Lost, a request served whose answer never arrives.
type Fault struct {
	Status int               `json:"Status,omitempty"`
	Header map[string]string `json:"Header,omitempty"`
	Body   string            `json:"Body,omitempty"`
	Lost   bool              `json:"Lost,omitempty"`
}

// Fake is a running fake.
type Fake struct {
	// URL is its address; Token, PublicCloudID and ProjectID what it serves.
	URL                      string
	Token                    string
	PublicCloudID, ProjectID int

	cmd *exec.Cmd
	log string
}

// Start runs bin serving kubeconfig for every cluster, with faults (keyed
// by "METHOD path-prefix", the path relative to the project's, e.g. "POST
// /kaas" for creates), logging to dir/kaas-fake.log.
func Start(ctx context.Context, bin, kubeconfig, dir string, faults map[string][]Fault) (*Fake, error) {
	f := &Fake{Token: "e2e-" + fmt.Sprint(time.Now().UnixNano()), PublicCloudID: 11, ProjectID: 22}
	args := []string{"-kubeconfig", kubeconfig, "-token", f.Token,
		"-public-cloud-id", fmt.Sprint(f.PublicCloudID), "-project-id", fmt.Sprint(f.ProjectID)}
	if len(faults) > 0 {
		full := map[string][]Fault{}
		for key, rs := range faults {
			method, path, _ := strings.Cut(key, " ")
			if strings.HasPrefix(path, "/kaas") {
				path = f.projectPath() + path
			}
			full[method+" "+path] = rs
		}
		b, err := json.Marshal(full)
		if err != nil {
			return nil, err
		}
		file := filepath.Join(dir, "kaas-faults.json")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			return nil, err
		}
		args = append(args, "-faults", file)
	}
	f.log = filepath.Join(dir, "kaas-fake.log")
	log, err := os.Create(f.log)
	if err != nil {
		return nil, err
	}
	f.cmd = exec.CommandContext(ctx, bin, args...)
	f.cmd.Stderr = log
	out, err := f.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := f.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w; build it with make e2e", bin, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		f.Stop()
		return nil, fmt.Errorf("%s printed no address (see %s): %w", bin, log.Name(), err)
	}
	f.URL = strings.TrimSpace(line)
	return f, nil
}

func (f *Fake) projectPath() string {
	return fmt.Sprintf("/1/public_clouds/%d/projects/%d", f.PublicCloudID, f.ProjectID)
}

// Stop stops the fake.
func (f *Fake) Stop() {
	if f.cmd != nil && f.cmd.Process != nil {
		_ = f.cmd.Process.Signal(os.Interrupt)
		_ = f.cmd.Wait()
	}
}

// Injected returns the injected answers the fake has served, from its log.
func (f *Fake) Injected() ([]string, error) {
	b, err := os.ReadFile(f.log)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(line, "(injected)") {
			out = append(out, line)
		}
	}
	return out, nil
}

// Cluster is a cluster the fake holds, with the names of its pools.
type Cluster struct {
	ID     int
	Name   string
	Status string
	Pools  []string
}

// Clusters lists the clusters and their pools through the API.
func (f *Fake) Clusters(ctx context.Context) ([]Cluster, error) {
	var list []struct {
		ID     int    `json:"kaas_id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	if err := f.get(ctx, f.projectPath()+"/kaas", &list); err != nil {
		return nil, err
	}
	var out []Cluster
	for _, c := range list {
		var pools []struct {
			Name string `json:"name"`
		}
		if err := f.get(ctx, fmt.Sprintf("%s/kaas/%d/instance_pools", f.projectPath(), c.ID), &pools); err != nil {
			return nil, err
		}
		cl := Cluster{ID: c.ID, Name: c.Name, Status: c.Status}
		for _, p := range pools {
			cl.Pools = append(cl.Pools, p.Name)
		}
		out = append(out, cl)
	}
	return out, nil
}

func (f *Fake) get(ctx context.Context, path string, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+f.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return err
	}
	return json.Unmarshal(env.Data, data)
}
