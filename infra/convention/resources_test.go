package convention

import "testing"

func TestRequests(t *testing.T) {
	got := RequestsOf(3, NewResources("100m", "128Mi", "1", "1Gi"), NewResources("0.5", "1Gi", "", ""))
	if got.MilliCPU != 1800 || got.Memory != 3*(128<<20+1<<30) {
		t.Errorf("requests = %+v", got)
	}
	if s := (Requests{1500, 2 << 30}).String(); s != "1500m CPU, 2048Mi memory" {
		t.Errorf("String = %q", s)
	}
}
