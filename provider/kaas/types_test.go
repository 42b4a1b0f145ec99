package kaas

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestTolerantDecoding(t *testing.T) {
	labels := []struct {
		in   string
		want Labels
	}{
		{`{"node-role.kubernetes.io/worker":"web"}`, Labels{"node-role.kubernetes.io/worker": "web"}},
		{`["node-role.kubernetes.io/worker: web", "custom.kaas.infomaniak.cloud/tier:db"]`,
			Labels{"node-role.kubernetes.io/worker": "web", "custom.kaas.infomaniak.cloud/tier": "db"}},
		{`[]`, nil},
		{`null`, nil},
	}
	for _, tt := range labels {
		var got Labels
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("labels %s = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	var bad Labels
	if err := json.Unmarshal([]byte(`["no colon"]`), &bad); err == nil {
		t.Error("a label without a colon was accepted")
	}

	for in, want := range map[string]Bool{`true`: true, `"true"`: true, `"false"`: false, `1`: true, `"0"`: false, `null`: false} {
		var got Bool
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("bool %s = %v, %v", in, got, err)
		}
	}
	for in, want := range map[string]Price{`[]`: nil, `{"CHF":0.12,"EUR":0.13}`: {"CHF": 0.12, "EUR": 0.13}, `null`: nil} {
		var got Price
		if err := json.Unmarshal([]byte(in), &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("price %s = %v, %v", in, got, err)
		}
	}
	for in, want := range map[string]Rates{
		`{"hour_excl_tax":0.05,"hour_incl_tax":0.054}`:   {0.05, 0.054},
		`[{"hour_excl_tax":0.05,"hour_incl_tax":0.054}]`: {0.05, 0.054},
		`[]`: {},
	} {
		var got Rates
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("rates %s = %v, %v", in, got, err)
		}
	}
}

func TestPoolBodiesKeepZeros(t *testing.T) {
	b, _ := json.Marshal(UpdatePool{MinimumInstances: 0, MaximumInstances: 0})
	if string(b) != `{"minimum_instances":0,"maximum_instances":0}` {
		t.Errorf("update body = %s: zero counts must be sent, not dropped", b)
	}
}

func FuzzLabels(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `null`, `["a: b"]`, `{"a":"b"}`, `["a"]`, `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var l Labels
		if err := json.Unmarshal([]byte(in), &l); err != nil {
			return
		}
		// Whatever decodes re-encodes as the object form and decodes the same.
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var again Labels
		if err := json.Unmarshal(b, &again); err != nil || !reflect.DeepEqual(l, again) {
			t.Fatalf("%s -> %v -> %s -> %v, %v", in, l, b, again, err)
		}
	})
}
