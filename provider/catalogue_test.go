package provider_test

import (
	"fmt"
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"gitlab.com/camps-ch/infra/provider/kaas/kaastest"
)

func poolInputs(region, zone, flavor string) property.Map {
	return property.NewMap(map[string]property.Value{
		"kaasId": property.New(property.Computed), "name": property.New("pool-az-1"), "flavor": property.New(flavor),
		"availabilityZone": property.New(zone), "region": property.New(region),
		"minInstances": property.New(1.0), "maxInstances": property.New(3.0),
	})
}

// TestCheckAgainstTheCatalogue: Check names what the API does not offer,
// with the offered list, before anything is created.
func TestCheckAgainstTheCatalogue(t *testing.T) {
	tests := []struct {
		name   string
		typ    string
		inputs property.Map
		setup  func(*kaastest.Server)
		want   map[string]string // property → reason substring; empty: no failure
	}{
		{"an offered cluster", clusterType, clusterInputs("camps-shared", "1.35"), nil, nil},
		{"a version not offered", clusterType, clusterInputs("camps-shared", "1.31"), nil,
			map[string]string{"kubernetesVersion": `"1.31" is not offered; offered: 1.36, 1.35, 1.34`}},
		{"a region not offered", clusterType, clusterInputs("camps-shared", "1.35").Set("region", property.New("dc9-a")), nil,
			map[string]string{"region": `"dc9-a" is not offered; offered: dc3-a, dc4-a`}},
		{"a pack not offered", clusterType, clusterInputs("camps-shared", "1.35").Set("packName", property.New("pro")), nil,
			map[string]string{"packName": `"pro" is not offered; offered: shared, dedicated`}},
		{"an offered pool, its cluster still unknown", poolType, poolInputs("dc4-a", "az-2", "a4-ram8-disk20-perf1"), nil, nil},
		{"a flavor not offered", poolType, poolInputs("dc4-a", "az-1", "a4-ram8-disk80-perf1"), nil,
			map[string]string{"flavor": `"a4-ram8-disk80-perf1" is not offered in dc4-a; offered: a1-ram2-disk20-perf1, a2-ram4-disk20-perf1, a4-ram8-disk20-perf1`}},
		{"a flavor not available to the project", poolType, poolInputs("dc4-a", "az-1", "a16-ram64-disk100-perf2"), nil,
			map[string]string{"flavor": `"a16-ram64-disk100-perf2" is not available to this project in dc4-a; available: a1-ram2-disk20-perf1`}},
		{"a zone of another region", poolType, poolInputs("dc3-a", "az-1", "a4-ram8-disk20-perf1"), nil,
			map[string]string{"availabilityZone": `"az-1" is not a zone of dc3-a; zones: dc3-a-04, dc3-a-09, dc3-a-10`}},
		{"a flavor on the second page", poolType, poolInputs("dc4-a", "az-1", "a150-ram1-disk20-perf1"), func(api *kaastest.Server) {
			for i := range 150 {
				api.Flavors = append(api.Flavors, kaastest.Flavor{Name: fmt.Sprintf("a%d-ram1-disk20-perf1", i+1), CPU: i + 1, RAM: 1, Storage: 20, Available: true})
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, api := server(t, nil)
			if tt.setup != nil {
				tt.setup(api)
			}
			resp, err := s.Check(p.CheckRequest{Urn: urn(tt.typ, "r"), Inputs: tt.inputs})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range resp.Failures {
				got[f.Property] = f.Reason
			}
			if len(got) != len(tt.want) {
				t.Errorf("failures %v, want %v", got, tt.want)
			}
			for prop, want := range tt.want {
				if !strings.Contains(got[prop], want) {
					t.Errorf("%s: %q, want it to contain %q", prop, got[prop], want)
				}
			}
		})
	}
}

// TestCheckSaysWhenTheCatalogueIsUnreachable: an API that keeps failing
// stops the preview with what to do, rather than passing unchecked.
func TestCheckSaysWhenTheCatalogueIsUnreachable(t *testing.T) {
	s, api := server(t, nil)
	down := kaastest.Response{Status: 503, Body: "<html>maintenance</html>"}
	api.Fail("GET /1/public_clouds/kaas/regions", down, down, down, down, down, down)
	_, err := s.Check(p.CheckRequest{Urn: urn(clusterType, "c"), Inputs: clusterInputs("camps-shared", "1.35")})
	if err == nil || !strings.Contains(err.Error(), "checking the inputs against the API's regions") ||
		!strings.Contains(err.Error(), "maintenance") || !strings.Contains(err.Error(), "run the preview again") {
		t.Errorf("err = %v", err)
	}
}

// TestAmbiguousCreates: a create whose answer is a 5xx or never arrives
// may or may not have created; the provider looks for what it asked for
// and either adopts it or creates again, so one update ends with exactly
// one cluster and one pool.
func TestAmbiguousCreates(t *testing.T) {
	const clusters = "POST /1/public_clouds/11/projects/22/kaas"
	tests := []struct {
		name   string
		faults []kaastest.Response
	}{
		{"a 500 before creating, then success", []kaastest.Response{{Status: 500, Body: "{}"}}},
		{"an HTML 502, then an answer lost after creating", []kaastest.Response{{Status: 502, Body: "<html>Bad Gateway</html>"}, {Lost: true}}},
		{"an answer lost after creating", []kaastest.Response{{Lost: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, api := server(t, nil)
			api.Fail(clusters, tt.faults...)
			cl, err := create(t, s, clusterType, "c", clusterInputs("camps-shared", "1.35"))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(api.Clusters()); n != 1 {
				t.Fatalf("%d clusters, want 1", n)
			}
			kaasID := cl.Properties.Get("kaasId")
			api.Fail(fmt.Sprintf("%s/%s/instance_pools", clusters, cl.ID), tt.faults...)
			in := poolInputs("dc4-a", "az-1", "a4-ram8-disk50-perf1").Set("kaasId", kaasID)
			if _, err := create(t, s, poolType, "p", in); err != nil {
				t.Fatal(err)
			}
			pools := 0
			for _, r := range api.Requests() {
				if r == fmt.Sprintf("GET /1/public_clouds/11/projects/22/kaas/%s/instance_pools", cl.ID) {
					pools++
				}
			}
			if pools < 2 {
				t.Errorf("the pools were listed %d times; want a look-up before and after the ambiguous create", pools)
			}
		})
	}
}

// TestAmbiguousCreateThatNeverSucceeds says what to do.
func TestAmbiguousCreateThatNeverSucceeds(t *testing.T) {
	s, api := server(t, nil)
	var fails []kaastest.Response
	for range 10 {
		fails = append(fails, kaastest.Response{Status: 500, Body: "{}"})
	}
	api.Fail("POST /1/public_clouds/11/projects/22/kaas", fails...)
	_, err := create(t, s, clusterType, "c", clusterInputs("camps-shared", "1.35"))
	if err == nil || !strings.Contains(err.Error(), "none created it") || !strings.Contains(err.Error(), "run the update again") {
		t.Errorf("err = %v", err)
	}
	if n := len(api.Clusters()); n != 0 {
		t.Errorf("%d clusters, want 0", n)
	}
}
