// Command loadtest puts a stack's public hosts under load with vegeta and
// judges the result by the stack's own objectives (its slo configuration:
// the latency percentile under its threshold, errors within the
// availability objective). It prints a summary table and exits 1 when an
// objective is missed, 2 when it cannot run.
//
//	go run ./cmd/loadtest -stack uat                               (100 users, 1 min)
//	go run ./cmd/loadtest -stack prod -set camps-infra:phase=2     (1000 users)
//	go run ./cmd/loadtest -stack prod -users 200 -rate 0 -duration 30s
//
// Try it against a local server that answers after a delay and fails one
// request in N:
//
//	go run ./cmd/loadtest serve -addr 127.0.0.1:8089 -latency 20ms -fail-every 50
//	go run ./cmd/loadtest -stack uat -target http://127.0.0.1:8089/ -users 20 -duration 10s
//
// It reads the stack files only: no credentials, no Pulumi state. Load
// the production hosts only when the team agreed to it: 1000 users hit
// the same backends as real ones, behind Cloudflare's rate limits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"gitlab.com/camps-ch/infra/internal/loadtest"
	"gitlab.com/camps-ch/infra/internal/stackrun"
)

// defaultUsers are the architecture's concurrent users by phase.
var defaultUsers = map[int]int{1: 100, 2: 1000}

// errBreach is an objective missed.
var errBreach = errors.New("objectives missed")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errBreach):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
}

// targets collects repeated -target flags.
type targets []string

func (t *targets) String() string     { return strings.Join(*t, ",") }
func (t *targets) Set(v string) error { *t = append(*t, v); return nil }

func run(ctx context.Context, args []string, w, errw io.Writer) error {
	if len(args) > 0 && args[0] == "serve" {
		return serve(ctx, args[1:], errw)
	}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(errw)
	stack := fs.String("stack", "", "stack whose hosts and objectives to test: uat or prod")
	dir := fs.String("dir", ".", "project directory (holding Pulumi.yaml and the stack files)")
	overrides := stackrun.Sets{}
	fs.Var(overrides, "set", "override a config value, KEY=VALUE (repeatable), e.g. camps-infra:phase=2")
	users := fs.Int("users", 0, "concurrent users (default: 100 in phase 1, 1000 in phase 2)")
	rate := fs.Int("rate", -1, "requests per second over all users (default: one per user per second; 0: as fast as the answers come back)")
	duration := fs.Duration("duration", time.Minute, "how long to load the hosts")
	timeout := fs.Duration("timeout", 5*time.Second, "each request's timeout; a slower one counts as an error")
	var extra targets
	fs.Var(&extra, "target", "URL to load instead of the stack's hosts (repeatable), e.g. a local server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stack == "" {
		return errors.New("-stack is required: its slo configuration holds the objectives")
	}
	cfg, err := stackrun.LoadConfig(stackrun.Options{Dir: *dir, Stack: *stack, Set: overrides, Secrets: stackrun.OperatorValues()})
	if err != nil {
		return err
	}
	slo := cfg.SLO
	o := loadtest.Options{Users: *users, Rate: *rate, Duration: *duration, Timeout: *timeout, Targets: extra}
	if o.Users == 0 {
		o.Users = defaultUsers[cfg.Phase]
	}
	if o.Rate < 0 {
		o.Rate = o.Users
	}
	if len(o.Targets) == 0 {
		for _, h := range slo.Hosts {
			o.Targets = append(o.Targets, "https://"+h+slo.Path)
		}
	}
	th := loadtest.Thresholds{
		Percentile: *slo.LatencyPercentile,
		Latency:    time.Duration(*slo.LatencyThresholdMs) * time.Millisecond,
		MaxErrors:  100 - *slo.Availability,
	}
	r, err := loadtest.Run(ctx, o, th)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "stack %s, phase %d\n", *stack, cfg.Phase)
	r.Report(w)
	if len(r.Breaches()) > 0 {
		return errBreach
	}
	return nil
}

// serve runs loadtest.Server until interrupted.
func serve(ctx context.Context, args []string, errw io.Writer) error {
	fs := flag.NewFlagSet("loadtest serve", flag.ContinueOnError)
	fs.SetOutput(errw)
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on")
	latency := fs.Duration("latency", 10*time.Millisecond, "delay before each answer")
	failEvery := fs.Int64("fail-every", 0, "answer 503 to one request in this many (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := &http.Server{Addr: *addr, Handler: &loadtest.Server{Latency: *latency, FailEvery: *failEvery}, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(errw, "serving on http://%s/ (latency %s, failing one in %d)\n", *addr, *latency, *failEvery)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
