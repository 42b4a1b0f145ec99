package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/infra/helm"
	"gitlab.com/camps-ch/infra/infra/platform"
	"gitlab.com/camps-ch/infra/infra/security"
	"gitlab.com/camps-ch/infra/internal/e2e/adjust"
	"gitlab.com/camps-ch/infra/internal/e2e/kaasfake"
	"gitlab.com/camps-ch/infra/internal/e2e/kube"
	"gitlab.com/camps-ch/infra/internal/e2e/standin"
	"gitlab.com/camps-ch/infra/stacks"
)

// runner holds what every run shares: the tools, the control plane and
// the stand-in plugins.
type runner struct {
	tools, charts, kaasBin, overlay, work string

	repo     string
	keepWork bool
	standins string
	overlays map[string]map[string]any
	kube     *kube.ControlPlane
	baseline []kube.Object
	// kaas is the current run's fake.
	kaas *kaasfake.Fake
}

// run is one end-to-end run: its own KaaS fake and state backend.
type run struct {
	name, about string
	faults      map[string][]kaasfake.Fault
	do          func(ctx context.Context, r *runner, p *project) error
}

var runs = []run{
	{name: "phase1", about: "phase 1: uat creates the shared cluster, prod attaches to it", do: phase1},
	{name: "phase2", about: "phase 2: prod creates its own three-zone cluster", do: phase2},
	{name: "recovery", about: "recovery: dr creates camps-dr in dc3-a's zones and restores production from the copy", do: recovery},
	{name: "faults", about: "faults: the KaaS API answers 429s, an HTML 502, a 500 and a lost answer to the creates", faults: faults, do: faultRun},
}

func runNames() []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.name)
	}
	return out
}

// stackNames are the stacks with a stack file: the run copies each.
var stackNames = []string{"uat", "prod", "dr"}

// pinnedCharts are the charts the program installs.
var pinnedCharts = []helm.Chart{
	platform.IngressChart, platform.CertManagerChart, platform.LonghornChart, platform.MonitoringChart,
	platform.BlackboxChart, platform.PushgatewayChart, platform.CloudNativePGChart, platform.BarmanCloudChart, platform.MetricsServerChart,
	security.OpenBaoChart, security.ExternalSecretsChart, security.VectorChart,
}

func (r *runner) main(ctx context.Context, names []string) (err error) {
	if r.repo, err = os.Getwd(); err != nil {
		return err
	}
	for _, n := range names {
		if !slices.Contains(runNames(), n) {
			return fmt.Errorf("-runs: %q is not one of %s", n, strings.Join(runNames(), ", "))
		}
	}
	if r.tools, err = filepath.Abs(r.tools); err != nil {
		return err
	}
	for _, tool := range []string{"pulumi", "pulumi-resource-kubernetes", "kube-apiserver", "kube-controller-manager", "etcd"} {
		if _, err := os.Stat(filepath.Join(r.tools, tool)); err != nil {
			return fmt.Errorf("%s is not in %s: build the tools with make e2e-tools", tool, r.tools)
		}
	}
	if _, err := os.Stat(filepath.Join(r.repo, "bin", "pulumi-resource-infomaniak")); err != nil {
		return errors.New("bin/pulumi-resource-infomaniak is missing: run make build (make e2e does)")
	}
	if r.kaasBin, err = filepath.Abs(r.kaasBin); err != nil {
		return err
	}
	if r.work == "" {
		if r.work, err = os.MkdirTemp("", "camps-infra-e2e-"); err != nil {
			return err
		}
	} else {
		r.keepWork = true
	}
	if err := r.loadOverlay(); err != nil {
		return err
	}
	if err := r.prepareStandins(); err != nil {
		return err
	}
	fmt.Printf("e2e: tools %s, work %s\n", r.tools, r.work)

	start := time.Now()
	if r.kube, err = kube.Start(ctx, kube.ToolsIn(r.tools), mkdir(r.work, "control-plane")); err != nil {
		return err
	}
	defer r.kube.Stop()
	if r.baseline, err = r.kube.Objects(ctx); err != nil {
		return err
	}
	fmt.Printf("e2e: control plane up at %s in %s (%d objects of its own)\n", r.kube.URL, time.Since(start).Round(time.Second), len(r.baseline))
	if r.charts != "" {
		defs := filepath.Join(r.work, "kubernetes-definitions.json")
		if err := r.kube.Definitions(ctx, defs); err != nil {
			return err
		}
		copied := filepath.Join(r.work, "charts")
		rewritten, err := adjust.CopyCharts(r.charts, copied, defs)
		if err != nil {
			return err
		}
		r.charts = copied
		if len(rewritten) > 0 {
			fmt.Printf("e2e: charts from %s; values schemas pointed at the API server's definitions instead of GitHub: %s\n", r.charts, strings.Join(rewritten, ", "))
		}
	}

	for _, rn := range runs {
		if !slices.Contains(names, rn.name) {
			continue
		}
		if err := r.do(ctx, rn); err != nil {
			return fmt.Errorf("%s: %w", rn.name, err)
		}
	}
	if !r.keepWork {
		r.kube.Stop()
		_ = os.RemoveAll(r.work)
		r.work = ""
	}
	return nil
}

