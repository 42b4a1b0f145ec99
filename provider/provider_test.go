package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"gitlab.com/camps-ch/infra/provider"

	"gitlab.com/camps-ch/infra/provider/kaas/kaastest"
)

const (
	clusterType = "infomaniak:kaas:Cluster"
	poolType    = "infomaniak:kaas:InstancePool"
)

// server starts the provider in process, configured against a fake API
// with millisecond polls.
func server(t *testing.T, extra map[string]property.Value) (integration.Server, *kaastest.Server) {
	t.Helper()
	api := kaastest.New()
	t.Cleanup(api.Close)
	s := unconfigured(t)
	cfg := map[string]property.Value{
		"token":         property.New(kaastest.Token).WithSecret(true),
		"publicCloudId": property.New(float64(api.PublicCloudID)),
		"projectId":     property.New(float64(api.ProjectID)),
		"baseUrl":       property.New(api.URL),
		"pollInterval":  property.New("1ms"),
		"timeout":       property.New("200ms"),
		// Tests do not wait on the API's rate limit.
		"requestsPerMinute": property.New(600000.0),
		"retryInterval":     property.New("1ms"),
	}
	for k, v := range extra {
		cfg[k] = v
	}
	if err := s.Configure(p.ConfigureRequest{Args: property.NewMap(cfg)}); err != nil {
		t.Fatal(err)
	}
	return s, api
}

func urn(typ, name string) presource.URN {
	return presource.NewURN("test", "test", "", tokens.Type(typ), name)
}

func clusterInputs(name, version string) property.Map {
	return property.NewMap(map[string]property.Value{
		"name":              property.New(name),
		"region":            property.New("dc4-a"),
		"packName":          property.New("shared"),
		"kubernetesVersion": property.New(version),
	})
}

func create(t *testing.T, s integration.Server, typ, name string, inputs property.Map) (p.CreateResponse, error) {
	t.Helper()
	chk, err := s.Check(p.CheckRequest{Urn: urn(typ, name), Inputs: inputs})
	if err != nil {
		t.Fatal(err)
	}
	if len(chk.Failures) > 0 {
		t.Fatalf("check: %v", chk.Failures)
	}
	return s.Create(p.CreateRequest{Urn: urn(typ, name), Properties: chk.Inputs})
}

func TestClusterLifecycle(t *testing.T) {
	s, api := server(t, nil)
	resp, err := create(t, s, clusterType, "c", clusterInputs("camps-shared", "1.35"))
	if err != nil {
		t.Fatal(err)
	}
	state := resp.Properties
	if state.Get("status").AsString() != "Active" ||
		!strings.Contains(state.Get("kubeconfig").AsString(), "camps-shared") {
		t.Fatalf("state = %v", state)
	}

	// A new version updates in place; a new region replaces.
	for _, tt := range []struct {
		change  property.Map
		replace bool
	}{
		{clusterInputs("camps-shared", "1.36"), false},
		{clusterInputs("camps-shared", "1.35").Set("region", property.New("dc3-a")), true},
		{clusterInputs("camps-shared", "1.35").Set("packName", property.New("dedicated")), true},
	} {
		d, err := s.Diff(p.DiffRequest{ID: resp.ID, Urn: urn(clusterType, "c"), State: state, Inputs: tt.change})
		if err != nil {
			t.Fatal(err)
		}
		replace := replaces(d)
		if !d.HasChanges || replace != tt.replace {
			t.Errorf("diff %v: changes %v replace %v, want replace %v", tt.change, d.HasChanges, replace, tt.replace)
		}
	}
	up, err := s.Update(p.UpdateRequest{ID: resp.ID, Urn: urn(clusterType, "c"), State: state, Inputs: clusterInputs("camps-shared", "1.36")})
	if err != nil || up.Properties.Get("kubernetesVersion").AsString() != "1.36" {
		t.Fatalf("update = %v, %v", up.Properties, err)
	}
	if !contains(api.Requests(), "PATCH /1/public_clouds/11/projects/22/kaas/"+resp.ID) {
		t.Errorf("no PATCH in %v", api.Requests())
	}

	// Import: read by id alone.
	read, err := s.Read(p.ReadRequest{ID: resp.ID, Urn: urn(clusterType, "imported")})
	if err != nil || read.Inputs.Get("name").AsString() != "camps-shared" || read.Inputs.Get("packName").AsString() != "shared" {
		t.Fatalf("import read = %v, %v", read.Inputs, err)
	}

	if err := s.Delete(p.DeleteRequest{ID: resp.ID, Urn: urn(clusterType, "c"), Properties: up.Properties}); err != nil {
		t.Fatal(err)
	}
	gone, err := s.Read(p.ReadRequest{ID: resp.ID, Urn: urn(clusterType, "c"), Properties: up.Properties})
	if err != nil || gone.ID != "" {
		t.Errorf("read after delete = %q, %v; want gone", gone.ID, err)
	}
}

