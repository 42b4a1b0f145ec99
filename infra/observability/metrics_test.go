package observability

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// usedMetrics are the metric names the rules and dashboards select, by
// where they are used; the rules' own recorded series are left out.
func usedMetrics(t *testing.T) map[string][]string {
	t.Helper()
	recorded := map[string]bool{}
	for _, g := range allGroups() {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	used := map[string][]string{}
	add := func(where, expr string) {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "" && !recorded[vs.Name] {
				if !slices.Contains(used[vs.Name], where) {
					used[vs.Name] = append(used[vs.Name], where)
				}
			}
			return nil
		})
	}
	for _, g := range allGroups() {
		for _, r := range g.Rules {
			add("rule "+g.Name+"/"+r.Record+r.Alert, r.Expr)
		}
	}
	boards, err := Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	labelValues := regexp.MustCompile(`^label_values\((.+), *[a-z_]+\)$`)
	for _, d := range boards {
		var model struct {
			Panels []struct {
				Title   string
				Targets []struct{ Expr string }
			}
			Templating struct{ List []struct{ Query string } }
		}
		if err := json.Unmarshal([]byte(d.JSON), &model); err != nil {
			t.Fatal(err)
		}
		for _, p := range model.Panels {
			for _, tg := range p.Targets {
				add("dashboard "+d.Name+"/"+p.Title, grafanaVariables.Replace(tg.Expr))
			}
		}
		for _, v := range model.Templating.List {
			if m := labelValues.FindStringSubmatch(v.Query); m != nil {
				add("dashboard "+d.Name+" variable", m[1])
			}
		}
	}
	return used
}

// catalogue reads testdata/metrics.tsv: the metrics the pinned exporters
// emit, each with the source file that defines it at the pinned version.
func catalogue(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("testdata/metrics.tsv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 5 || f[0] == "" || f[4] == "" || strings.HasPrefix(f[4], "MISSING") {
			t.Fatalf("testdata/metrics.tsv line %d: want metric, exporter, version, repository, source: %q", i+2, line)
		}
		out[f[0]] = f[1] + " " + f[2]
	}
	return out
}

// TestEveryMetricExists: every metric a rule or a dashboard selects is in
// the catalogue of what the pinned exporters emit. A chart upgrade that
// renames a metric fails here (once the catalogue is read again from the
// new sources) instead of emptying a panel or silencing an alert.
func TestEveryMetricExists(t *testing.T) {
	known := catalogue(t)
	used := usedMetrics(t)
	if len(used) < 40 {
		t.Fatalf("found %d metrics in the rules and dashboards; the walk is broken", len(used))
	}
	for _, m := range slices.Sorted(maps.Keys(used)) {
		if _, ok := known[m]; !ok {
			t.Errorf("%s is in no exporter's catalogue (testdata/metrics.tsv); used by %s", m, strings.Join(used[m], ", "))
		}
	}
}
