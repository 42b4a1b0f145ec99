package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/internal/e2e/adjust"
	"gitlab.com/camps-ch/infra/internal/e2e/overlay"
	"gitlab.com/camps-ch/infra/stacks"
)

// project is one end-to-end run's copy of the project: the real
// Pulumi.yaml and stack files, the overlay merged into the stack files, a
// file backend and the environment of the CLI and its plugins.
type project struct {
	dir     string
	env     map[string]string
	cli     auto.PulumiCommand
	program pulumi.RunFunc
	// secrets are the values given as secret configuration, which must
	// never appear in plain text in the state.
	secrets map[string]string
	// logs is where each step's log goes; steps numbers them.
	logs  string
	steps int
}

// newProject copies the project into dir/project, with the stack files
// merged with the overlay of each stack.
func newProject(ctx context.Context, r *runner, dir string, overlays map[string]map[string]any) (*project, error) {
	p := &project{dir: filepath.Join(dir, "project"), secrets: map[string]string{}}
	for _, d := range []string{p.dir, filepath.Join(dir, "backend"), filepath.Join(dir, "pulumi-home")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(filepath.Join(r.repo, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(p.dir, "Pulumi.yaml"), b, 0o600); err != nil {
		return nil, err
	}
	// Pulumi.yaml's plugins.providers finds the Infomaniak provider in ./bin.
	if err := os.Symlink(filepath.Join(r.repo, "bin"), filepath.Join(p.dir, "bin")); err != nil {
		return nil, err
	}
	for _, stack := range stackNames {
		if err := overlay.MergeStackFile(filepath.Join(r.repo, "Pulumi."+stack+".yaml"), filepath.Join(p.dir, "Pulumi."+stack+".yaml"), overlays[stack]); err != nil {
			return nil, err
		}
	}
	p.env = map[string]string{
		"PULUMI_BACKEND_URL":                          "file://" + filepath.Join(dir, "backend"),
		"PULUMI_CONFIG_PASSPHRASE":                    randomHex(16),
		"PULUMI_HOME":                                 filepath.Join(dir, "pulumi-home"),
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK":    "false",
		// The stand-ins first, then the tools: the engine takes plugins
		// it has no installed copy of from PATH.
		"PATH": r.standins + string(os.PathListSeparator) + r.tools + string(os.PathListSeparator) + os.Getenv("PATH"),
		// Every resource names its provider; an ambient kubeconfig must
		// never be reachable.
		"KUBECONFIG": filepath.Join(dir, "no-such-kubeconfig"),
		// The Infomaniak provider reads these when the program leaves
		// them unset (as the stack files do).
		"INFOMANIAK_HOST":            r.kaas.URL,
		"INFOMANIAK_TOKEN":           r.kaas.Token,
		"INFOMANIAK_PUBLIC_CLOUD_ID": fmt.Sprint(r.kaas.PublicCloudID),
		"INFOMANIAK_PROJECT_ID":      fmt.Sprint(r.kaas.ProjectID),
		"HELM_CACHE_HOME":            filepath.Join(dir, "helm-cache"),
		"HELM_CONFIG_HOME":           filepath.Join(dir, "helm-config"),
		"HELM_DATA_HOME":             filepath.Join(dir, "helm-data"),
	}
	if p.cli, err = auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(r.tools)}); err != nil {
		return nil, fmt.Errorf("the Pulumi CLI in %s: %w; build it with make e2e-tools", r.tools, err)
	}
	charts := r.charts
	p.program = func(ctx *pulumi.Context) error {
		if charts != "" {
			if err := ctx.RegisterResourceTransform(adjust.Transform(charts)); err != nil {
				return err
			}
		}
		return stacks.Run(ctx)
	}
	return p, nil
}

// stack selects or creates a stack of the project and sets the secrets
// the stack files leave to the operator, with values made for this run.
func (p *project) stack(ctx context.Context, name string, secretKeys ...string) (auto.Stack, error) {
	s, err := auto.UpsertStackInlineSource(ctx, name, stacks.Project, p.program,
		auto.WorkDir(p.dir), auto.EnvVars(p.env), auto.Pulumi(p.cli), auto.SecretsProvider("passphrase"))
	if err != nil {
		return s, err
	}
	// The operator's GitLab application (docs/access.md).
	if err := s.SetConfig(ctx, stacks.FullKey(stacks.KeyOIDCClientID), auto.ConfigValue{Value: oidcClientID}); err != nil {
		return s, err
	}
	for _, key := range secretKeys {
		v := randomHex(20)
		p.secrets[key+"@"+name] = v
		if err := s.SetConfig(ctx, stacks.FullKey(key), auto.ConfigValue{Value: v, Secret: true}); err != nil {
			return s, err
		}
	}
	return s, nil
}

// environ is the project's environment as KEY=value pairs.
func (p *project) environ() []string {
	var env []string
	for _, k := range slices.Sorted(maps.Keys(p.env)) {
		env = append(env, k+"="+p.env[k])
	}
	return env
}

// oidcClientID stands in for the GitLab application's ID an operator sets.
const oidcClientID = "e2e-gitlab-application"

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// plainSecrets returns the names of the secrets whose value appears in
// plain text in the stack's state.
func (p *project) plainSecrets(ctx context.Context, s auto.Stack, extra map[string]string) ([]string, error) {
	// The state as stored: the CLI's export without --show-secrets (the
	// Automation API's Export shows them).
	state, stderr, code, err := p.cli.Run(ctx, p.dir, nil, nil, nil, p.environ(), "stack", "export", "--stack", s.Name())
	if err != nil {
		return nil, fmt.Errorf("pulumi stack export (exit %d): %s", code, stderr)
	}
	var found []string
	all := maps.Clone(p.secrets)
	maps.Copy(all, extra)
	for _, name := range slices.Sorted(maps.Keys(all)) {
		if strings.Contains(state, all[name]) {
			found = append(found, name)
		}
	}
	return found, nil
}
