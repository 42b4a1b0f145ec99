package stacks_test

import (
	"fmt"
	"testing"

	"gitlab.com/camps-ch/infra/internal/recorder"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

const (
	typeRecord       = "cloudflare:index/record:Record"
	typeZoneSettings = "cloudflare:index/zoneSettingsOverride:ZoneSettingsOverride"
)

func records(res *stackrun.Result) map[string]*recorder.Resource {
	out := map[string]*recorder.Resource{}
	for _, r := range res.Recorder.OfType(typeRecord) {
		out[r.String("type")+" "+r.String("name")] = r
	}
	return out
}

// TestRecordsPointAtTheIngressAddress: in phase 1 uat's and prod's records
// point at the one address uat reserved (prod reads it through its
// StackReference); in phase 2 prod's point at its own.
func TestRecordsPointAtTheIngressAddress(t *testing.T) {
	uat := mustRun(t, stackrun.Options{Stack: "uat"})
	prod := mustRun(t, stackrun.Options{Stack: "prod"})
	prod2 := mustRun(t, stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}})
	uatIP, _ := output(t, uat, "ingressIp")
	prod2IP, _ := output(t, prod2, "ingressIp")
	if uatIP == prod2IP {
		t.Fatalf("prod phase 2 shares uat's address %v", uatIP)
	}
	tests := []struct {
		res     *stackrun.Result
		want    []string
		address any
	}{
		{uat, []string{"uat.camps.ch", "grafana-uat.camps.ch"}, uatIP},
		{prod, []string{"camps.ch", "www.camps.ch"}, uatIP},
		{prod2, []string{"camps.ch", "www.camps.ch", "grafana.camps.ch"}, prod2IP},
	}
	for _, tt := range tests {
		rs := records(tt.res)
		for _, host := range tt.want {
			r, ok := rs["A "+host]
			if !ok {
				t.Errorf("stack %s has no A record %s (has %v)", tt.res.Stack, host, keysOf(rs))
				continue
			}
			if fmt.Sprint(r.String("content")) != fmt.Sprint(tt.address) {
				t.Errorf("%s %s points at %s, want %v", tt.res.Stack, host, r.String("content"), tt.address)
			}
			if v, _ := r.Input("proxied"); !v.BoolValue() {
				t.Errorf("%s %s is not proxied", tt.res.Stack, host)
			}
			if r.String("zoneId") == "" {
				t.Errorf("%s %s has no zone id: the zone lookup failed", tt.res.Stack, host)
			}
		}
	}
	if !contains(prod.Recorder.Calls(), "cloudflare:index/getZone:getZone") {
		t.Error("the zone is not looked up by name")
	}
}

func TestZoneSettingsAndCAAOnlyInProd(t *testing.T) {
	for _, tt := range []struct {
		opts stackrun.Options
		own  bool
	}{
		{stackrun.Options{Stack: "uat"}, false},
		{stackrun.Options{Stack: "prod"}, true},
		{stackrun.Options{Stack: "prod", Set: map[string]string{key("phase"): "2"}}, true},
	} {
		res := mustRun(t, tt.opts)
		settings := res.Recorder.OfType(typeZoneSettings)
		caa := 0
		for _, r := range res.Recorder.OfType(typeRecord) {
			if r.String("type") == "CAA" {
				caa++
				if r.String("data.value") != "letsencrypt.org" || r.String("name") != "camps.ch" {
					t.Errorf("CAA = %v", r.Inputs)
				}
			}
		}
		want := [2]int{0, 0}
		if tt.own {
			want = [2]int{1, 2}
		}
		if got := [2]int{len(settings), caa}; got != want {
			t.Errorf("stack %s %v: %d zone settings and %d CAA records, want %v", tt.opts.Stack, tt.opts.Set, got[0], got[1], want)
		}
		if tt.own {
			s := settings[0]
			for _, m := range s.Mismatches(map[string]string{
				"settings.ssl": "strict", "settings.alwaysUseHttps": "on", "settings.minTlsVersion": "1.2", "settings.tls13": "on",
			}) {
				t.Error(m)
			}
			if v, _ := s.Input("settings.securityHeader.enabled"); !v.BoolValue() {
				t.Error("HSTS is off")
			}
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
