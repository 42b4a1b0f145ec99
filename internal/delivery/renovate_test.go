package delivery

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gitlab.com/camps-ch/infra/infra/kubeconfig"
)

// renovate is the part of renovate.json these tests read; unknown fields
// are refused, so a misspelt option fails here rather than being ignored.
type renovate struct {
	Schema              string          `json:"$schema"`
	Extends             []string        `json:"extends"`
	Timezone            string          `json:"timezone"`
	Schedule            []string        `json:"schedule"`
	Labels              []string        `json:"labels"`
	DependencyDashboard bool            `json:"dependencyDashboard"`
	Automerge           bool            `json:"automerge"`
	PostUpdateOptions   []string        `json:"postUpdateOptions"`
	CustomManagers      []customManager `json:"customManagers"`
	PackageRules        []packageRule   `json:"packageRules"`
}

type customManager struct {
	CustomType             string   `json:"customType"`
	Description            string   `json:"description"`
	ManagerFilePatterns    []string `json:"managerFilePatterns"`
	MatchStrings           []string `json:"matchStrings"`
	DatasourceTemplate     string   `json:"datasourceTemplate"`
	DepNameTemplate        string   `json:"depNameTemplate"`
	PackageNameTemplate    string   `json:"packageNameTemplate"`
	ExtractVersionTemplate string   `json:"extractVersionTemplate"`
}

type packageRule struct {
	Description                 string   `json:"description"`
	MatchUpdateTypes            []string `json:"matchUpdateTypes"`
	MatchPackageNames           []string `json:"matchPackageNames"`
	MatchManagers               []string `json:"matchManagers"`
	MatchDatasources            []string `json:"matchDatasources"`
	MatchDepNames               []string `json:"matchDepNames"`
	MatchFileNames              []string `json:"matchFileNames"`
	Automerge                   *bool    `json:"automerge"`
	DependencyDashboardApproval bool     `json:"dependencyDashboardApproval"`
	GroupName                   string   `json:"groupName"`
	Labels                      []string `json:"labels"`
	PRBodyNotes                 []string `json:"prBodyNotes"`
}

func loadRenovate(t *testing.T) renovate {
	t.Helper()
	b, err := os.ReadFile(root + "/renovate.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r renovate
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("renovate.json: %v", err)
	}
	return r
}

// pattern turns Renovate's "/regex/" file pattern into a Go regexp.
func pattern(t *testing.T, p string) *regexp.Regexp {
	t.Helper()
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
		t.Fatalf("file pattern %q is not /regex/", p)
	}
	return regexp.MustCompile(p[1 : len(p)-1])
}

func TestRenovateNeverAutomergesMajors(t *testing.T) {
	r := loadRenovate(t)
	if r.Automerge {
		t.Error("automerge is on")
	}
	for _, rule := range r.PackageRules {
		if rule.Automerge != nil && *rule.Automerge && !(len(rule.MatchUpdateTypes) > 0 && !containsStr(rule.MatchUpdateTypes, "major")) {
			t.Errorf("rule %q automerges majors", rule.Description)
		}
	}
	found := false
	for _, rule := range r.PackageRules {
		found = found || (containsStr(rule.MatchUpdateTypes, "major") && rule.DependencyDashboardApproval)
	}
	if !found {
		t.Error("majors do not wait for approval")
	}
}

