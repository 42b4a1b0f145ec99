package delivery

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const root = "../.."

// job is the part of a GitLab job these tests read.
type job struct {
	Stage        string           `yaml:"stage"`
	Extends      any              `yaml:"extends"`
	Needs        []any            `yaml:"needs"`
	Rules        []map[string]any `yaml:"rules"`
	Script       []string         `yaml:"script"`
	BeforeScript []string         `yaml:"before_script"`
	Environment  map[string]any   `yaml:"environment"`
	Variables    map[string]any   `yaml:"variables"`
	Artifacts    map[string]any   `yaml:"artifacts"`
	Resource     string           `yaml:"resource_group"`
}

// reserved top-level keys are not jobs.
var reserved = []string{"workflow", "stages", "variables", "default", "include", "image", "services", "cache", "before_script", "after_script"}

type pipeline struct {
	stages    []string
	variables map[string]any
	jobs      map[string]job // resolved, hidden templates excluded
}

func loadPipeline(t *testing.T) pipeline {
	t.Helper()
	b, err := os.ReadFile(root + "/.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(b, &top); err != nil {
		t.Fatalf(".gitlab-ci.yml: %v", err)
	}
	p := pipeline{jobs: map[string]job{}}
	if n, ok := top["stages"]; ok {
		if err := n.Decode(&p.stages); err != nil {
			t.Fatal(err)
		}
	}
	if n, ok := top["variables"]; ok {
		if err := n.Decode(&p.variables); err != nil {
			t.Fatal(err)
		}
	}
	raw := map[string]job{}
	for name, n := range top {
		if slices.Contains(reserved, name) {
			continue
		}
		var j job
		if err := n.Decode(&j); err != nil {
			t.Fatalf("job %s: %v", name, err)
		}
		raw[name] = j
	}
	var resolve func(name string, seen []string) job
	resolve = func(name string, seen []string) job {
		j, ok := raw[name]
		if !ok {
			t.Fatalf("%v extends %s, which does not exist", seen, name)
		}
		if slices.Contains(seen, name) {
			t.Fatalf("extends cycle %v", append(seen, name))
		}
		var parents []string
		switch e := j.Extends.(type) {
		case string:
			parents = []string{e}
		case []any:
			for _, p := range e {
				parents = append(parents, p.(string))
			}
		}
		out := job{}
		for _, parent := range parents {
			merge(&out, resolve(parent, append(seen, name)))
		}
		merge(&out, j)
		return out
	}
	for name := range raw {
		if !strings.HasPrefix(name, ".") {
			p.jobs[name] = resolve(name, nil)
		}
	}
	return p
}

// merge lays the keys set in child over base, as extends does.
func merge(base *job, child job) {
	if child.Stage != "" {
		base.Stage = child.Stage
	}
	if child.Needs != nil {
		base.Needs = child.Needs
	}
	if child.Rules != nil {
		base.Rules = child.Rules
	}
	if child.Script != nil {
		base.Script = child.Script
	}
	if child.BeforeScript != nil {
		base.BeforeScript = child.BeforeScript
	}
	if child.Environment != nil {
		base.Environment = child.Environment
	}
	if child.Artifacts != nil {
		base.Artifacts = child.Artifacts
	}
	if child.Resource != "" {
		base.Resource = child.Resource
	}
	if base.Variables == nil {
		base.Variables = map[string]any{}
	}
	for k, v := range child.Variables {
		base.Variables[k] = v
	}
}

// kinds are the pipelines a job runs in: mr, main, schedule.
func (j job) kinds() []string {
	var out []string
	for _, r := range j.Rules {
		cond, _ := r["if"].(string)
		if r["when"] == "never" {
			continue
		}
		switch {
		case strings.Contains(cond, `"merge_request_event"`):
			out = append(out, "mr")
		case strings.Contains(cond, `"schedule"`):
			out = append(out, "schedule")
		case strings.Contains(cond, "$CI_DEFAULT_BRANCH"):
			out = append(out, "main")
		}
	}
	return out
}

func (j job) manual() bool {
	for _, r := range j.Rules {
		if r["when"] != "manual" {
			return false
		}
	}
	return len(j.Rules) > 0
}

func (j job) needs() []string {
	var out []string
	for _, n := range j.Needs {
		switch v := n.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			out = append(out, v["job"].(string))
		}
	}
	return out
}

