// Package kaastest is an in-memory fake of the Infomaniak KaaS API for
// tests: the same paths, JSON envelope, status codes and asynchronous
// status transitions as the real API (shared/INFOMANIAK-KAAS.md), with
// fault injection.
package kaastest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Token is the API token the fake accepts.
const Token = "test-token"

// Response is an injected answer.
type Response struct {
	Status int
	Header map[string]string
	Body   string
	// Lost serves the request as usual but never answers it: the fake
	// acts, then closes the connection (a create whose answer is lost).
	// Status, Header and Body are then unused.
	Lost bool `json:",omitempty"`
}

// Server is the fake API. Its fields may be changed between requests.
type Server struct {
	*httptest.Server

	mu sync.Mutex
	// PublicCloudID and ProjectID are the project the fake serves.
	PublicCloudID, ProjectID int
	// Steps is how many reads a cluster or pool stays in a transitional
	// status (Creating, Updating, Deleting) before it settles.
	Steps int
	// FailCluster makes created clusters end up Failed instead of Active.
	FailCluster bool
	// LabelsAsList answers pool labels as ["key: value"] strings.
	LabelsAsList bool
	// Flavors is the catalogue; default DefaultFlavors.
	Flavors []Flavor
	// Kubeconfig is the kubeconfig every cluster answers; default a
	// stub naming the cluster.
	Kubeconfig string
	// TokenValue is the token the fake accepts; default Token.
	TokenValue string
	// Logf, when set, logs each request and its status.
	Logf func(format string, args ...any)

	faults   map[string][]Response
	clusters map[int]*cluster
	nextID   int
	requests []string
}

type cluster struct {
	ID              int
	Name, Region    string
	Version, Status string
	PackID          int
	pending         int
	next            string
	pools           map[int]*pool
	// APIServer is the last PATCH apiserver body, IPFilters the allow-list.
	APIServer map[string]any
	IPFilters []string
}

type pool struct {
	ID, ClusterID    int
	Name, Flavor, AZ string
	Min, Max         int
	Labels           map[string]string
	Status           string
	ErrorMessages    []string
	pending          int
	next             string
}

var packs = []map[string]any{
	{"kaas_pack_id": 1, "name": "shared", "description": "Shared control plane", "price_per_hour": []any{}, "limit_per_project": nil, "is_active": "true"},
	{"kaas_pack_id": 2, "name": "dedicated", "description": "Dedicated control plane", "price_per_hour": map[string]any{"CHF": 0.12, "EUR": 0.13}, "limit_per_project": 3, "is_active": true},
}

var versions = []string{"1.36", "1.35", "1.34"}

// zones are the regions' availability zones: az-1..3 in dc4-a as reported
// from the live API; dc3-a's from the OpenAPI document's enum (unconfirmed).
var zones = map[string][]string{"dc4-a": {"az-1", "az-2", "az-3"}, "dc3-a": {"dc3-a-04", "dc3-a-09", "dc3-a-10"}}

// Flavor is a worker flavor of the fake's catalogue.
type Flavor struct {
	Name               string
	CPU, RAM, Storage  int
	Available          bool
	HourExcl, HourIncl float64
}

// DefaultFlavors is the fake's catalogue, the same in every region. The
// names follow the API's documented scheme; which of them the real API
// offers is not confirmed (shared/INFOMANIAK-KAAS.md): the documentation's
// examples are a1-ram2-disk20-perf1 and a4-ram8-disk20-perf1, a field
// report a8-ram16-disk20-perf1. The program's preset,
// a4-ram8-disk50-perf1, is among them so that the fake can create its
// clusters; a real preview checks it against the real catalogue.
var DefaultFlavors = []Flavor{
	{"a1-ram2-disk20-perf1", 1, 2, 20, true, 0.0125, 0.0135},
	{"a2-ram4-disk20-perf1", 2, 4, 20, true, 0.025, 0.027},
	{"a4-ram8-disk20-perf1", 4, 8, 20, true, 0.05, 0.054},
	{"a4-ram8-disk50-perf1", 4, 8, 50, true, 0.055, 0.059},
	{"a8-ram16-disk20-perf1", 8, 16, 20, true, 0.1, 0.108},
	{"a8-ram16-disk50-perf1", 8, 16, 50, true, 0.105, 0.113},
	{"a16-ram64-disk100-perf2", 16, 64, 100, false, 0.4, 0.432},
}

// New starts a fake serving project 11/22 on a loopback port.
func New() *Server {
	s := NewUnstarted()
	s.Start()
	return s
}

