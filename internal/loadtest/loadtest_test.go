package loadtest

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestLoadTestJudgesByTheObjectives runs short tests against a local
// server with injected latency and errors: it passes where the server
// meets the objectives and fails, naming the breach, where it does not.
func TestLoadTestJudgesByTheObjectives(t *testing.T) {
	phase2 := Thresholds{Percentile: 95, Latency: 100 * time.Millisecond, MaxErrors: 0.1}
	tests := []struct {
		name      string
		latency   time.Duration
		failEvery int64
		want      []string // in the report; PASS or FAIL first
	}{
		{name: "fast and sound", latency: 2 * time.Millisecond, want: []string{"PASS: p95"}},
		{name: "too slow", latency: 150 * time.Millisecond, want: []string{"FAIL: p95 latency", "is not below 100ms"}},
		{name: "one in ten fails", latency: time.Millisecond, failEvery: 10,
			want: []string{"FAIL: error rate ", "is above 0.10 %", "status codes: 200: ", "503: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&Server{Latency: tt.latency, FailEvery: tt.failEvery})
			defer srv.Close()
			r, err := Run(context.Background(), Options{
				Targets: []string{srv.URL + "/"}, Users: 4, Duration: 600 * time.Millisecond, Timeout: time.Second,
			}, phase2)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			r.Report(&out)
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			if strings.HasPrefix(tt.want[0], "PASS") != (len(r.Breaches()) == 0) {
				t.Errorf("breaches %v disagree with the report:\n%s", r.Breaches(), out.String())
			}
			if !strings.Contains(out.String(), "requests") || r.Metrics.Requests < 4 {
				t.Errorf("%d requests; report:\n%s", r.Metrics.Requests, out.String())
			}
		})
	}
}

func TestOptionsNameWhatIsWrong(t *testing.T) {
	err := Options{Targets: []string{"camps.ch"}, Users: 0, Rate: -1}.Validate()
	for _, want := range []string{`target "camps.ch" is not an http(s) URL`, "-users 0", "-rate -1", "-duration 0s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if err := (Options{Users: 1, Duration: time.Second, Timeout: time.Second}).Validate(); err == nil || !strings.Contains(err.Error(), "slo.hosts") {
		t.Errorf("no targets: %v", err)
	}
}