func TestPipelineIsConsistent(t *testing.T) {
	p := loadPipeline(t)
	if len(p.jobs) < 10 {
		t.Fatalf("only %d jobs", len(p.jobs))
	}
	for name, j := range p.jobs {
		at := slices.Index(p.stages, j.Stage)
		if at < 0 {
			t.Errorf("job %s: stage %q is not one of %v", name, j.Stage, p.stages)
		}
		if len(j.kinds()) == 0 {
			t.Errorf("job %s has no rules saying which pipelines it runs in", name)
		}
		if len(j.Script) == 0 {
			t.Errorf("job %s has no script", name)
		}
		for _, need := range j.needs() {
			n, ok := p.jobs[need]
			if !ok {
				t.Errorf("job %s needs %s, which does not exist", name, need)
				continue
			}
			if slices.Index(p.stages, n.Stage) > at {
				t.Errorf("job %s (stage %s) needs %s of a later stage %s", name, j.Stage, need, n.Stage)
			}
			for _, k := range j.kinds() {
				if !slices.Contains(n.kinds(), k) {
					t.Errorf("job %s runs in %s pipelines, but %s, which it needs, does not", name, k, need)
				}
			}
		}
	}
}

// makeCall finds `make <target>` in a script line.
var makeCall = regexp.MustCompile(`(?:^|[;&|]\s*)make\s+([a-z][a-z0-9-]*)`)

func TestJobsCallExistingMakeTargets(t *testing.T) {
	b, err := os.ReadFile(root + "/Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(b), -1) {
		targets[m[1]] = true
	}
	p := loadPipeline(t)
	calls := 0
	for name, j := range p.jobs {
		for _, line := range append(append([]string{}, j.BeforeScript...), j.Script...) {
			for _, m := range makeCall.FindAllStringSubmatch(line, -1) {
				calls++
				if !targets[m[1]] {
					t.Errorf("job %s calls make %s, which the Makefile does not define", name, m[1])
				}
			}
		}
	}
	if calls < 6 {
		t.Errorf("only %d make calls found", calls)
	}
}

