// Command plan prints the offline plan of a stack: what the real program
// would register for it, under mocks, with no credentials and no network.
//
//	go run ./cmd/plan -stack uat
//	go run ./cmd/plan -stack uat -format json
//	go run ./cmd/plan -stack prod -format mermaid
//	go run ./cmd/plan -stack prod -set camps-infra:phase=2
//	go run ./cmd/plan -stack prod -policy   (check the policies; exit 1 on a violation)
//
// Secrets an operator sets before the first `pulumi up` are stood in for by
// test values and printed as [secret].
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"gitlab.com/camps-ch/infra/internal/plan"
	"gitlab.com/camps-ch/infra/internal/policy"
	"gitlab.com/camps-ch/infra/internal/recorder"
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
	overrides := stackrun.Sets{}
	fs.Var(overrides, "set", "override a config value for this plan only, KEY=VALUE (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stack == "" {
		return errors.New("-stack is required")
	}
	if *format != "text" && *format != "json" && *format != "mermaid" {
		return fmt.Errorf("-format %q: use text, json or mermaid", *format)
	}
	res, err := stackrun.Run(stackrun.Options{Dir: *dir, Stack: *stack, Set: overrides, Secrets: stackrun.OperatorSecrets()})
	if err != nil {
		return err
	}
	if *checkPolicies {
		return checkPlan(w, *stack, overrides, res.Recorder.Resources())
	}
	g := plan.NewGraph(res.Recorder.Resources())
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
func checkPlan(w io.Writer, stack string, overrides stackrun.Sets, resources []*recorder.Resource) error {
	violations := policy.Check(resources)
	fmt.Fprintf(w, "policies of stack %s %v: %d resources, %d violations\n", stack, overrides, len(resources), len(violations))
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
