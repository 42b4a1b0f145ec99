// Package configdoc generates the configuration reference from the config
// types of package stacks: their doc comments are the one source of what
// a key means and what it defaults to. It renders docs/configuration.md
// and the config descriptions of Pulumi.yaml (make docs); a test fails
// when either differs from what the types say.
package configdoc

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Types are what the reference is generated from (package stacks's).
type Types struct {
	// Config is the configuration's root type: its fields' config tags
	// are the keys, their json tags the paths below.
	Config reflect.Type
	// Secret is the type of the secret keys.
	Secret reflect.Type
	// Preset returns what a phase's presets fill in at a path
	// (stacks.PhaseDefault).
	Preset func(phase int, path string) (string, bool)
}

// Field is one configuration path and what its doc comment says.
type Field struct {
	// Path is the key path below the project namespace, e.g.
	// cluster.pools[].zone.
	Path string
	// Type is the value's type, e.g. list of objects.
	Type string
	// Default is the doc comment's "Default:" sentence, without it.
	Default string
	// Doc is the rest of the doc comment.
	Doc string
	// Secret marks a key set with --secret.
	Secret bool
}

// docs are the doc comments of struct types and their fields, by type name.
type docs map[string]map[string]string

// parse reads the doc comments of the structs in the Go files of dir.
func parse(dir string) (docs, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := docs{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				ts, ok := spec.(*ast.TypeSpec)
				if !ok {
					continue
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				fields := map[string]string{}
				for _, fl := range st.Fields.List {
					for _, name := range fl.Names {
						fields[name.Name] = text(fl.Doc)
					}
				}
				out[ts.Name.Name] = fields
			}
		}
	}
	return out, nil
}

// text joins a comment's lines into one paragraph.
func text(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return strings.Join(strings.Fields(g.Text()), " ")
}

// Fields walks the configuration from types.Config, reading doc comments
// from dir, the source of its package. Every path needs a doc comment.
func Fields(dir string, types Types) ([]Field, error) {
	d, err := parse(dir)
	if err != nil {
		return nil, err
	}
	w := &walker{docs: d, types: types}
	cfg := types.Config
	for i := range cfg.NumField() {
		f := cfg.Field(i)
		key := f.Tag.Get("config")
		if key == "" {
			continue
		}
		w.field(key, cfg.Name(), f)
	}
	if len(w.missing) > 0 {
		return nil, fmt.Errorf("configuration without a doc comment or a preset: %s", strings.Join(w.missing, ", "))
	}
	return w.out, nil
}

type walker struct {
	docs    docs
	types   Types
	out     []Field
	missing []string
}

func (w *walker) field(path, owner string, f reflect.StructField) {
	doc := w.docs[owner][f.Name]
	if doc == "" {
		w.missing = append(w.missing, path)
	}
	def, rest := splitDefault(strip(f.Name, doc))
	def, err := presetDefault(w.types.Preset, path, def)
	if err != nil {
		w.missing = append(w.missing, err.Error())
	}
	t := f.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	secret := t == w.types.Secret
	w.out = append(w.out, Field{Path: path, Type: typeName(t, w.types.Secret), Default: def, Doc: rest, Secret: secret})
	prefix := path
	for t.Kind() == reflect.Slice {
		prefix += "[]"
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || secret {
		return
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		w.field(prefix+"."+tag, t.Name(), sf)
	}
}

// typeName names a Go type as the configuration sees it.
func typeName(t, secretType reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == secretType:
		return "secret string"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return "list of objects"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem(), secretType) + "s"
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem(), secretType) + "s"
	case t.Kind() == reflect.Struct:
		return "object"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() == reflect.Int:
		return "integer"
	case t.Kind() == reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

// defaultSentence is a doc comment's "Default: …" or "Defaults: …"
// sentence: up to a full stop followed by a capital, or the end.
var defaultSentence = regexp.MustCompile(`(?:^|\s)Defaults?: (.+?)(?:\.(?:\s+[A-Z(]|$)|$)`)

// splitDefault takes the default out of a doc comment.
func splitDefault(doc string) (def, rest string) {
	loc := defaultSentence.FindStringSubmatchIndex(doc)
	if loc == nil {
		return "", doc
	}
	def = doc[loc[2]:loc[3]]
	end := loc[1]
	// Keep the capital that starts the next sentence.
	if end < len(doc) && doc[end-1] != '.' {
		end--
	}
	rest = strings.TrimSpace(doc[:loc[0]] + " " + doc[end:])
	return def, strings.TrimSpace(rest)
}

// strip drops "<Identifier> is " from a doc comment that defines its
// field ("Phase is the architecture phase" reads "The architecture
// phase" in the table, which names the key); others keep their subject.
func strip(name, doc string) string {
	for _, verb := range []string{" is ", " are "} {
		rest, ok := strings.CutPrefix(doc, name+verb)
		if ok && (strings.HasPrefix(rest, "the ") || strings.HasPrefix(rest, "a ") || strings.HasPrefix(rest, "an ")) {
			return strings.ToUpper(rest[:1]) + rest[1:]
		}
	}
	return doc
}