// TestDeliveryFlow checks what the pipeline is for: previews of both
// stacks on merge requests, posted as notes; manual ups on main, prod
// after uat; drift per stack on schedules; pinned tools.
func TestDeliveryFlow(t *testing.T) {
	p := loadPipeline(t)
	script := func(name string) string {
		j := p.jobs[name]
		return strings.Join(append(append([]string{}, j.BeforeScript...), j.Script...), "\n")
	}
	for _, stack := range []string{"uat", "prod"} {
		preview, ok := p.jobs["preview-"+stack]
		if !ok {
			t.Fatalf("no preview-%s job", stack)
		}
		if !slices.Equal(preview.kinds(), []string{"mr"}) || preview.Variables["STACK"] != stack {
			t.Errorf("preview-%s runs in %v for %v", stack, preview.kinds(), preview.Variables["STACK"])
		}
		s := script("preview-" + stack)
		for _, want := range []string{`pulumi preview --stack "$STACK" --diff`, "make comment", "pulumi login"} {
			if !strings.Contains(s, want) {
				t.Errorf("preview-%s does not run %q", stack, want)
			}
		}
		for _, need := range []string{"build", "lint", "test", "policy"} {
			if !slices.Contains(preview.needs(), need) {
				t.Errorf("preview-%s does not wait for %s", stack, need)
			}
		}

		up, ok := p.jobs["up-"+stack]
		if !ok {
			t.Fatalf("no up-%s job", stack)
		}
		if !slices.Equal(up.kinds(), []string{"main"}) || !up.manual() || up.Environment["name"] == nil || up.Resource == "" {
			t.Errorf("up-%s: kinds %v, manual %v, environment %v, resource group %q", stack, up.kinds(), up.manual(), up.Environment, up.Resource)
		}
		if !strings.Contains(script("up-"+stack), `pulumi up --stack "$STACK"`) || up.Variables["STACK"] != stack {
			t.Errorf("up-%s does not deploy its stack", stack)
		}

		// A load test per stack, on demand only, judged by the stack's
		// own objectives.
		lt, ok := p.jobs["loadtest-"+stack]
		if !ok {
			t.Fatalf("no loadtest-%s job", stack)
		}
		if !slices.Equal(lt.kinds(), []string{"main"}) || !lt.manual() || lt.Variables["STACK"] != stack ||
			!strings.Contains(script("loadtest-"+stack), `make loadtest STACK="$STACK"`) {
			t.Errorf("loadtest-%s: kinds %v, manual %v, stack %v, script %q", stack, lt.kinds(), lt.manual(), lt.Variables["STACK"], script("loadtest-"+stack))
		}

		drift, ok := p.jobs["drift-"+stack]
		if !ok {
			t.Fatalf("no drift-%s job", stack)
		}
		if !slices.Equal(drift.kinds(), []string{"schedule"}) || drift.Variables["STACK"] != stack || drift.Resource != up.Resource {
			t.Errorf("drift-%s: kinds %v, stack %v, resource group %q", stack, drift.kinds(), drift.Variables["STACK"], drift.Resource)
		}
		// Without the up's environment, the drift job sees none of the
		// variables scoped to it and fails on every schedule.
		if drift.Environment["name"] != up.Environment["name"] || drift.Environment["action"] != "verify" {
			t.Errorf("drift-%s: environment %v, want %v with action verify", stack, drift.Environment, up.Environment["name"])
		}
	}
	notify, ok := p.jobs["drift-notify"]
	if !ok || len(notify.Rules) != 1 || notify.Rules[0]["when"] != "on_failure" ||
		!slices.Contains(notify.needs(), "drift-uat") || !slices.Contains(notify.needs(), "drift-prod") ||
		!strings.Contains(script("drift-notify"), "$DRIFT_WEBHOOK_URL") {
		t.Errorf("drift does not notify the team's chat when a drift job fails: %+v", notify)
	}
	for _, stack := range []string{"uat", "prod"} {
		if env := p.jobs["preview-"+stack].Environment; env["name"] != "preview" || env["action"] != "prepare" {
			t.Errorf("preview-%s does not take the preview environment's read-only credentials: %v", stack, env)
		}
	}
	if !slices.Contains(p.jobs["up-prod"].needs(), "up-uat") {
		t.Error("up-prod does not wait for up-uat")
	}
	if env := p.jobs["up-prod"].Environment["name"]; env != "production" {
		t.Errorf("up-prod's environment is %v, want production (protected, with approval)", env)
	}
	b, err := os.ReadFile(root + "/Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "pulumi refresh --stack $(STACK) --preview-only --expect-no-changes") {
		t.Error("make drift is not a refresh preview that fails on changes")
	}

	// The provider binary is built in the pipeline where Pulumi.yaml looks for it.
	project, err := os.ReadFile(root + "/Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := p.jobs["build"].Artifacts["paths"].([]any)
	if !strings.Contains(string(project), "path: ./bin") || len(paths) == 0 || paths[0] != "bin/pulumi-resource-infomaniak" {
		t.Errorf("the build job's artifacts %v are not the provider binary Pulumi.yaml loads from ./bin", paths)
	}

	// Pinned tools: the Pulumi CLI is the Go SDK's version.
	gomod, err := os.ReadFile(root + "/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	sdk := regexp.MustCompile(`github.com/pulumi/pulumi/sdk/v3 v([0-9.]+)`).FindSubmatch(gomod)
	if sdk == nil || p.variables["PULUMI_VERSION"] != string(sdk[1]) {
		t.Errorf("PULUMI_VERSION %v is not the Pulumi SDK's version %s", p.variables["PULUMI_VERSION"], sdk)
	}
	if img, _ := p.variables["GO_IMAGE"].(string); !regexp.MustCompile(`^golang:1\.26\.[0-9]+-bookworm$`).MatchString(img) {
		t.Errorf("GO_IMAGE %q is not a pinned Go 1.26 image", img)
	}
}

// maskable is GitLab's rule for a masked variable's value: one line of 8
// characters or more from the Base64 alphabet (RFC 4648, with its URL-safe
// variant) and @ : . ~.
var maskable = regexp.MustCompile(`^[A-Za-z0-9+/=_@:.~-]{8,}$`)

// TestMaskedVariablesAreMaskable: every variable the pipeline documents
// as masked has an example value GitLab accepts as masked; a variable
// whose values GitLab cannot mask is documented as plain, not secret.
func TestMaskedVariablesAreMaskable(t *testing.T) {
	b, err := os.ReadFile(root + "/.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^#   ([A-Z][A-Z0-9_]+)\s+(masked|plain)\s+.*\(e\.g\. ([^ )]+)`)
	vars := map[string]bool{}
	for _, m := range line.FindAllStringSubmatch(string(b), -1) {
		name, masked, example := m[1], m[2] == "masked", m[3]
		vars[name] = true
		if masked && !maskable.MatchString(example) {
			t.Errorf("%s is documented as masked, but GitLab cannot mask a value like %q", name, example)
		}
		if !masked && strings.Contains(strings.ToLower(name), "token") {
			t.Errorf("%s is a token documented as plain", name)
		}
	}
	for _, name := range []string{"PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "INFOMANIAK_TOKEN", "CLOUDFLARE_API_TOKEN", "GITLAB_COMMENT_TOKEN", "DRIFT_WEBHOOK_URL"} {
		if !vars[name] {
			t.Errorf("the pipeline does not document %s (name, masked or plain, an example)", name)
		}
	}
	if !strings.Contains(string(b), "role Reporter") || !strings.Contains(string(b), "expiry") {
		t.Error("the comment token's least scope (Reporter, an expiry) is not documented")
	}
}