// NewUnstarted is New without starting: set Listener (or Config) first.
func NewUnstarted() *Server {
	s := &Server{PublicCloudID: 11, ProjectID: 22, Steps: 2, Flavors: DefaultFlavors, TokenValue: Token, faults: map[string][]Response{}, clusters: map[int]*cluster{}, nextID: 1000}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// Fail queues answers for the next requests whose "METHOD path" starts
// with key; of several matching keys, the longest answers first.
func (s *Server) Fail(key string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[key] = append(s.faults[key], rs...)
}

// Requests returns "METHOD path" of every request served.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Clusters returns the names of the clusters that exist.
func (s *Server) Clusters() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.clusters {
		out = append(out, c.Name)
	}
	return out
}

// APIServer returns the last API server options written to a cluster.
func (s *Server) APIServer(id int) (map[string]any, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clusters[id]; ok {
		return c.APIServer, c.IPFilters
	}
	return nil, nil
}

// SetClusterStatus forces a cluster's status.
func (s *Server) SetClusterStatus(id int, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clusters[id]; ok {
		c.Status, c.pending = status, 0
	}
}

// SetPoolErrors sets a pool's status and OpenStack error messages.
func (s *Server) SetPoolErrors(clusterID, poolID int, status string, msgs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clusters[clusterID]; ok {
		if p, ok := c.pools[poolID]; ok {
			p.Status, p.ErrorMessages, p.pending = status, msgs, 0
		}
	}
}

func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status >= 400 {
		_ = json.NewEncoder(w).Encode(map[string]any{"result": "error", "error": v})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"result": "success", "data": v})
}

func apiErr(code, desc string) map[string]any {
	return map[string]any{"code": code, "description": desc}
}

var (
	reProject = regexp.MustCompile(`^/1/public_clouds/(\d+)/projects/(\d+)/kaas(?:/(\d+))?(/kube_config|/instance_pools|/apiserver|/ip_filters)?(?:/(\d+))?$`)
)

func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	s.requests = append(s.requests, key)
	w := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
	if s.Logf != nil {
		defer func() { s.Logf("%s?%s: %s", key, r.URL.RawQuery, w.outcome) }()
	}
	// The longest matching prefix answers first.
	prefixes := slices.SortedFunc(maps.Keys(s.faults), func(a, b string) int { return len(b) - len(a) })
	for _, prefix := range prefixes {
		if rs := s.faults[prefix]; strings.HasPrefix(key, prefix) && len(rs) > 0 {
			f := rs[0]
			s.faults[prefix] = rs[1:]
			if f.Lost {
				rec := httptest.NewRecorder()
				s.answer(rec, r)
				w.outcome = fmt.Sprintf("served %d, answer lost (injected)", rec.Code)
				if conn, _, err := http.NewResponseController(rw).Hijack(); err == nil {
					_ = conn.Close()
				}
				return
			}
			w.outcome = fmt.Sprintf("%d (injected)", f.Status)
			for k, v := range f.Header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w.ResponseWriter, f.Body)
			return
		}
	}
	s.answer(w, r)
	w.outcome = strconv.Itoa(w.status)
}

// statusWriter remembers the status it was given.
type statusWriter struct {
	http.ResponseWriter
	status  int
	outcome string
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// answer serves a request as the API would.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.TokenValue {
		write(w, http.StatusUnauthorized, apiErr("not_authorized", "Authorization required"))
		return
	}
	switch r.URL.Path {
	case "/1/public_clouds/kaas/packs":
		write(w, 200, packs)
		return
	case "/1/public_clouds/kaas/versions":
		write(w, 200, versions)
		return
	case "/1/public_clouds/kaas/regions":
		write(w, 200, []string{"dc3-a", "dc4-a"})
		return
	case "/1/public_clouds/kaas/availability_zones":
		write(w, 200, zones[r.URL.Query().Get("region")])
		return
	}
	if r.URL.Path == fmt.Sprintf("/1/public_clouds/%d/projects/%d/kaas/flavors", s.PublicCloudID, s.ProjectID) {
		s.flavors(w, r)
		return
	}
	m := reProject.FindStringSubmatch(r.URL.Path)
	if m == nil {
		write(w, 404, apiErr("route_not_found", "Route not found"))
		return
	}
	if m[1] != strconv.Itoa(s.PublicCloudID) || m[2] != strconv.Itoa(s.ProjectID) {
		write(w, 404, apiErr("object_not_found", "Object not found"))
		return
	}
	var body map[string]any
	if r.Body != nil {
		raw, _ := io.ReadAll(r.Body)
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				write(w, 400, apiErr("invalid_json", err.Error()))
				return
			}
		}
	}
	clusterID, _ := strconv.Atoi(m[3])
	poolID, _ := strconv.Atoi(m[5])
	switch {
	case m[3] == "" && r.Method == "GET":
		s.listClusters(w)
	case m[3] == "" && r.Method == "POST":
		s.createCluster(w, body)
	default:
		c, ok := s.clusters[clusterID]
		if !ok {
			write(w, 404, apiErr("object_not_found", "Object not found"))
			return
		}
		switch {
		case m[4] == "/kube_config" && s.Kubeconfig != "":
			write(w, 200, s.Kubeconfig)
		case m[4] == "/kube_config":
			write(w, 200, fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: %s}]\n", c.Name))
		case m[4] == "/apiserver" && r.Method == "PATCH":
			c.APIServer = body
			write(w, 200, true)
		case m[4] == "/ip_filters" && r.Method == "PUT":
			list, _ := body["ip_filters"].([]any)
			c.IPFilters = nil
			for _, x := range list {
				s, _ := x.(string)
				c.IPFilters = append(c.IPFilters, s)
			}
			write(w, 200, true)
		case m[4] == "/ip_filters":
			write(w, 200, append([]string{}, c.IPFilters...))
		case m[4] == "/instance_pools":
			s.pools(w, r.Method, c, poolID, m[5] != "", body)
		default:
			s.cluster(w, r.Method, c, body)
		}
	}
}

