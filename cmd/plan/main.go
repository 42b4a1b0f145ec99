// Command plan prints the offline plan of a stack: what the real program
// would register for it, under mocks, with no credentials and no network.
//
//	go run ./cmd/plan -stack uat
//	go run ./cmd/plan -stack uat -format json
//	go run ./cmd/plan -stack prod -format mermaid
//	go run ./cmd/plan -stack prod -set camps-infra:phase=2
//	go run ./cmd/plan -stack prod -policy   (check the policies; exit 1 on a violation)
//	go run ./cmd/plan -stack prod -format json > before.json
//	go run ./cmd/plan -stack prod -set camps-infra:phase=2 -compare before.json
//	                                        (what going from before.json to this plan changes)
//
// Secrets an operator sets before the first `pulumi up` are stood in for by
// test values and printed as [secret].
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gitlab.com/camps-ch/infra/internal/plan"
	"gitlab.com/camps-ch/infra/internal/policy"
	"gitlab.com/camps-ch/infra/internal/stackrun"
	"gitlab.com/camps-ch/infra/stacks"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		os.Exit(1)
	}
}

func run(args []string, w, errw io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(errw)
	stack := fs.String("stack", "", "stack to plan: uat or prod")
	format := fs.String("format", "text", "output format: text, json or mermaid")
	dir := fs.String("dir", ".", "project directory (holding Pulumi.yaml)")
	checkPolicies := fs.Bool("policy", false, "check the plan against the policies instead of printing it; fail on a violation")
	compare := fs.String("compare", "", "a plan printed with -format json: print what going from it to this plan creates, updates, replaces and deletes")
	var forget stringList
	fs.Var(&forget, "forget", "with -compare: a URN the state forgets first, with its children and dependents, as pulumi state delete --target-dependents (repeatable)")
	overrides := stackrun.Sets{}
	fs.Var(overrides, "set", "override a config value for this plan only, KEY=VALUE (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stack == "" {
		return errors.New("-stack is required")
	}
	if len(forget) > 0 && *compare == "" {
		return errors.New("-forget needs -compare: it removes URNs from the plan compared with")
	}
	if *format != "text" && *format != "json" && *format != "mermaid" {
		return fmt.Errorf("-format %q: use text, json or mermaid", *format)
	}
	res, err := stackrun.Run(stackrun.Options{Dir: *dir, Stack: *stack, Set: overrides, Secrets: stackrun.OperatorValues()})
	if err != nil {
		return err
	}
	if *checkPolicies {
		return checkPlan(w, *stack, overrides, policy.Plan{Resources: res.Recorder.Resources(), Outputs: res.Outputs})
	}
	g := plan.NewGraph(res.Recorder.Resources())
	if *compare != "" {
		return comparePlans(w, *compare, forget, plan.NewDocument(*stack, g, res.Outputs, nil))
	}
	var budget *stacks.Budget
	if cfg := res.Deployment.Config; *cfg.Platform.Install {
		b := cfg.Budget()
		budget = &b
	}
	switch *format {
	case "json":
		if budget == nil {
			return plan.JSON(w, *stack, g, res.Outputs, nil)
		}
		return plan.JSON(w, *stack, g, res.Outputs, budget)
	case "mermaid":
		return plan.Mermaid(w, g)
	}
	if budget == nil {
		return plan.Text(w, *stack, g, res.Outputs, nil)
	}
	return plan.Text(w, *stack, g, res.Outputs, budget)
}

// errViolations is returned when a plan breaks a policy.
var errViolations = errors.New("policy violations")

// checkPlan prints each policy's verdict and every violation.
func checkPlan(w io.Writer, stack string, overrides stackrun.Sets, p policy.Plan) error {
	violations := policy.Check(p)
	fmt.Fprintf(w, "policies of stack %s %v: %d resources, %d violations\n", stack, overrides, len(p.Resources), len(violations))
	for _, v := range violations {
		fmt.Fprintln(w, "  FAIL", v)
	}
	if len(violations) > 0 {
		return fmt.Errorf("stack %s: %w (%d)", stack, errViolations, len(violations))
	}
	for _, p := range policy.Policies {
		fmt.Fprintf(w, "  ok   %s: %s\n", p.Name, p.Description)
	}
	for _, p := range policy.PlanPolicies {
		fmt.Fprintf(w, "  ok   %s: %s\n", p.Name, p.Description)
	}
	return nil
}

// stringList collects a repeated flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// comparePlans prints what going from the plan in file, less what the
// state forgets, to after changes.
func comparePlans(w io.Writer, file string, forget []string, after plan.Document) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("-compare: %w", err)
	}
	var before plan.Document
	if err := json.Unmarshal(b, &before); err != nil {
		return fmt.Errorf("-compare %s: not a plan printed with -format json: %w", file, err)
	}
	if before.Stack != after.Stack {
		return fmt.Errorf("-compare %s: a plan of stack %s, not %s", file, before.Stack, after.Stack)
	}
	for _, urn := range forget {
		if !slices.ContainsFunc(before.Resources, func(r plan.Resource) bool { return r.URN == urn }) {
			return fmt.Errorf("-forget %s: not in %s", urn, file)
		}
	}
	before = plan.Forget(before, forget)
	fmt.Fprintf(w, "stack %s, from %s to this plan: ", after.Stack, file)
	if len(forget) > 0 {
		fmt.Fprintf(w, "(%d forgotten first) ", len(forget))
	}
	plan.Compare(before, after).Text(w, before)
	return nil
}