// loadOverlay reads the overlay of the stack files and, without charts,
// turns the platform off.
func (r *runner) loadOverlay() error {
	b, err := os.ReadFile(r.overlay)
	if err != nil {
		return err
	}
	r.overlays = map[string]map[string]any{}
	if err := yaml.Unmarshal(b, &r.overlays); err != nil {
		return fmt.Errorf("%s: %w", r.overlay, err)
	}
	if r.charts == "" {
		fmt.Println("e2e: no charts (-charts or E2E_CHARTS): skipping the platform, its releases and what needs their CRDs (databases, OpenBao, the audit sink)")
		for _, stack := range stackNames {
			if r.overlays[stack] == nil {
				r.overlays[stack] = map[string]any{}
			}
			maps.Copy(r.overlays[stack], withoutCharts)
		}
		return nil
	}
	if r.charts, err = filepath.Abs(r.charts); err != nil {
		return err
	}
	if problems := adjust.Charts(r.charts, pinnedCharts); len(problems) > 0 {
		return fmt.Errorf("charts in %s:\n  %s", r.charts, strings.Join(problems, "\n  "))
	}
	return nil
}

// withoutCharts is the configuration of a run without charts: no
// platform, and nothing that needs its CRDs.
var withoutCharts = map[string]any{
	stacks.FullKey(stacks.KeyPlatform): map[string]any{"install": false},
	stacks.FullKey(stacks.KeyData):     map[string]any{"postgres": map[string]any{"enabled": false}},
	stacks.FullKey(stacks.KeySLO):      map[string]any{"enabled": false},
	// The records point at the ingress's address, which the platform's
	// load balancer has.
	stacks.FullKey(stacks.KeyEdge):     map[string]any{"records": []any{}},
	stacks.FullKey(stacks.KeySecurity): map[string]any{"openbao": map[string]any{"enabled": false}, "audit": map[string]any{"enabled": false}},
}

