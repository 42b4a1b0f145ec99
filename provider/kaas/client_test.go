package kaas_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/camps-ch/infra/provider/kaas"
	"gitlab.com/camps-ch/infra/provider/kaas/kaastest"
)

// clock records the pauses a client takes instead of sleeping.
type clock struct {
	mu     sync.Mutex
	pauses []time.Duration
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pauses = append(c.pauses, d)
	return ctx.Err()
}

func (c *clock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t time.Duration
	for _, d := range c.pauses {
		t += d
	}
	return t
}

func client(t *testing.T) (*kaas.Client, *kaastest.Server, *clock) {
	t.Helper()
	srv := kaastest.New()
	t.Cleanup(srv.Close)
	clk := &clock{}
	return &kaas.Client{
		BaseURL: srv.URL, Token: kaastest.Token, PublicCloudID: srv.PublicCloudID, ProjectID: srv.ProjectID,
		Sleep: clk.sleep, Limiter: kaas.NewLimiter(1000, time.Second, 1000),
	}, srv, clk
}

var fast = kaas.Poll{Interval: time.Second, MaxInterval: 4 * time.Second, Timeout: time.Minute}

func TestCreateWaitsUntilActive(t *testing.T) {
	c, _, _ := client(t)
	ctx := context.Background()
	pack, err := c.PackID(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateCluster(ctx, kaas.CreateCluster{Name: "camps-shared", PackID: pack, Region: "dc4-a", KubernetesVersion: "1.35"})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	cl, err := c.WaitCluster(ctx, id, fast, func(f string, a ...any) { seen = append(seen, f) })
	if err != nil || cl.Status != kaas.StatusActive || cl.PackName() != "shared" {
		t.Fatalf("cluster = %+v, %v", cl, err)
	}
	if len(seen) == 0 {
		t.Error("no progress reported while creating")
	}
	kc, err := c.Kubeconfig(ctx, id)
	if err != nil || !strings.Contains(kc, "camps-shared") {
		t.Errorf("kubeconfig = %q, %v", kc, err)
	}
	pool, err := c.CreatePool(ctx, id, kaas.CreatePool{Name: "pool-az-1", Flavor: "a4-ram8-disk50-perf1", AvailabilityZone: "az-1",
		MinimumInstances: 1, MaximumInstances: 3, Labels: kaas.Labels{"node-role.kubernetes.io/worker": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.WaitPool(ctx, id, pool, kaas.PoolTarget{Min: 1, Max: 3}, fast, nil)
	if err != nil || p.Labels["node-role.kubernetes.io/worker"] != "web" {
		t.Fatalf("pool = %+v, %v", p, err)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		faults    []kaastest.Response
		wantErr   string
		wantPause time.Duration // the first pause, when exact
		requests  int
	}{
		{name: "429 honours Retry-After", faults: []kaastest.Response{{Status: 429, Header: map[string]string{"Retry-After": "7"},
			Body: `{"result":"error","error":{"code":"too_many_requests","description":"Slow down"}}`}},
			wantPause: 7 * time.Second, requests: 2},
		{name: "500s then success", faults: []kaastest.Response{{Status: 500, Body: `{"result":"error","error":{"code":"unexpected_error"}}`}, {Status: 503, Body: "busy"}},
			requests: 3},
		{name: "a 4xx is not retried", faults: []kaastest.Response{{Status: 400, Body: `{"result":"error","error":{"code":"kaas_pack_limit_reached","description":"Pack limit reached"}}`}},
			wantErr: "HTTP 400 kaas_pack_limit_reached: Pack limit reached", requests: 1},
		{name: "a non-JSON 502 gives up with its body", faults: repeat(kaastest.Response{Status: 502, Body: "<html><h1>502 Bad Gateway</h1></html>"}, 6),
			wantErr: "giving up after 6 attempts: GET /1/public_clouds/kaas/packs: HTTP 502: <html><h1>502 Bad Gateway</h1></html>", requests: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv, clk := client(t)
			srv.Fail("GET /1/public_clouds/kaas/packs", tt.faults...)
			packs, err := c.Packs(context.Background())
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			case tt.wantErr == "" && (err != nil || len(packs) != 2):
				t.Errorf("packs = %v, %v", packs, err)
			}
			if n := len(srv.Requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if tt.wantPause > 0 && (len(clk.pauses) == 0 || clk.pauses[0] != tt.wantPause) {
				t.Errorf("pauses = %v, want %v first", clk.pauses, tt.wantPause)
			}
		})
	}
}

func repeat(r kaastest.Response, n int) []kaastest.Response {
	out := make([]kaastest.Response, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func TestValidationErrorsNameTheField(t *testing.T) {
	c, srv, _ := client(t)
	_, err := c.CreateCluster(context.Background(), kaas.CreateCluster{Name: strings.Repeat("x", 41), PackID: 1, Region: "dc4-a", KubernetesVersion: "1.10"})
	var apiErr *kaas.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 422 || apiErr.Code != "validation_failed" {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"name: must be 1 to 40 characters", "kubernetes_version: unknown version"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
	if len(srv.Requests()) != 1 {
		t.Errorf("a validation error was retried: %v", srv.Requests())
	}
}

func TestWaitTimesOut(t *testing.T) {
	c, srv, clk := client(t)
	srv.Steps = 1000
	id, err := c.CreateCluster(context.Background(), kaas.CreateCluster{Name: "slow", PackID: 1, Region: "dc4-a", KubernetesVersion: "1.35"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitCluster(context.Background(), id, kaas.Poll{Interval: time.Second, MaxInterval: 10 * time.Second, Timeout: time.Minute}, nil)
	if !errors.Is(err, kaas.ErrTimeout) || !strings.Contains(err.Error(), "still Creating after 1m0s") {
		t.Fatalf("err = %v", err)
	}
	if total := clk.total(); total < time.Minute || total > time.Minute+10*time.Second {
		t.Errorf("waited %s, want about the timeout", total)
	}
	// Backoff: 1s, 1.5s, 2.25s ... capped at 10s.
	if clk.pauses[1] <= clk.pauses[0] || clk.pauses[len(clk.pauses)-1] != 10*time.Second {
		t.Errorf("pauses = %v, want growing to the cap", clk.pauses)
	}
}

func TestFailedClusterIsAnError(t *testing.T) {
	c, srv, _ := client(t)
	srv.FailCluster = true
	id, _ := c.CreateCluster(context.Background(), kaas.CreateCluster{Name: "doomed", PackID: 1, Region: "dc4-a", KubernetesVersion: "1.35"})
	if _, err := c.WaitCluster(context.Background(), id, fast, nil); err == nil || !strings.Contains(err.Error(), "(doomed) is Failed") {
		t.Errorf("err = %v", err)
	}
}

func TestDeleteIsConfirmedByNotFound(t *testing.T) {
	c, srv, _ := client(t)
	ctx := context.Background()
	srv.Steps = 0
	id, _ := c.CreateCluster(ctx, kaas.CreateCluster{Name: "gone", PackID: 1, Region: "dc4-a", KubernetesVersion: "1.35"})
	if err := c.DeleteCluster(ctx, id); err != nil {
		t.Fatal(err)
	}
	err := c.WaitGone(ctx, "cluster gone", fast, nil, func() error { _, err := c.Cluster(ctx, id); return err })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cluster(ctx, id); !kaas.IsNotFound(err) {
		t.Errorf("after delete: %v, want 404", err)
	}
}

func TestClusterByNameRecoversAHalfFailedCreate(t *testing.T) {
	c, srv, _ := client(t)
	ctx := context.Background()
	id, _ := c.CreateCluster(ctx, kaas.CreateCluster{Name: "camps-prod", PackID: 1, Region: "dc4-a", KubernetesVersion: "1.35"})
	// The answer was lost; the next run looks the cluster up by name.
	found, err := c.ClusterByName(ctx, "camps-prod", "dc4-a")
	if err != nil || found == nil || found.ID != id {
		t.Fatalf("found %+v, %v; want cluster %d", found, err, id)
	}
	if none, _ := c.ClusterByName(ctx, "camps-prod", "dc3-a"); none != nil {
		t.Errorf("found %+v in another region", none)
	}
	if len(srv.Clusters()) != 1 {
		t.Errorf("clusters = %v", srv.Clusters())
	}
}

func TestPoolQuotaErrors(t *testing.T) {
	c, srv, _ := client(t)
	ctx := context.Background()
	srv.Steps = 0
	id, _ := c.CreateCluster(ctx, kaas.CreateCluster{Name: "q", PackID: 1, Region: "dc4-a", KubernetesVersion: "1.35"})
	pool, _ := c.CreatePool(ctx, id, kaas.CreatePool{Name: "p", Flavor: "a4-ram8-disk50-perf1", AvailabilityZone: "az-1", MinimumInstances: 1, MaximumInstances: 1})
	srv.SetPoolErrors(id, pool, "Creating", "Quota exceeded for cores")
	if _, err := c.WaitPool(ctx, id, pool, kaas.PoolTarget{Min: 1, Max: 1}, fast, nil); err == nil || !strings.Contains(err.Error(), "Quota exceeded for cores") {
		t.Errorf("err = %v, want the quota error", err)
	}
	srv.SetPoolErrors(id, pool, "FailedQuota", "Quota exceeded for ram")
	if _, err := c.WaitPool(ctx, id, pool, kaas.PoolTarget{Min: 1, Max: 1, ScalingDown: true}, fast, nil); err == nil || !strings.Contains(err.Error(), "is FailedQuota") {
		t.Errorf("err = %v, want FailedQuota", err)
	}
}

func TestUnauthorized(t *testing.T) {
	c, _, _ := client(t)
	c.Token = "wrong"
	_, err := c.Versions(context.Background())
	var e *kaas.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != "not_authorized" {
		t.Errorf("err = %v", err)
	}
}

func TestLimiterSpacesRequests(t *testing.T) {
	l := kaas.NewLimiter(60, time.Minute, 2)
	var waits []time.Duration
	for range 4 {
		waits = append(waits, kaas.Reserve(l, time.Unix(0, 0)))
	}
	// Two in a burst, then one a second.
	if waits[0] != 0 || waits[1] != 0 || waits[2] != time.Second || waits[3] != 2*time.Second {
		t.Errorf("waits = %v", waits)
	}
}

// TestCreatesAreNotRepeated: a POST that fails with a 5xx may have created
// the cluster; repeating it could create a second one.
func TestCreatesAreNotRepeated(t *testing.T) {
	c, srv, _ := client(t)
	srv.Fail("POST /1/public_clouds/11/projects/22/kaas", kaastest.Response{Status: 502, Body: "Bad Gateway"})
	_, err := c.CreateCluster(context.Background(), kaas.CreateCluster{Name: "x", PackID: 1, Region: "dc4-a", KubernetesVersion: "1.35"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("err = %v", err)
	}
	posts := 0
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r, "POST") {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("%d POSTs, want 1", posts)
	}
}
