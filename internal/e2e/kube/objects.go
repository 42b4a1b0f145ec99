package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Object names one object of the API server: Resource is
// <resource>.<group>, e.g. deployments.apps or namespaces.
type Object struct {
	Resource, Namespace, Name string
}

func (o Object) String() string {
	if o.Namespace == "" {
		return o.Resource + "/" + o.Name
	}
	return o.Resource + " " + o.Namespace + "/" + o.Name
}

// volatile are the resources the control plane writes on its own
// (events, leases): they come and go with no relation to the program.
var volatile = []string{"events", "events.events.k8s.io", "leases.coordination.k8s.io"}

// Objects lists every object of every listable resource the API server
// serves (discovery), but the volatile ones.
func (cp *ControlPlane) Objects(ctx context.Context) ([]Object, error) {
	resources, err := cp.listable(ctx)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, r := range resources {
		status, body, err := cp.get(ctx, r.path)
		if err != nil {
			return nil, err
		}
		if status == http.StatusNotFound {
			continue // a CRD deleted since discovery
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: HTTP %d: %s", r.path, status, body)
		}
		var list struct {
			Items []struct {
				Metadata struct{ Namespace, Name string } `json:"metadata"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, fmt.Errorf("GET %s: %w", r.path, err)
		}
		for _, it := range list.Items {
			out = append(out, Object{Resource: r.name, Namespace: it.Metadata.Namespace, Name: it.Metadata.Name})
		}
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

type listable struct{ name, path string }

// listable discovers the resources that can be listed, one version per
// group (the preferred one).
func (cp *ControlPlane) listable(ctx context.Context) ([]listable, error) {
	var groups struct {
		Groups []struct {
			Name             string `json:"name"`
			PreferredVersion struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"preferredVersion"`
		} `json:"groups"`
	}
	if err := cp.getJSON(ctx, "/apis", &groups); err != nil {
		return nil, err
	}
	type gv struct{ group, path string }
	gvs := []gv{{"", "/api/v1"}}
	for _, g := range groups.Groups {
		gvs = append(gvs, gv{g.Name, "/apis/" + g.PreferredVersion.GroupVersion})
	}
	var out []listable
	for _, v := range gvs {
		var rl struct {
			Resources []struct {
				Name  string   `json:"name"`
				Verbs []string `json:"verbs"`
			} `json:"resources"`
		}
		if err := cp.getJSON(ctx, v.path, &rl); err != nil {
			return nil, err
		}
		for _, r := range rl.Resources {
			name := r.Name
			if v.group != "" {
				name += "." + v.group
			}
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || slices.Contains(volatile, name) {
				continue
			}
			out = append(out, listable{name: name, path: v.path + "/" + r.Name})
		}
	}
	return out, nil
}

// GetJSON reads path from the API server into v; any answer but 200 is an
// error that carries the body.
func (cp *ControlPlane) GetJSON(ctx context.Context, path string, v any) error {
	return cp.getJSON(ctx, path, v)
}

func (cp *ControlPlane) getJSON(ctx context.Context, path string, v any) error {
	status, body, err := cp.get(ctx, path)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", path, status, body)
	}
	return json.Unmarshal(body, v)
}

// New returns the objects of after that are not in before.
func New(before, after []Object) []Object {
	seen := map[Object]bool{}
	for _, o := range before {
		seen[o] = true
	}
	var out []Object
	for _, o := range after {
		if !seen[o] {
			out = append(out, o)
		}
	}
	return out
}

// Do sends an admin request with a JSON body; with as set, the API server
// takes it as that user (impersonation), e.g.
// system:serviceaccount:<namespace>:<name>, and authorizes it as them.
func (cp *ControlPlane) Do(ctx context.Context, method, path string, body []byte, as string) (int, []byte, error) {
	header := http.Header{}
	if as != "" {
		header.Set("Impersonate-User", as)
	}
	return Send(ctx, cp.Client(), cp.URL, cp.token, method, path, body, header)
}

// Send sends a request with a bearer token (none when empty) and a JSON
// body to the API server at base, and returns the status and body.
func Send(ctx context.Context, c *http.Client, base, token, method, path string, body []byte, header http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