// prepareStandins links this binary as the plugins it stands in for.
func (r *runner) prepareStandins() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r.standins = mkdir(r.work, "standins")
	for _, pkg := range standin.Packages {
		if err := os.Symlink(self, filepath.Join(r.standins, "pulumi-resource-"+pkg)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return nil
}

func mkdir(parts ...string) string {
	dir := filepath.Join(parts...)
	_ = os.MkdirAll(dir, 0o700)
	return dir
}

// do runs one run with its own fake and backend, and checks that it
// leaves nothing behind.
func (r *runner) do(ctx context.Context, rn run) error {
	fmt.Printf("\ne2e: %s\n", rn.about)
	start := time.Now()
	dir := mkdir(r.work, rn.name)
	kc := filepath.Join(dir, "cluster.kubeconfig")
	if err := os.WriteFile(kc, r.kube.Kubeconfig, 0o600); err != nil {
		return err
	}
	var err error
	if r.kaas, err = kaasfake.Start(ctx, r.kaasBin, kc, dir, rn.faults); err != nil {
		return err
	}
	defer r.kaas.Stop()
	p, err := newProject(ctx, r, dir, r.overlays)
	if err != nil {
		return err
	}
	p.logs = dir
	if err := rn.do(ctx, r, p); err != nil {
		return err
	}
	if err := r.leftovers(ctx, p); err != nil {
		return err
	}
	fmt.Printf("  %s done in %s\n", rn.name, time.Since(start).Round(time.Second))
	return nil
}

// leftovers fails when the API server holds objects the run made, or the
// fake a cluster.
func (r *runner) leftovers(ctx context.Context, p *project) error {
	return p.step("no object and no cluster left", func(io.Writer) (string, error) {
		objs, err := r.kube.Objects(ctx)
		if err != nil {
			return "", err
		}
		// Helm keeps CRDs (a chart's crds/ directory, or the keep
		// policy); the API server registers an APIService for each group
		// version they serve.
		groups := map[string]bool{}
		var left, crds []string
		added := kube.New(r.baseline, objs)
		for _, o := range added {
			if o.Resource == "customresourcedefinitions.apiextensions.k8s.io" {
				crds = append(crds, o.Name)
				_, group, _ := strings.Cut(o.Name, ".")
				groups[group] = true
			}
		}
		for _, o := range added {
			_, group, _ := strings.Cut(o.Name, ".")
			if o.Resource == "customresourcedefinitions.apiextensions.k8s.io" || o.Resource == "apiservices.apiregistration.k8s.io" && groups[group] {
				continue
			}
			left = append(left, o.String())
		}
		clusters, err := r.kaas.Clusters(ctx)
		if err != nil {
			return "", err
		}
		if len(left) > 0 || len(clusters) > 0 {
			return "", fmt.Errorf("%d objects left: %s; %d clusters left: %v", len(left), strings.Join(first(left, 20), ", "), len(clusters), clusters)
		}
		return fmt.Sprintf("0 objects, 0 clusters (%d CRDs kept, as Helm does)", len(crds)), nil
	})
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// step runs one step, logging its output to a file beside the project,
// and prints its line: name, what it did, seconds.
func (p *project) step(name string, f func(log io.Writer) (string, error)) error {
	start := time.Now()
	var log io.Writer = io.Discard
	var path string
	if p.logs != "" {
		p.steps++
		path = filepath.Join(p.logs, fmt.Sprintf("%02d-%s.log", p.steps, slug(name)))
		file, err := os.Create(path)
		if err != nil {
			return err
		}
		defer file.Close()
		log = file
	}
	what, err := f(log)
	secs := time.Since(start).Round(100 * time.Millisecond)
	if err != nil {
		fmt.Printf("  %-44s FAIL %s\n", name, secs)
		if path != "" {
			fmt.Printf("%s", tail(path, 40))
			return fmt.Errorf("%s: %w (log: %s)", name, err, path)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("  %-44s %-52s %6s\n", name, what, secs)
	return nil
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

// tail returns the last n lines of a file, indented.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	lines = lines[max(0, len(lines)-n):]
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "      | %s\n", l)
	}
	return b.String()
}

// counts renders an operation summary, e.g. "create 83, same 2".
func counts[K ~string](m map[K]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// changes sums the operations that change something.
func changes[K ~string](m map[K]int) int {
	n := 0
	for k, v := range m {
		if k != "same" && k != "read" {
			n += v
		}
	}
	return n
}

// up runs pulumi up and checks the secrets stayed secret.
func (p *project) up(ctx context.Context, r *runner, s auto.Stack) error {
	return p.step("up "+s.Name(), func(log io.Writer) (string, error) {
		res, err := s.Up(ctx, optup.ProgressStreams(log), optup.ErrorProgressStreams(log), optup.SuppressProgress())
		if err != nil {
			return "", err
		}
		plain, err := p.plainSecrets(ctx, s, map[string]string{"the cluster's admin token": r.kube.Token()})
		if err != nil {
			return "", err
		}
		if len(plain) > 0 {
			return "", fmt.Errorf("in plain text in the state: %s", strings.Join(plain, ", "))
		}
		return counts(*res.Summary.ResourceChanges), nil
	})
}

// preview runs pulumi preview; noChanges expects none.
func (p *project) preview(ctx context.Context, s auto.Stack, noChanges bool) error {
	name := "preview " + s.Name()
	if noChanges {
		name += " (expect no changes)"
	}
	return p.step(name, func(log io.Writer) (string, error) {
		opts := []optpreview.Option{optpreview.ProgressStreams(log), optpreview.ErrorProgressStreams(log), optpreview.SuppressProgress(), optpreview.Diff()}
		if noChanges {
			opts = append(opts, optpreview.ExpectNoChanges())
		}
		res, err := s.Preview(ctx, opts...)
		if err != nil {
			return "", err
		}
		if n := changes(res.ChangeSummary); noChanges && n > 0 {
			return "", fmt.Errorf("%d changes: %s", n, counts(res.ChangeSummary))
		}
		return counts(res.ChangeSummary), nil
	})
}

// refresh runs pulumi refresh; it must find nothing changed.
func (p *project) refresh(ctx context.Context, s auto.Stack) error {
	return p.step("refresh "+s.Name(), func(log io.Writer) (string, error) {
		res, err := s.Refresh(ctx, optrefresh.ProgressStreams(log), optrefresh.ErrorProgressStreams(log), optrefresh.SuppressProgress())
		if err != nil {
			return "", err
		}
		return counts(*res.Summary.ResourceChanges), nil
	})
}

// destroy unprotects every resource through the CLI, as an operator
// would, then destroys the stack.
func (p *project) destroy(ctx context.Context, r *runner, s auto.Stack) error {
	return p.step("destroy "+s.Name(), func(log io.Writer) (string, error) {
		if _, stderr, code, err := p.cli.Run(ctx, p.dir, nil, []io.Writer{log}, []io.Writer{log}, p.environ(),
			"state", "unprotect", "--all", "--yes", "--stack", s.Name()); err != nil {
			return "", fmt.Errorf("pulumi state unprotect (exit %d): %s", code, stderr)
		}
		apis, err := r.kube.RemoveUnavailableAPIServices(ctx)
		if err != nil {
			return "", err
		}
		hooks := r.completeHookJobs(ctx)
		res, err := s.Destroy(ctx, optdestroy.ProgressStreams(log), optdestroy.ErrorProgressStreams(log), optdestroy.SuppressProgress())
		completed, herr := hooks()
		if err != nil {
			return "", err
		}
		if herr != nil {
			return "", herr
		}
		what := counts(*res.Summary.ResourceChanges)
		if len(completed) > 0 {
			what += fmt.Sprintf(" (hook Jobs marked complete: %s)", strings.Join(completed, ", "))
		}
		if len(apis) > 0 {
			what += fmt.Sprintf(" (unavailable APIServices removed first: %s)", strings.Join(apis, ", "))
		}
		return what, nil
	})
}

// completeHookJobs completes Helm's hook Jobs (see
// kube.CompleteHookJobs) until the returned function is called; that
// returns the Jobs completed.
func (r *runner) completeHookJobs(ctx context.Context) func() ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	var done []string
	var err error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			var names []string
			if names, err = r.kube.CompleteHookJobs(ctx); err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				return
			}
			done = append(done, names...)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return func() ([]string, error) {
		cancel()
		<-finished
		return done, err
	}
}

// clusters checks what the fake holds: cluster name → pool count.
func (p *project) clusters(ctx context.Context, r *runner, want map[string]int) error {
	return p.step("clusters in the KaaS API", func(io.Writer) (string, error) {
		cls, err := r.kaas.Clusters(ctx)
		if err != nil {
			return "", err
		}
		got := map[string]int{}
		var parts []string
		for _, c := range cls {
			got[c.Name] = len(c.Pools)
			parts = append(parts, fmt.Sprintf("%s (%s, pools %s)", c.Name, c.Status, strings.Join(c.Pools, " ")))
		}
		if !maps.Equal(got, want) {
			return "", fmt.Errorf("clusters %v, want %v (name → pools)", got, want)
		}
		return strings.Join(parts, "; "), nil
	})
}
