// Package adjust holds the end-to-end run's adjustments of the program's
// resources, applied by a stack transform in the driver and never by the
// program: what a cluster without a kubelet and without chart
// repositories needs. Each adjustment says why.
package adjust

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"gitlab.com/camps-ch/infra/infra/helm"
)

// skipAwait is the Kubernetes provider's annotation that skips its
// readiness wait.
const skipAwait = "pulumi.com/skipAwait"

// Transform returns the stack transform of the end-to-end run. charts is
// the directory of chart directories (see Charts).
//
//   - Helm releases take their chart from charts/<name> (the chart
//     repositories are unreachable here), do not wait for their workloads
//     (skipAwait; atomic off, since atomic implies waiting) because no Pod
//     ever runs, and run no hooks (their Jobs would never finish).
//   - Ingresses skip the provider's readiness wait, which needs ready
//     endpoints behind the backend Services, i.e. running Pods; so do the
//     program's own Deployments (the databases' canary writers), whose
//     rollout never completes without Pods.
func Transform(charts string) pulumi.ResourceTransform {
	return func(_ context.Context, args *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
		switch args.Type {
		case helm.ReleaseType:
			props := copyMap(args.Props)
			ref, ok := props["chart"].(pulumi.String)
			if !ok {
				return nil
			}
			props["chart"] = pulumi.String(filepath.Join(charts, path.Base(string(ref))))
			delete(props, "repositoryOpts")
			props["skipAwait"] = pulumi.Bool(true)
			props["atomic"] = pulumi.Bool(false)
			props["disableWebhooks"] = pulumi.Bool(true)
			return &pulumi.ResourceTransformResult{Props: props, Opts: args.Opts}
		case "kubernetes:networking.k8s.io/v1:Ingress", "kubernetes:apps/v1:Deployment":
			props := copyMap(args.Props)
			if meta, ok := withAnnotation(props["metadata"], skipAwait, "true"); ok {
				props["metadata"] = meta
				return &pulumi.ResourceTransformResult{Props: props, Opts: args.Opts}
			}
		}
		return nil
	}
}

func copyMap(m pulumi.Map) pulumi.Map {
	out := make(pulumi.Map, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// withAnnotation returns metadata with one more annotation. The engine
// hands a transform the inputs as they travel (maps of plain values),
// not as the program's typed arguments.
func withAnnotation(meta pulumi.Input, key, value string) (pulumi.Input, bool) {
	m, ok := meta.(pulumi.Map)
	if !ok {
		return nil, false
	}
	out := copyMap(m)
	annotations := pulumi.Map{}
	switch a := m["annotations"].(type) {
	case nil:
	case pulumi.Map:
		annotations = copyMap(a)
	default:
		return nil, false
	}
	annotations[key] = pulumi.String(value)
	out["annotations"] = annotations
	return out, true
}

// remoteDefinitions matches references to kubernetes-json-schema's
// _definitions.json on GitHub, as in the F5 nginx-ingress chart's values
// schema: Helm fetches them at every install and upgrade.
var remoteDefinitions = regexp.MustCompile(`https://raw\.githubusercontent\.com/[^"#]*kubernetes-json-schema/[^"#]*/_definitions\.json`)

// CopyCharts copies the chart directories of src to dst and points the
// values schemas' references to Kubernetes' definitions on GitHub at
// defs, a local file of the same definitions (the API server's OpenAPI
// definitions): this machine cannot reach GitHub, and without them Helm
// refuses the release. It returns the schemas it rewrote.
func CopyCharts(src, dst, defs string) ([]string, error) {
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		return nil, err
	}
	var rewritten []string
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "values.schema.json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil || !remoteDefinitions.Match(b) {
			return err
		}
		rel, _ := filepath.Rel(dst, p)
		rewritten = append(rewritten, rel)
		return os.WriteFile(p, remoteDefinitions.ReplaceAll(b, []byte("file://"+defs)), 0o600)
	})
	return rewritten, err
}

// Charts checks that dir holds a chart directory for each pinned chart,
// named by the chart and of its pinned version, and returns the problems.
func Charts(dir string, pinned []helm.Chart) []string {
	var problems []string
	for _, c := range pinned {
		name := path.Base(c.Name)
		b, err := os.ReadFile(filepath.Join(dir, name, "Chart.yaml"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %s: %v", name, c.Version, err))
			continue
		}
		var meta struct{ Name, Version string }
		if err := yaml.Unmarshal(b, &meta); err != nil {
			problems = append(problems, fmt.Sprintf("%s: Chart.yaml: %v", name, err))
			continue
		}
		if meta.Name != name || meta.Version != c.Version {
			problems = append(problems, fmt.Sprintf("%s: the directory holds %s %s; the program pins %s %s", name, meta.Name, meta.Version, name, c.Version))
		}
	}
	return problems
}