func containsStr(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// pinnedChart is a helm.Chart literal with a version, found in the code.
type pinnedChart struct {
	file, name, version, repository string
}

// pinnedCharts finds every helm.Chart{...} literal under infra/ that pins
// a version.
func pinnedCharts(t *testing.T) []pinnedChart {
	t.Helper()
	var out []pinnedChart
	fset := token.NewFileSet()
	err := filepath.WalkDir(root+"/infra", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Chart" {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "helm" {
				return true
			}
			c := pinnedChart{file: strings.TrimPrefix(path, root+"/")}
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				b, ok := kv.Value.(*ast.BasicLit)
				if !ok {
					continue
				}
				v, _ := strconv.Unquote(b.Value)
				switch kv.Key.(*ast.Ident).Name {
				case "Name":
					c.name = v
				case "Version":
					c.version = v
				case "Repository":
					c.repository = v
				}
			}
			if c.version != "" {
				out = append(out, c)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRenovateFindsEveryPinnedChart applies the regex managers to the Go
// files as Renovate would and requires each pinned chart to be found with
// its name, version and source.
func TestRenovateFindsEveryPinnedChart(t *testing.T) {
	r := loadRenovate(t)
	charts := pinnedCharts(t)
	if len(charts) < 5 {
		t.Fatalf("found %d pinned charts in infra/, want at least 5", len(charts))
	}
	for _, c := range charts {
		src, err := os.ReadFile(root + "/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, m := range r.CustomManagers {
			matchesFile := false
			for _, p := range m.ManagerFilePatterns {
				matchesFile = matchesFile || pattern(t, p).MatchString(c.file)
			}
			if !matchesFile {
				continue
			}
			for _, ms := range m.MatchStrings {
				re := regexp.MustCompile(ms) // Renovate's (?<name>) groups are Go's too
				for _, sub := range re.FindAllStringSubmatch(string(src), -1) {
					g := map[string]string{}
					for i, n := range re.SubexpNames() {
						if n != "" {
							g[n] = sub[i]
						}
					}
					if g["depName"] != c.name {
						continue
					}
					source := g["registryUrl"]
					if g["packageName"] != "" {
						source = "oci://" + g["packageName"]
					}
					if g["currentValue"] == c.version && source == c.repository && m.DatasourceTemplate != "" {
						found = append(found, m.DatasourceTemplate)
					}
				}
			}
		}
		want := "helm"
		if strings.HasPrefix(c.repository, "oci://") {
			want = "docker"
		}
		if len(found) != 1 || found[0] != want {
			t.Errorf("%s: chart %s %s from %s found by %v, want exactly one %s manager", c.file, c.name, c.version, c.repository, found, want)
		}
	}
}

// TestRenovateFindsThePipelineTools: the Pulumi CLI and the Go image of
// the pipeline are found at their pinned versions.
func TestRenovateFindsThePipelineTools(t *testing.T) {
	r := loadRenovate(t)
	ci, err := os.ReadFile(root + "/.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	p := loadPipeline(t)
	want := map[string]string{
		"pulumi/pulumi": p.variables["PULUMI_VERSION"].(string),
		"golang":        strings.TrimPrefix(p.variables["GO_IMAGE"].(string), "golang:"),
	}
	got := map[string]string{}
	for _, m := range r.CustomManagers {
		for _, fp := range m.ManagerFilePatterns {
			if !pattern(t, fp).MatchString(".gitlab-ci.yml") {
				continue
			}
			for _, ms := range m.MatchStrings {
				re := regexp.MustCompile(ms)
				sub := re.FindStringSubmatch(string(ci))
				if sub == nil {
					t.Errorf("manager %q matches nothing in .gitlab-ci.yml", m.Description)
					continue
				}
				dep := m.DepNameTemplate
				if i := re.SubexpIndex("depName"); i > 0 {
					dep = sub[i]
				}
				got[dep] = sub[re.SubexpIndex("currentValue")]
			}
		}
	}
	for dep, v := range want {
		if got[dep] != v {
			t.Errorf("Renovate reads %s at %q, the pipeline pins %q", dep, got[dep], v)
		}
	}
}

// managersOf returns the custom managers whose file patterns match file.
func managersOf(t *testing.T, r renovate, file string) []customManager {
	t.Helper()
	var out []customManager
	for _, m := range r.CustomManagers {
		for _, p := range m.ManagerFilePatterns {
			if pattern(t, p).MatchString(file) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// TestRenovateSkipsTestFiles: a test's fixture (a chart, an image) is not
// a pin; a manager reading it would rewrite the fixture and break the test.
func TestRenovateSkipsTestFiles(t *testing.T) {
	r := loadRenovate(t)
	tests, code := 0, 0
	err := filepath.WalkDir(root+"/infra", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		file := strings.TrimPrefix(path, root+"/")
		ms := managersOf(t, r, file)
		switch {
		case strings.HasSuffix(file, "_test.go"):
			tests++
			for _, m := range ms {
				t.Errorf("manager %q reads the test file %s", m.Description, file)
			}
		case len(ms) == 0:
			t.Errorf("no manager reads %s", file)
		default:
			code++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tests == 0 || code == 0 {
		t.Fatalf("walked %d test files and %d others under infra/", tests, code)
	}
}

// TestRenovateFindsThePinnedImages: every image constant in infra/
// (XImage = "registry/name:tag") is found with its version.
func TestRenovateFindsThePinnedImages(t *testing.T) {
	r := loadRenovate(t)
	constant := regexp.MustCompile(`(?m)^const \w+Image = "([^":]+):([^"]+)"`)
	images := 0
	err := filepath.WalkDir(root+"/infra", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		file := strings.TrimPrefix(path, root+"/")
		for _, c := range constant.FindAllStringSubmatch(string(src), -1) {
			images++
			found := false
			for _, m := range managersOf(t, r, file) {
				for _, ms := range m.MatchStrings {
					re := regexp.MustCompile(ms)
					for _, sub := range re.FindAllStringSubmatch(string(src), -1) {
						if re.SubexpIndex("depName") > 0 && sub[re.SubexpIndex("depName")] == c[1] &&
							sub[re.SubexpIndex("currentValue")] == c[2] && m.DatasourceTemplate == "docker" {
							found = true
						}
					}
				}
			}
			if !found {
				t.Errorf("%s: image %s:%s is found by no docker manager", file, c[1], c[2])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if images < 2 {
		t.Fatalf("found %d image constants in infra/, want PostgreSQL's and rclone's", images)
	}
}

// TestRenovateGroupsTheModules: the provider module, pinned by
// pulumi-go-provider to an older SDK, is not in the Pulumi group (the
// last matching rule wins); the e2e's Kubernetes moves as one.
func TestRenovateGroupsTheModules(t *testing.T) {
	r := loadRenovate(t)
	group := func(file, pkg string) string {
		g := ""
		for _, rule := range r.PackageRules {
			if len(rule.MatchFileNames) > 0 && !containsStr(rule.MatchFileNames, file) {
				continue
			}
			if len(rule.MatchPackageNames) > 0 && !matchesAny(t, rule.MatchPackageNames, pkg) {
				continue
			}
			if len(rule.MatchManagers)+len(rule.MatchDatasources)+len(rule.MatchDepNames)+len(rule.MatchUpdateTypes) > 0 {
				continue
			}
			if rule.GroupName != "" {
				g = rule.GroupName
			}
		}
		return g
	}
	for _, tt := range []struct{ file, pkg, want string }{
		{"go.mod", "github.com/pulumi/pulumi/sdk/v3", "Pulumi"},
		{"e2e/tools/pulumi/go.mod", "github.com/pulumi/pulumi/pkg/v3", "Pulumi"},
		{"provider/go.mod", "github.com/pulumi/pulumi/sdk/v3", "provider module"},
		{"provider/go.mod", "github.com/pulumi/pulumi-go-provider", "provider module"},
		{"e2e/tools/kubernetes/go.mod", "k8s.io/kubernetes", "e2e Kubernetes"},
	} {
		if got := group(tt.file, tt.pkg); got != tt.want {
			t.Errorf("%s in %s: group %q, want %q", tt.pkg, tt.file, got, tt.want)
		}
	}
}

// matchesAny applies Renovate's package name matchers: "/regex/" or the name.
func matchesAny(t *testing.T, matchers []string, name string) bool {
	for _, m := range matchers {
		if strings.HasPrefix(m, "/") && pattern(t, m).MatchString(name) || m == name {
			return true
		}
	}
	return false
}

// TestRenovateFindsTheToolsPinnedInCode: the kubelogin version the people's
// kubeconfig names is read by Renovate as the constant holds it.
func TestRenovateFindsTheToolsPinnedInCode(t *testing.T) {
	r := loadRenovate(t)
	const file = "infra/kubeconfig/kubeconfig.go"
	src, err := os.ReadFile(root + "/" + file)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range managersOf(t, r, file) {
		for _, ms := range m.MatchStrings {
			re := regexp.MustCompile(ms)
			sub := re.FindStringSubmatch(string(src))
			if sub == nil || re.SubexpIndex("depName") < 0 || sub[re.SubexpIndex("depName")] != "int128/kubelogin" {
				continue
			}
			found = true
			if got := sub[re.SubexpIndex("currentValue")]; got != kubeconfig.KubeloginVersion {
				t.Errorf("Renovate reads kubelogin at %q, the code pins %q", got, kubeconfig.KubeloginVersion)
			}
			if sub[re.SubexpIndex("datasource")] != "github-releases" {
				t.Errorf("datasource %q", sub[re.SubexpIndex("datasource")])
			}
		}
	}
	if !found {
		t.Errorf("no manager reads kubelogin's version in %s", file)
	}
}