// flavors answers a page of the catalogue (page, per_page; default all).
func (s *Server) flavors(w http.ResponseWriter, r *http.Request) {
	if _, ok := zones[r.URL.Query().Get("region")]; !ok {
		write(w, 422, map[string]any{"code": "validation_failed", "description": "Validation failed",
			"errors": []map[string]any{{"code": "attribute_invalid", "description": "unknown region", "context": map[string]any{"attribute": "region"}}}})
		return
	}
	all := []map[string]any{}
	for _, f := range s.Flavors {
		all = append(all, map[string]any{"name": f.Name, "cpu": f.CPU, "ram": f.RAM, "storage": f.Storage, "is_available": f.Available,
			"is_memory_optimized": false, "is_iops_optimized": false, "is_gpu_optimized": false,
			"rates": []any{map[string]any{"hour_excl_tax": f.HourExcl, "hour_incl_tax": f.HourIncl}}})
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if page < 1 || per < 1 {
		write(w, 200, all)
		return
	}
	pages := (len(all) + per - 1) / per
	from, to := min((page-1)*per, len(all)), min(page*per, len(all))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"result": "success", "data": all[from:to],
		"total": len(all), "page": page, "pages": pages, "items_per_page": per})
}

func (s *Server) step(status *string, pending *int, next string) {
	if *pending > 0 {
		*pending--
		if *pending == 0 {
			*status = next
		}
	}
}

func (s *Server) clusterJSON(c *cluster) map[string]any {
	name := "shared"
	if c.PackID == 2 {
		name = "dedicated"
	}
	return map[string]any{"kaas_id": c.ID, "name": c.Name, "region": c.Region, "kubernetes_version": c.Version,
		"status": c.Status, "pack": map[string]any{"kaas_pack_id": c.PackID, "name": name}}
}

func (s *Server) listClusters(w http.ResponseWriter) {
	out := []map[string]any{}
	for _, c := range s.clusters {
		out = append(out, s.clusterJSON(c))
	}
	write(w, 200, out)
}

func (s *Server) createCluster(w http.ResponseWriter, b map[string]any) {
	name, _ := b["name"].(string)
	region, _ := b["region"].(string)
	version, _ := b["kubernetes_version"].(string)
	pack, _ := b["kaas_pack_id"].(float64)
	var errs []map[string]any
	if name == "" || len(name) > 40 {
		errs = append(errs, map[string]any{"code": "attribute_invalid", "description": "must be 1 to 40 characters", "context": map[string]any{"attribute": "name"}})
	}
	if _, ok := zones[region]; !ok {
		errs = append(errs, map[string]any{"code": "attribute_invalid", "description": "unknown region", "context": map[string]any{"attribute": "region"}})
	}
	if !contains(versions, version) {
		errs = append(errs, map[string]any{"code": "attribute_invalid", "description": "unknown version", "context": map[string]any{"attribute": "kubernetes_version"}})
	}
	if pack != 1 && pack != 2 {
		errs = append(errs, map[string]any{"code": "attribute_invalid", "description": "unknown pack", "context": map[string]any{"attribute": "kaas_pack_id"}})
	}
	if len(errs) > 0 {
		write(w, 422, map[string]any{"code": "validation_failed", "description": "Validation failed", "errors": errs})
		return
	}
	s.nextID++
	next := "Active"
	if s.FailCluster {
		next = "Failed"
	}
	c := &cluster{ID: s.nextID, Name: name, Region: region, Version: version, PackID: int(pack),
		Status: "Creating", pending: s.Steps, next: next, pools: map[int]*pool{}}
	if s.Steps == 0 {
		c.Status = next
	}
	s.clusters[c.ID] = c
	write(w, 201, c.ID)
}