func TestCheckNamesTheField(t *testing.T) {
	s, _ := server(t, nil)
	resp, err := s.Check(p.CheckRequest{Urn: urn(clusterType, "c"), Inputs: clusterInputs("Camps_Shared", "1.35.2")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range resp.Failures {
		got[f.Property] = f.Reason
	}
	if !strings.Contains(got["name"], "DNS label") || !strings.Contains(got["kubernetesVersion"], "minor version") {
		t.Errorf("failures = %v", resp.Failures)
	}
	pool, _ := s.Check(p.CheckRequest{Urn: urn(poolType, "p"), Inputs: property.NewMap(map[string]property.Value{
		"kaasId": property.New(1.0), "name": property.New("p"), "flavor": property.New("a4-ram8-disk50-perf1"),
		"availabilityZone": property.New("az-1"), "minInstances": property.New(0.0), "maxInstances": property.New(2.0),
		"labels": property.New(map[string]property.Value{"team": property.New("web")}),
	})})
	got = map[string]string{}
	for _, f := range pool.Failures {
		got[f.Property] = f.Reason
	}
	if got["minInstances"] != "0 is below 1" || !strings.Contains(got["labels"], `key "team"`) {
		t.Errorf("pool failures = %v", pool.Failures)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(api *kaastest.Server)
		wantErr string
	}{
		{"429 with Retry-After, then success", func(api *kaastest.Server) {
			api.Fail("POST /1/public_clouds/11/projects/22/kaas", kaastest.Response{Status: 429, Header: map[string]string{"Retry-After": "0"}})
		}, ""},
		{"500s then success", func(api *kaastest.Server) {
			api.Fail("GET /1/public_clouds/kaas/packs", kaastest.Response{Status: 500, Body: "{}"}, kaastest.Response{Status: 502, Body: "<html>"})
		}, ""},
		{"a permanent 4xx surfaces its message", func(api *kaastest.Server) {
			api.Fail("POST /1/public_clouds/11/projects/22/kaas", kaastest.Response{Status: 400,
				Body: `{"result":"error","error":{"code":"kaas_pack_limit_reached","description":"The pack limit of the project is reached"}}`})
		}, "HTTP 400 kaas_pack_limit_reached: The pack limit of the project is reached"},
		{"a timeout while waiting", func(api *kaastest.Server) { api.Steps = 1_000_000 }, "still Creating after 200ms"},
		{"an error status", func(api *kaastest.Server) { api.FailCluster = true }, "is Failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, api := server(t, nil)
			tt.setup(api)
			resp, err := create(t, s, clusterType, "c", clusterInputs("camps-shared", "1.35"))
			if err != nil && resp.PartialState != nil {
				// The cluster exists but did not settle: the engine records it
				// with these reasons, and the next up continues it.
				err = fmt.Errorf("%w: %s", err, strings.Join(resp.PartialState.Reasons, "; "))
				if resp.ID == "" {
					t.Error("a half-created cluster was not recorded")
				}
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestHalfFailedCreateIsRecovered(t *testing.T) {
	s, api := server(t, nil)
	api.Steps = 1_000_000 // the first up times out while the cluster is still creating
	first, err := create(t, s, clusterType, "c", clusterInputs("camps-prod", "1.35"))
	if err == nil {
		t.Fatal("the first create should time out")
	}
	// The engine records a half-created resource; either way a second run
	// must not create a second cluster.
	api.Steps = 0
	api.SetClusterStatus(1001, "Active")
	second, err := create(t, s, clusterType, "c", clusterInputs("camps-prod", "1.35"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(api.Clusters()); n != 1 || (first.ID != "" && first.ID != second.ID) {
		t.Errorf("%d clusters (ids %q, %q), want the first one continued", n, first.ID, second.ID)
	}
}

func TestPoolLifecycle(t *testing.T) {
	s, api := server(t, nil)
	api.LabelsAsList = true // answer labels in the OpenAPI document's form
	cl, err := create(t, s, clusterType, "c", clusterInputs("camps-prod", "1.35"))
	if err != nil {
		t.Fatal(err)
	}
	kaasID := cl.Properties.Get("kaasId")
	inputs := property.NewMap(map[string]property.Value{
		"kaasId": kaasID, "name": property.New("pool-az-1"), "flavor": property.New("a4-ram8-disk50-perf1"),
		"availabilityZone": property.New("az-1"), "minInstances": property.New(1.0), "maxInstances": property.New(3.0),
		"labels": property.New(map[string]property.Value{"node-role.kubernetes.io/worker": property.New("web")}),
	})
	pool, err := create(t, s, poolType, "p", inputs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pool.ID, fmt.Sprintf("%d/", int(kaasID.AsNumber()))) || pool.Properties.Get("status").AsString() != "Active" {
		t.Fatalf("pool = %s %v", pool.ID, pool.Properties)
	}
	read, err := s.Read(p.ReadRequest{ID: pool.ID, Urn: urn(poolType, "p")})
	if err != nil || read.Inputs.Get("labels").AsMap().Get("node-role.kubernetes.io/worker").AsString() != "web" {
		t.Fatalf("read = %v, %v", read.Inputs, err)
	}
	bigger := inputs.Set("maxInstances", property.New(5.0))
	d, _ := s.Diff(p.DiffRequest{ID: pool.ID, Urn: urn(poolType, "p"), State: pool.Properties, Inputs: bigger})
	if d.DetailedDiff["maxInstances"].Kind != p.Update {
		t.Errorf("resize diff = %v, want an update", d.DetailedDiff)
	}
	moved := inputs.Set("availabilityZone", property.New("az-2"))
	d, _ = s.Diff(p.DiffRequest{ID: pool.ID, Urn: urn(poolType, "p"), State: pool.Properties, Inputs: moved})
	if d.DetailedDiff["availabilityZone"].Kind != p.UpdateReplace {
		t.Errorf("zone diff = %v, want a replacement", d.DetailedDiff)
	}
	if _, err := s.Update(p.UpdateRequest{ID: pool.ID, Urn: urn(poolType, "p"), State: pool.Properties, Inputs: bigger}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(p.DeleteRequest{ID: pool.ID, Urn: urn(poolType, "p"), Properties: pool.Properties}); err != nil {
		t.Fatal(err)
	}
}

func TestCatalogue(t *testing.T) {
	s, _ := server(t, nil)
	resp, err := s.Invoke(p.InvokeRequest{Token: "infomaniak:kaas:getFlavors", Args: property.NewMap(map[string]property.Value{"region": property.New("dc4-a")})})
	if err != nil {
		t.Fatal(err)
	}
	items := resp.Return.Get("items").AsArray()
	if items.Len() != len(kaastest.DefaultFlavors) || items.Get(2).AsMap().Get("hourlyRateInclTax").AsNumber() != 0.054 {
		t.Errorf("flavors = %v", resp.Return)
	}
	packs, err := s.Invoke(p.InvokeRequest{Token: "infomaniak:kaas:getPacks", Args: property.NewMap(nil)})
	if err != nil || packs.Return.Get("items").AsArray().Len() != 2 {
		t.Errorf("packs = %v, %v", packs.Return, err)
	}
}

// TestSchema checks the schema: tokens, properties, secrets and replacements.
func TestSchema(t *testing.T) {
	s, _ := server(t, nil)
	resp, err := s.GetSchema(p.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Resources map[string]struct {
			InputProperties map[string]struct {
				Secret           bool `json:"secret"`
				ReplaceOnChanges bool `json:"replaceOnChanges"`
			} `json:"inputProperties"`
			Properties map[string]struct {
				Secret bool `json:"secret"`
			} `json:"properties"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(resp.Schema), &schema); err != nil {
		t.Fatal(err)
	}
	c := schema.Resources[clusterType]
	if !c.Properties["kubeconfig"].Secret || !c.InputProperties["region"].ReplaceOnChanges {
		t.Errorf("cluster schema = %+v", c)
	}
	if _, ok := schema.Resources[poolType].InputProperties["availabilityZone"]; !ok {
		t.Errorf("pool schema = %+v", schema.Resources[poolType])
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

// TestConfigDiff: only another project replaces the provider (and so its
// clusters); a rotated token is an update.
func TestConfigDiff(t *testing.T) {
	s, _ := server(t, nil)
	old := property.NewMap(map[string]property.Value{
		"token": property.New("a").WithSecret(true), "publicCloudId": property.New(11.0), "projectId": property.New(22.0),
	})
	for _, tt := range []struct {
		change  property.Map
		replace bool
	}{
		{old.Set("token", property.New("b").WithSecret(true)), false},
		{old.Set("timeout", property.New("45m")), false},
		{old.Set("projectId", property.New(23.0)), true},
	} {
		d, err := s.DiffConfig(p.DiffRequest{Urn: urn("pulumi:providers:infomaniak", "p"), State: old, Inputs: tt.change})
		if err != nil {
			t.Fatal(err)
		}
		replace := replaces(d)
		if !d.HasChanges || replace != tt.replace {
			t.Errorf("config diff %v: changes %v, replace %v; want replace %v", tt.change, d.HasChanges, replace, tt.replace)
		}
	}
}

func TestConfigureNamesWhatIsMissing(t *testing.T) {
	for _, env := range []string{"INFOMANIAK_TOKEN", "INFOMANIAK_PUBLIC_CLOUD_ID", "INFOMANIAK_PROJECT_ID"} {
		t.Setenv(env, "")
	}
	s := unconfigured(t)
	err := s.Configure(p.ConfigureRequest{Args: property.NewMap(map[string]property.Value{"timeout": property.New("soon")})})
	for _, want := range []string{"infomaniak:token is not set", "INFOMANIAK_PROJECT_ID is not set", `infomaniak:timeout "soon" is not a positive duration`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

func withAPIServer(m property.Map, filters ...string) property.Map {
	var vs []property.Value
	for _, f := range filters {
		vs = append(vs, property.New(f))
	}
	return m.Set("apiServer", property.New(map[string]property.Value{"ipFilters": property.New(vs)}))
}

// TestHalfFailedCreateAppliesOptionsOnUpdate: the engine calls Update on a
// half-created cluster; the options the create could not apply are applied then.
func TestHalfFailedCreateAppliesOptionsOnUpdate(t *testing.T) {
	s, api := server(t, nil)
	api.Steps = 1_000_000
	desired := withAPIServer(clusterInputs("camps-prod", "1.35"), "192.0.2.0/24")
	first, err := create(t, s, clusterType, "c", desired)
	if err == nil || first.PartialState == nil || first.ID == "" {
		t.Fatalf("create = %+v, %v; want a recorded half-created cluster", first, err)
	}
	id, _ := strconv.Atoi(first.ID)
	api.SetClusterStatus(id, "Active")
	partial := first.Properties
	if _, has := partial.GetOk("apiServer"); has && !partial.Get("apiServer").IsNull() {
		t.Errorf("partial state claims options that were never applied: %v", partial.Get("apiServer"))
	}
	if _, err := s.Update(p.UpdateRequest{ID: first.ID, Urn: urn(clusterType, "c"), State: partial, Inputs: desired}); err != nil {
		t.Fatal(err)
	}
	if _, filters := api.APIServer(id); len(filters) != 1 || filters[0] != "192.0.2.0/24" {
		t.Errorf("ip filters = %v, want the configured one applied", filters)
	}

	// Removing the options clears them on the API.
	state := withAPIServer(clusterInputs("camps-prod", "1.35"), "192.0.2.0/24").
		Set("kaasId", property.New(float64(id))).Set("status", property.New("Active")).Set("kubeconfig", property.New("x"))
	if _, err := s.Update(p.UpdateRequest{ID: first.ID, Urn: urn(clusterType, "c"), State: state, Inputs: clusterInputs("camps-prod", "1.35")}); err != nil {
		t.Fatal(err)
	}
	if _, filters := api.APIServer(id); len(filters) != 0 {
		t.Errorf("ip filters = %v after removing them", filters)
	}
}

func TestReplacementsDeleteFirst(t *testing.T) {
	s, _ := server(t, nil)
	state := clusterInputs("camps-prod", "1.35").Set("kaasId", property.New(1.0)).
		Set("status", property.New("Active")).Set("kubeconfig", property.New("x"))
	d, err := s.Diff(p.DiffRequest{ID: "1", Urn: urn(clusterType, "c"), State: state, Inputs: clusterInputs("camps-prod", "1.35").Set("region", property.New("dc3-a"))})
	if err != nil || !d.DeleteBeforeReplace {
		t.Errorf("cluster replacement: %+v, %v; want delete before replace", d, err)
	}
	pool := property.NewMap(map[string]property.Value{
		"kaasId": property.New(1.0), "name": property.New("p"), "flavor": property.New("a4-ram8-disk50-perf1"),
		"availabilityZone": property.New("az-1"), "minInstances": property.New(1.0), "maxInstances": property.New(1.0),
	})
	poolState := pool.Set("instancePoolId", property.New(2.0)).Set("status", property.New("Active"))
	d, err = s.Diff(p.DiffRequest{ID: "1/2", Urn: urn(poolType, "p"), State: poolState, Inputs: pool.Set("flavor", property.New("a8-ram16-disk50-perf1"))})
	if err != nil || !d.DeleteBeforeReplace {
		t.Errorf("pool replacement: %+v, %v; want delete before replace", d, err)
	}
	d, _ = s.Diff(p.DiffRequest{ID: "1/2", Urn: urn(poolType, "p"), State: poolState, Inputs: pool.Set("maxInstances", property.New(3.0))})
	if d.DeleteBeforeReplace {
		t.Error("a resize deletes the pool")
	}
}

// replaces tells whether a diff replaces the resource.
func replaces(d p.DiffResponse) bool {
	for _, pd := range d.DetailedDiff {
		if pd.Kind == p.UpdateReplace {
			return true
		}
	}
	return false
}

// TestConfigDiffAfterTheEngineRoundTrip drives the provider over its gRPC
// surface as the engine does across two runs: the first run's CheckConfig
// answer is recorded in the state and comes back as the old side of the
// next run's DiffConfig, with the keys pulumi-go-provider adds to it.
func TestConfigDiffAfterTheEngineRoundTrip(t *testing.T) {
	prov, err := provider.New()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := p.RawServer(provider.Name, provider.Version, prov)(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u := string(urn("pulumi:providers:infomaniak", "infomaniak"))
	check := func(cfg map[string]any) *structpb.Struct {
		t.Helper()
		props := presource.NewPropertyMapFromMap(cfg)
		props["token"] = presource.MakeSecret(props["token"])
		news, err := plugin.MarshalProperties(props, plugin.MarshalOptions{KeepSecrets: true})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.CheckConfig(ctx, &pulumirpc.CheckRequest{Urn: u, News: news})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetFailures()) > 0 {
			t.Fatalf("check config: %v", resp.GetFailures())
		}
		return resp.GetInputs()
	}
	base := map[string]any{"version": provider.Version, "token": "a", "publicCloudId": 11.0, "projectId": 22.0}
	recorded := check(base)
	for _, key := range []string{"__pulumi-go-provider-version", "__pulumi-go-provider-infer"} {
		if _, ok := recorded.GetFields()[key]; !ok {
			t.Fatalf("the checked configuration lacks %s; this test no longer reproduces the engine's state", key)
		}
	}
	with := func(k string, v any) map[string]any {
		m := maps.Clone(base)
		m[k] = v
		return m
	}
	for _, tt := range []struct {
		name     string
		cfg      map[string]any
		changes  bool
		replaces []string
	}{
		{"unchanged", base, false, nil},
		{"rotated token", with("token", "b"), true, nil},
		{"longer timeout", with("timeout", "45m"), true, nil},
		{"another project", with("projectId", 23.0), true, []string{"projectId"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := srv.DiffConfig(ctx, &pulumirpc.DiffRequest{Urn: u, Olds: recorded, News: check(tt.cfg)})
			if err != nil {
				t.Fatalf("diff config against the recorded state: %v", err)
			}
			if changes := d.GetChanges() == pulumirpc.DiffResponse_DIFF_SOME; changes != tt.changes {
				t.Errorf("changes %v, want %v", changes, tt.changes)
			}
			if !slices.Equal(d.GetReplaces(), tt.replaces) {
				t.Errorf("replaces %v, want %v", d.GetReplaces(), tt.replaces)
			}
		})
	}
}