// Defaults that the presets compute: the doc comment names the rule, the
// presets give the values (stacks.PhaseDefault).
const (
	// byPreset: the phase's preset (the same in both, or each phase's).
	byPreset = "preset"
	// byNodeCount: the presets for one node (phase 1) and for several.
	byNodeCount = "by node count"
)

// presetDefault renders a rule-named default with the presets' values.
func presetDefault(preset func(int, string) (string, bool), path, def string) (string, error) {
	if def != byPreset && def != byNodeCount {
		return def, nil
	}
	one, ok1 := preset(1, path)
	two, ok2 := preset(2, path)
	switch {
	case !ok1 || !ok2:
		return "", fmt.Errorf("%s (its default is %q, but the presets set none)", path, def)
	case one == two:
		return "`" + one + "`", nil
	case def == byPreset:
		return fmt.Sprintf("`%s` in phase 1, `%s` in phase 2", one, two), nil
	}
	return fmt.Sprintf("`%s` on one node, `%s` on several", one, two), nil
}

// header opens docs/configuration.md.
const header = `# Configuration reference

<!-- Generated by make docs from the config types in stacks/ (their doc
comments are the one source): edit those, not this file. -->

All keys are in the ` + "`camps-infra`" + ` namespace. Structured values are set with
` + "`pulumi config set --path`" + `, e.g. ` + "`pulumi config set --path cluster.pools[0].maxInstances 3`" + `.
Unset fields take the preset of the stack's phase; explicit values always win.
Unknown fields are errors, so a misspelt key cannot be silently ignored.
Secret keys are set with ` + "`pulumi config set --secret`" + `: the program refuses them in
plain text, naming the key.

| key | type | default | meaning |
|---|---|---|---|
`

// Markdown renders docs/configuration.md.
func Markdown(fields []Field) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	for _, f := range fields {
		def := f.Default
		if def == "" {
			def = "—"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Path, f.Type, cell(def), cell(f.Doc))
	}
	return b.Bytes()
}

// cell escapes a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Project returns Pulumi.yaml with each key's description generated: the
// key's doc comment (its default included) and where its fields are. The
// rest of the file is kept as it is.
func Project(pulumiYAML []byte, fields []Field) ([]byte, error) {
	top := map[string]Field{}
	for _, f := range fields {
		if !strings.ContainsAny(f.Path, ".[") {
			top[f.Path] = f
		}
	}
	var out bytes.Buffer
	lines := strings.SplitAfter(string(pulumiYAML), "\n")
	key, inConfig := "", false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "config:"):
			inConfig = true
		case inConfig && len(line) > 2 && line[0] != ' ' && line[0] != '#':
			inConfig = false
		case inConfig && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(strings.TrimSpace(line), ":"):
			key = strings.TrimSuffix(strings.TrimSpace(line), ":")
			if _, ok := top[key]; !ok {
				return nil, fmt.Errorf("the project file declares %s, which no config type reads", key)
			}
		case inConfig && line == "    description: >-\n":
			f := top[key]
			delete(top, key)
			out.WriteString(line)
			for _, l := range wrap(description(f), 74) {
				out.WriteString("      " + l + "\n")
			}
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "      ") {
				i++
			}
			continue
		}
		out.WriteString(line)
	}
	for key := range top {
		return nil, fmt.Errorf("the project file does not declare %s with a folded description (description: >-)", key)
	}
	var check map[string]any
	if err := yaml.Unmarshal(out.Bytes(), &check); err != nil {
		return nil, fmt.Errorf("the generated Pulumi.yaml: %w", err)
	}
	return out.Bytes(), nil
}

// description is a key's description in Pulumi.yaml.
func description(f Field) string {
	text := f.Doc
	if f.Secret {
		text += " A secret: set it with --secret."
	}
	if f.Default != "" {
		text += " Default: " + strings.Trim(strings.TrimSuffix(f.Default, "."), "`") + "."
	}
	if f.Type == "object" || f.Type == "list of objects" {
		text += " Fields: docs/configuration.md."
	}
	return text
}

// wrap breaks text into lines of at most width characters, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// Files are the generated files, relative to the repository's root.
const (
	MarkdownFile = "docs/configuration.md"
	ProjectFile  = "Pulumi.yaml"
)

// Generate renders both files from the repository at root.
func Generate(root string, types Types) (markdown, project []byte, err error) {
	fields, err := Fields(filepath.Join(root, "stacks"), types)
	if err != nil {
		return nil, nil, err
	}
	current, err := os.ReadFile(filepath.Join(root, ProjectFile))
	if err != nil {
		return nil, nil, err
	}
	project, err = Project(current, fields)
	return Markdown(fields), project, err
}
