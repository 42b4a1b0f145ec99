// Package helm registers Helm releases (kubernetes:helm.sh/v3:Release)
// through a small typed wrapper, so the program does not import the SDK's
// helm/v3 package: that package carries the legacy Chart resource, which
// pulls in the whole Kubernetes SDK through kubernetes/yaml (about three
// quarters of a cold build). A test checks that the property names here
// match the SDK's ReleaseArgs.
package helm

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ReleaseType is the token of a Helm release.
const ReleaseType = "kubernetes:helm.sh/v3:Release"

// Defaults of every release: an interrupted or failed upgrade rolls back
// and never leaves "another operation in progress" behind.
const (
	// DefaultTimeout is how long Helm waits for a release's resources, in seconds.
	DefaultTimeout = 600
	// DefaultMaxHistory is how many revisions Helm keeps.
	DefaultMaxHistory = 10
)

// Release is an installed Helm chart.
type Release struct {
	pulumi.CustomResourceState

	// Name is the release's name.
	Name pulumi.StringPtrOutput `pulumi:"name"`
	// Namespace is the release's namespace.
	Namespace pulumi.StringPtrOutput `pulumi:"namespace"`
	// Status is Helm's status of the release (name, namespace, chart,
	// version, appVersion, revision, status).
	Status pulumi.MapOutput `pulumi:"status"`
}

// Chart says where a chart comes from; the version is always pinned.
type Chart struct {
	// Name is the chart's name, e.g. cert-manager.
	Name string
	// Version is the exact chart version.
	Version string
	// Repository is an HTTP repository URL or an OCI registry path
	// (oci://host/path, the chart name appended); empty when Name is a
	// local chart directory.
	Repository string
}

// Ref returns the chart reference and repository URL Helm is given: for
// OCI registries the chart is addressed by its full oci:// reference.
func (c Chart) Ref() (chart, repo string) {
	if strings.HasPrefix(c.Repository, "oci://") {
		return strings.TrimSuffix(c.Repository, "/") + "/" + c.Name, ""
	}
	return c.Name, c.Repository
}

// Override returns the pinned chart, or override when it is set (a
// mirror or a local chart directory, e.g. for an air-gapped install).
func Override(pinned Chart, override *Chart) Chart {
	if override != nil {
		return *override
	}
	return pinned
}

// ReleaseArgs are the inputs of a release. Atomic and CleanupOnFail are
// always on.
type ReleaseArgs struct {
	// Chart is the pinned chart.
	Chart Chart
	// Name is the release's name.
	Name string
	// Namespace is the release's namespace; it must already exist.
	Namespace pulumi.StringInput
	// Values are the chart's values, built with ToValues from typed structs.
	Values pulumi.MapInput
	// Timeout in seconds; 0 means DefaultTimeout.
	Timeout int
	// MaxHistory is the number of revisions kept; 0 means DefaultMaxHistory.
	MaxHistory int
	// WaitForJobs makes the release wait for the chart's Jobs.
	WaitForJobs bool
	// SkipAwait installs without waiting for the workloads to be ready
	// (and so without Helm's atomic rollback), for a chart whose pods stay
	// unready until someone acts (a sealed OpenBao).
	SkipAwait bool
}

func (a *ReleaseArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Chart.Name == "" || a.Chart.Version == "":
		return errors.New("a chart name and a pinned version are required")
	case a.Name == "" || a.Namespace == nil:
		return errors.New("a release name and namespace are required")
	}
	return nil
}

// releaseInputs are the wire properties, named as the SDK's ReleaseArgs.
type releaseInputs struct {
	Chart          pulumi.StringInput    `pulumi:"chart"`
	Version        pulumi.StringInput    `pulumi:"version"`
	RepositoryOpts *repositoryOpts       `pulumi:"repositoryOpts"`
	Name           pulumi.StringInput    `pulumi:"name"`
	Namespace      pulumi.StringInput    `pulumi:"namespace"`
	Values         pulumi.MapInput       `pulumi:"values"`
	Atomic         pulumi.BoolInput      `pulumi:"atomic"`
	CleanupOnFail  pulumi.BoolInput      `pulumi:"cleanupOnFail"`
	Timeout        pulumi.IntInput       `pulumi:"timeout"`
	MaxHistory     pulumi.IntInput       `pulumi:"maxHistory"`
	WaitForJobs    pulumi.BoolInput      `pulumi:"waitForJobs"`
	SkipAwait      pulumi.BoolPtrInput   `pulumi:"skipAwait"`
	Compat         pulumi.StringPtrInput `pulumi:"compat"`
}

type repositoryOpts struct {
	Repo pulumi.StringInput `pulumi:"repo"`
}

type releaseState struct {
	Chart          string          `pulumi:"chart"`
	Version        string          `pulumi:"version"`
	RepositoryOpts *repositoryOpts `pulumi:"repositoryOpts"`
	Name           string          `pulumi:"name"`
	Namespace      string          `pulumi:"namespace"`
	Values         map[string]any  `pulumi:"values"`
	Atomic         bool            `pulumi:"atomic"`
	CleanupOnFail  bool            `pulumi:"cleanupOnFail"`
	Timeout        int             `pulumi:"timeout"`
	MaxHistory     int             `pulumi:"maxHistory"`
	WaitForJobs    bool            `pulumi:"waitForJobs"`
	SkipAwait      *bool           `pulumi:"skipAwait"`
	Compat         *string         `pulumi:"compat"`
}

func (releaseInputs) ElementType() reflect.Type { return reflect.TypeFor[releaseState]() }

// NewRelease registers a Helm release. Pass the cluster's provider (through
// the parent's providers or pulumi.Provider): never the ambient one.
func NewRelease(ctx *pulumi.Context, name string, args *ReleaseArgs, opts ...pulumi.ResourceOption) (*Release, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("helm release %q: %w", name, err)
	}
	chart, repo := args.Chart.Ref()
	in := releaseInputs{
		Chart:         pulumi.String(chart),
		Version:       pulumi.String(args.Chart.Version),
		Name:          pulumi.String(args.Name),
		Namespace:     args.Namespace,
		Values:        args.Values,
		Atomic:        pulumi.Bool(!args.SkipAwait),
		CleanupOnFail: pulumi.Bool(true),
		Timeout:       pulumi.Int(orDefault(args.Timeout, DefaultTimeout)),
		MaxHistory:    pulumi.Int(orDefault(args.MaxHistory, DefaultMaxHistory)),
		WaitForJobs:   pulumi.Bool(args.WaitForJobs),
		// The SDK's NewRelease always sends compat "true"; so do we.
		Compat: pulumi.StringPtr("true"),
	}
	// Sent only when set: a new input on the releases already deployed
	// would show as a change.
	if args.SkipAwait {
		in.SkipAwait = pulumi.BoolPtr(true)
	}
	if in.Values == nil {
		in.Values = pulumi.Map{}
	}
	if repo != "" {
		in.RepositoryOpts = &repositoryOpts{Repo: pulumi.String(repo)}
	}
	var r Release
	if err := ctx.RegisterResource(ReleaseType, name, in, &r, opts...); err != nil {
		return nil, fmt.Errorf("helm release %q: %w", name, err)
	}
	return &r, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// ToValues turns a typed values struct (json-tagged, omitempty where the
// chart's default should stand) into the map Helm receives.
func ToValues(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("helm values: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("helm values: %w", err)
	}
	return m, nil
}

// Values is ToValues as a Pulumi input.
func Values(v any) (pulumi.Map, error) {
	m, err := ToValues(v)
	if err != nil {
		return nil, err
	}
	return pulumi.ToMap(m), nil
}
