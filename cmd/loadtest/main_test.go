package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gitlab.com/camps-ch/infra/internal/loadtest"
)

// TestLoadTestTakesTheStacksObjectives: the thresholds come from the
// stack's slo configuration (uat: p90 under 200 ms, 99.5 %; prod phase 2:
// p95 under 100 ms, 99.9 %); a breach is errBreach (exit 1).
func TestLoadTestTakesTheStacksObjectives(t *testing.T) {
	fast := httptest.NewServer(&loadtest.Server{Latency: 2 * time.Millisecond})
	defer fast.Close()
	slow := httptest.NewServer(&loadtest.Server{Latency: 120 * time.Millisecond})
	defer slow.Close()
	tests := []struct {
		name    string
		args    []string
		breach  bool
		reports []string
	}{
		{name: "uat, fast", args: []string{"-stack", "uat", "-target", fast.URL + "/"},
			reports: []string{"stack uat, phase 1", "load test: 4 user(s), 4/s", "objectives: p90 below 200ms, errors at most 0.50 %", "PASS"}},
		{name: "uat tolerates 120 ms", args: []string{"-stack", "uat", "-target", slow.URL + "/", "-rate", "0"},
			reports: []string{"as fast as answered", "PASS: p90"}},
		{name: "prod phase 2 does not", args: []string{"-stack", "prod", "-set", "camps-infra:phase=2", "-target", slow.URL + "/", "-rate", "0"},
			breach: true, reports: []string{"stack prod, phase 2", "objectives: p95 below 100ms, errors at most 0.10 %", "FAIL: p95 latency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			args := append([]string{"-dir", "../..", "-users", "4", "-duration", "500ms"}, tt.args...)
			err := run(context.Background(), args, &out, &errs)
			if tt.breach != errors.Is(err, errBreach) || (!tt.breach && err != nil) {
				t.Fatalf("err = %v (breach wanted: %v)\n%s%s", err, tt.breach, out.String(), errs.String())
			}
			for _, want := range tt.reports {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestLoadTestRefusesBadInput(t *testing.T) {
	for args, want := range map[string][]string{
		"no stack":   {},
		"bad users":  {"-stack", "uat", "-users", "-3", "-target", "http://127.0.0.1:1/"},
		"bad target": {"-stack", "uat", "-target", "camps.ch"},
	} {
		err := run(context.Background(), append([]string{"-dir", "../.."}, want...), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || errors.Is(err, errBreach) {
			t.Errorf("%s: err = %v, want a usage error", args, err)
		}
	}
}
