// Package loadtest runs a load test against a stack's public hosts with
// vegeta and judges it by the stack's own objectives: the latency
// percentile under its threshold, the errors within the error budget.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Options are a load test's targets and load.
type Options struct {
	// Targets are the https:// (or, for a local server, http://) URLs,
	// requested in turn.
	Targets []string
	// Users is how many requests may be in flight at once (vegeta's
	// workers): the concurrent users.
	Users int
	// Rate is the requests per second over all users; 0 sends as fast as
	// the users' answers come back (each user waits for its answer).
	Rate int
	// Duration of the test.
	Duration time.Duration
	// Timeout of each request; a request that takes longer is an error.
	Timeout time.Duration
}

// Validate says what is wrong with the options, naming the flag.
func (o Options) Validate() error {
	var errs []error
	if len(o.Targets) == 0 {
		errs = append(errs, errors.New("no target: the stack has no public host (slo.hosts), and -target names none"))
	}
	for _, t := range o.Targets {
		if u, err := url.Parse(t); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("target %q is not an http(s) URL", t))
		}
	}
	if o.Users < 1 {
		errs = append(errs, fmt.Errorf("-users %d: at least 1", o.Users))
	}
	if o.Rate < 0 {
		errs = append(errs, fmt.Errorf("-rate %d: 0 (as fast as the users go) or more", o.Rate))
	}
	if o.Duration <= 0 || o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-duration %s and -timeout %s must be positive", o.Duration, o.Timeout))
	}
	return errors.Join(errs...)
}

// Thresholds are what the test must meet.
type Thresholds struct {
	// Percentile of the requests, in percent (e.g. 95), that must be
	// faster than Latency.
	Percentile float64
	Latency    time.Duration
	// MaxErrors is the largest share of failed requests, in percent (100
	// less the availability objective).
	MaxErrors float64
}

// Result is a finished test.
type Result struct {
	Options    Options
	Thresholds Thresholds
	Metrics    vegeta.Metrics
	// AtPercentile is the latency at Thresholds.Percentile.
	AtPercentile time.Duration
}

// Run attacks the targets until the duration ends or ctx is done.
func Run(ctx context.Context, o Options, th Thresholds) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	targets := make([]vegeta.Target, 0, len(o.Targets))
	for _, t := range o.Targets {
		targets = append(targets, vegeta.Target{Method: "GET", URL: t})
	}
	users := uint64(o.Users)
	attacker := vegeta.NewAttacker(vegeta.Workers(users), vegeta.MaxWorkers(users), vegeta.Timeout(o.Timeout),
		vegeta.KeepAlive(true), vegeta.Connections(o.Users), vegeta.MaxConnections(o.Users))
	pacer := vegeta.ConstantPacer{Freq: o.Rate, Per: time.Second}
	r := &Result{Options: o, Thresholds: th}
	results := attacker.Attack(vegeta.NewStaticTargeter(targets...), pacer, o.Duration, "loadtest")
	for {
		select {
		case <-ctx.Done():
			attacker.Stop()
			for res := range results { // drain
				r.Metrics.Add(res)
			}
			r.Metrics.Close()
			return r, ctx.Err()
		case res, ok := <-results:
			if !ok {
				r.Metrics.Close()
				r.AtPercentile = r.Metrics.Latencies.Quantile(th.Percentile / 100)
				return r, nil
			}
			r.Metrics.Add(res)
		}
	}
}

// ErrorRate is the share of failed requests, in percent: transport errors
// and answers other than 2xx and 3xx.
func (r *Result) ErrorRate() float64 {
	if r.Metrics.Requests == 0 {
		return 100
	}
	return 100 - r.Metrics.Success*100
}

// Breaches are the thresholds the test missed, empty when it passed.
func (r *Result) Breaches() []string {
	var out []string
	if r.Metrics.Requests == 0 {
		return []string{"no request completed"}
	}
	if r.AtPercentile >= r.Thresholds.Latency {
		out = append(out, fmt.Sprintf("p%g latency %s is not below %s", r.Thresholds.Percentile, r.AtPercentile.Round(time.Millisecond), r.Thresholds.Latency))
	}
	if e := r.ErrorRate(); e > r.Thresholds.MaxErrors {
		out = append(out, fmt.Sprintf("error rate %.2f %% is above %.2f %%", e, r.Thresholds.MaxErrors))
	}
	return out
}

// Report writes the summary table and the verdict.
func (r *Result) Report(w io.Writer) {
	m, o := r.Metrics, r.Options
	rate := "as fast as answered"
	if o.Rate > 0 {
		rate = fmt.Sprintf("%d/s", o.Rate)
	}
	fmt.Fprintf(w, "load test: %d user(s), %s, for %s against %s\n\n", o.Users, rate, o.Duration, strings.Join(o.Targets, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintln(tw, "requests\tthroughput\terrors\tp50\tp90\tp95\tp99\tmax\t")
	fmt.Fprintf(tw, "%d\t%.1f/s\t%.2f %%\t%s\t%s\t%s\t%s\t%s\t\n", m.Requests, m.Throughput, r.ErrorRate(),
		ms(m.Latencies.P50), ms(m.Latencies.P90), ms(m.Latencies.P95), ms(m.Latencies.P99), ms(m.Latencies.Max))
	tw.Flush()
	if len(m.StatusCodes) > 0 {
		codes := make([]string, 0, len(m.StatusCodes))
		for code, n := range m.StatusCodes {
			codes = append(codes, fmt.Sprintf("%s: %d", code, n))
		}
		slices.Sort(codes)
		fmt.Fprintf(w, "\nstatus codes: %s\n", strings.Join(codes, ", "))
	}
	for i, e := range m.Errors {
		if i == 5 {
			fmt.Fprintf(w, "  … and %d more\n", len(m.Errors)-5)
			break
		}
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	fmt.Fprintf(w, "\nobjectives: p%g below %s, errors at most %.2f %%\n", r.Thresholds.Percentile, r.Thresholds.Latency, r.Thresholds.MaxErrors)
	if b := r.Breaches(); len(b) > 0 {
		fmt.Fprintf(w, "FAIL: %s\n", strings.Join(b, "; "))
		return
	}
	fmt.Fprintf(w, "PASS: p%g %s, errors %.2f %%\n", r.Thresholds.Percentile, ms(r.AtPercentile), r.ErrorRate())
}
