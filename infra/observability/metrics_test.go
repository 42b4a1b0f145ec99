package observability

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
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

func TestPrintUsedMetrics(t *testing.T) {
	used := usedMetrics(t)
	for _, m := range slices.Sorted(maps.Keys(used)) {
		t.Logf("%s\t%v", m, used[m])
	}
}
