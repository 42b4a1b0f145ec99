package stacks_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var tokenPattern = regexp.MustCompile(`^camps:([a-z]+):([A-Z][A-Za-z0-9]*)$`)

// TestComponentContract checks DESIGN.md's component contract in the
// source of every infra package: one unique camps:<package>:<Type> token
// constant per component, every constructor that registers a component
// also registers its outputs, and no component reads configuration.
func TestComponentContract(t *testing.T) {
	tokens := map[string]string{}
	err := filepath.WalkDir("../infra", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasSuffix(p, "/pulumi/config") {
				t.Errorf("%s reads configuration: components take everything through their args", path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				s, err := strconv.Unquote(n.Value)
				if n.Kind != token.STRING || err != nil || !strings.HasPrefix(s, "camps:") {
					return true
				}
				m := tokenPattern.FindStringSubmatch(s)
				switch {
				case m == nil:
					t.Errorf("%s: token %q is not camps:<package>:<Type>", path, s)
				case m[1] != f.Name.Name:
					t.Errorf("%s: token %q names package %s, it is in %s", path, s, m[1], f.Name.Name)
				case tokens[s] != "":
					t.Errorf("%s: token %q is also declared in %s", path, s, tokens[s])
				}
				tokens[s] = path
			case *ast.FuncDecl:
				if calls(n, "RegisterComponentResource") && !calls(n, "RegisterResourceOutputs") {
					t.Errorf("%s: %s registers a component but not its outputs", path, n.Name.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) < 2 {
		t.Fatalf("found %d component tokens; the walk is broken", len(tokens))
	}
	// Every component the program registers has a declared token.
	for _, opts := range variants() {
		res := mustRun(t, opts)
		for _, r := range res.Recorder.Resources() {
			if !r.Custom && tokens[r.Type] == "" {
				t.Errorf("component %s %s has no token constant in infra/", r.Type, r.Name)
			}
		}
	}
}

func calls(fn *ast.FuncDecl, method string) bool {
	found := false
	ast.Inspect(fn, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == method {
			found = true
		}
		return !found
	})
	return found
}

// The design's two kinds of infra packages: components (what a stack
// composes) and building blocks (what components are built from).
var (
	components     = []string{"cluster", "data", "edge", "observability", "platform", "security", "tenancy"}
	buildingBlocks = []string{"cloudflareip", "convention", "customresource", "externalsecret", "helm", "infomaniak", "kubeconfig", "netpol", "openstackcloud"}
)

// TestComponentsStandAlone checks the import rule over infra/: a component
// imports building blocks, never another component, and a building block
// imports no component. A value two components share flows through stacks.
func TestComponentsStandAlone(t *testing.T) {
	dirs, err := os.ReadDir("../infra")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "gitlab.com/camps-ch/infra/infra/"
	checked := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		pkg := d.Name()
		isComponent := slices.Contains(components, pkg)
		if !isComponent && !slices.Contains(buildingBlocks, pkg) {
			t.Errorf("infra/%s is neither a component nor a building block: classify it here", pkg)
			continue
		}
		files, err := filepath.Glob(filepath.Join("../infra", pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				other, ok := strings.CutPrefix(p, prefix)
				if !ok || !slices.Contains(components, other) {
					continue
				}
				if isComponent {
					t.Errorf("%s: component %s imports component %s: pass what they share through stacks, or move it to a building block", path, pkg, other)
				} else {
					t.Errorf("%s: building block %s imports component %s", path, pkg, other)
				}
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("checked %d files under infra/; the walk is broken", checked)
	}
}