func (s *Server) cluster(w http.ResponseWriter, method string, c *cluster, b map[string]any) {
	switch method {
	case "GET":
		s.step(&c.Status, &c.pending, c.next)
		if c.Status == "Gone" {
			delete(s.clusters, c.ID)
			write(w, 404, apiErr("object_not_found", "Object not found"))
			return
		}
		write(w, 200, s.clusterJSON(c))
	case "PATCH":
		for k := range b {
			if k != "name" && k != "kubernetes_version" {
				write(w, 400, apiErr("cannot_update_kaas", "unknown field "+k))
				return
			}
		}
		if n, ok := b["name"].(string); ok {
			c.Name = n
		}
		if v, ok := b["kubernetes_version"].(string); ok {
			c.Version, c.Status, c.pending, c.next = v, "Updating", max(s.Steps, 1), "Active"
		}
		write(w, 200, true)
	case "DELETE":
		c.Status, c.pending, c.next = "Deleting", max(s.Steps, 1), "Gone"
		write(w, 200, true)
	default:
		write(w, 405, apiErr("method_not_allowed", "Method not allowed"))
	}
}

func (s *Server) poolJSON(p *pool) map[string]any {
	target := p.Min
	available := target
	if p.Status != "Active" {
		available = 0
	}
	var labels any = p.Labels
	if s.LabelsAsList {
		list := []string{}
		for k, v := range p.Labels {
			list = append(list, k+": "+v)
		}
		labels = list
	}
	return map[string]any{"instance_pool_id": p.ID, "kaas_id": p.ClusterID, "name": p.Name, "flavor": p.Flavor,
		"availability_zone": p.AZ, "status": p.Status, "error_messages": p.ErrorMessages,
		"minimum_instances": p.Min, "maximum_instances": p.Max, "target_instances": target,
		"available_instances": available, "labels": labels}
}

func (s *Server) pools(w http.ResponseWriter, method string, c *cluster, id int, one bool, b map[string]any) {
	if !one {
		switch method {
		case "GET":
			out := []map[string]any{}
			for _, p := range c.pools {
				out = append(out, s.poolJSON(p))
			}
			write(w, 200, out)
		case "POST":
			min, _ := b["minimum_instances"].(float64)
			max, _ := b["maximum_instances"].(float64)
			name, _ := b["name"].(string)
			flavor, _ := b["flavor"].(string)
			az, _ := b["availability_zone"].(string)
			if min < 1 || max < min || name == "" || flavor == "" {
				write(w, 400, apiErr("cannot_create_worker_pool", "invalid pool"))
				return
			}
			labels := map[string]string{}
			if l, ok := b["labels"].(map[string]any); ok {
				for k, v := range l {
					labels[k], _ = v.(string)
				}
			}
			s.nextID++
			p := &pool{ID: s.nextID, ClusterID: c.ID, Name: name, Flavor: flavor, AZ: az, Min: int(min), Max: int(max),
				Labels: labels, Status: "Creating", pending: s.Steps, next: "Active"}
			if s.Steps == 0 {
				p.Status = "Active"
			}
			c.pools[p.ID] = p
			write(w, 201, p.ID)
		}
		return
	}
	p, ok := c.pools[id]
	if !ok {
		write(w, 404, apiErr("object_not_found", "Object not found"))
		return
	}
	switch method {
	case "GET":
		s.step(&p.Status, &p.pending, p.next)
		if p.Status == "Gone" {
			delete(c.pools, p.ID)
			write(w, 404, apiErr("object_not_found", "Object not found"))
			return
		}
		write(w, 200, s.poolJSON(p))
	case "PATCH":
		if v, ok := b["minimum_instances"].(float64); ok {
			p.Min = int(v)
		}
		if v, ok := b["maximum_instances"].(float64); ok {
			p.Max = int(v)
		}
		if n, ok := b["name"].(string); ok && n != "" {
			p.Name = n
		}
		p.Status, p.pending, p.next = "ScalingUp", max(s.Steps, 1), "Active"
		write(w, 200, true)
	case "DELETE":
		p.Status, p.pending, p.next = "Deleting", max(s.Steps, 1), "Gone"
		write(w, 200, true)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
