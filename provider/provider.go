// Package provider is the Pulumi resource provider for Infomaniak's managed
// Kubernetes (KaaS), named infomaniak: the resources infomaniak:kaas:Cluster
// and infomaniak:kaas:InstancePool the program declares in infra/infomaniak,
// and invokes for the catalogue (packs, versions, regions, zones, flavors).
//
// It is a separate Go module because pulumi-go-provider v1.1.2 builds only
// against the Pulumi SDK and pkg v3.169.0, while the program uses v3.274.1;
// the two talk gRPC, so their versions need not match.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"gitlab.com/camps-ch/infra/provider/kaas"
)

// Name is the provider's package name.
const Name = "infomaniak"

// Version is the provider's version.
const Version = "0.1.0"

// New builds the provider.
func New() (p.Provider, error) {
	prov, err := infer.NewProviderBuilder().
		WithDisplayName("Infomaniak KaaS").
		WithDescription("Infomaniak managed Kubernetes (KaaS) clusters and instance pools.").
		WithNamespace("camps").
		// Types live in the kaas module, like the resources that use them.
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{"provider": "kaas"}).
		WithConfig(infer.Config(Config{})).
		WithResources(infer.Resource(&Cluster{}), infer.Resource(&InstancePool{})).
		WithFunctions(
			infer.Function(&GetPacks{}), infer.Function(&GetVersions{}), infer.Function(&GetRegions{}),
			infer.Function(&GetZones{}), infer.Function(&GetFlavors{}),
		).
		Build()
	if err != nil {
		return p.Provider{}, err
	}
	diffConfig := prov.DiffConfig
	prov.DiffConfig = func(ctx context.Context, req p.DiffRequest) (p.DiffResponse, error) {
		req.State = withoutEngineKeys(req.State)
		return diffConfig(ctx, req)
	}
	return prov, nil
}

// withoutEngineKeys drops from a provider's recorded configuration what
// is not Config's: the keys pulumi-go-provider adds to the checked
// inputs (__pulumi-go-provider-version, __pulumi-go-provider-infer) and
// the plugin version the engine adds. pulumi-go-provider v1.1.2 strips
// them from the new inputs before a custom Config.Diff but decodes the
// old state strictly, so without this every preview after the first
// fails with "Unrecognized field '__pulumi-go-provider-version'".
func withoutEngineKeys(m property.Map) property.Map {
	for k := range m.AsMap() {
		if k == "version" || strings.HasPrefix(k, "__") {
			m = m.Delete(k)
		}
	}
	return m
}

// Config is the provider's configuration.
type Config struct {
	// Token is the API token; INFOMANIAK_TOKEN when unset.
	Token string `pulumi:"token,optional" provider:"secret"`
	// PublicCloudID is the Public Cloud; INFOMANIAK_PUBLIC_CLOUD_ID when unset.
	PublicCloudID int `pulumi:"publicCloudId,optional"`
	// ProjectID is the project; INFOMANIAK_PROJECT_ID when unset.
	ProjectID int `pulumi:"projectId,optional"`
	// BaseURL is the API; INFOMANIAK_HOST, then https://api.infomaniak.com.
	BaseURL string `pulumi:"baseUrl,optional"`
	// Timeout bounds each wait for a cluster or pool (a Go duration); default 30m.
	Timeout string `pulumi:"timeout,optional"`
	// PollInterval is the first pause between reads while waiting; default 5s.
	PollInterval string `pulumi:"pollInterval,optional"`
	// RequestsPerMinute caps the calls to the API; default 60, its limit.
	RequestsPerMinute int `pulumi:"requestsPerMinute,optional"`
	// RetryInterval is the first pause before retrying a 429 or 5xx
	// without Retry-After; it doubles each try. Default 1s.
	RetryInterval string `pulumi:"retryInterval,optional"`
}

// Annotate documents the configuration.
func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.Token, "Infomaniak API token. Defaults to INFOMANIAK_TOKEN.")
	a.Describe(&c.PublicCloudID, "Public Cloud id. Defaults to INFOMANIAK_PUBLIC_CLOUD_ID.")
	a.Describe(&c.ProjectID, "Public Cloud project id. Defaults to INFOMANIAK_PROJECT_ID.")
	a.Describe(&c.BaseURL, "API address. Defaults to INFOMANIAK_HOST, then https://api.infomaniak.com.")
	a.Describe(&c.Timeout, "Longest wait for a cluster or pool to settle, as a Go duration. Default 30m.")
	a.Describe(&c.PollInterval, "First pause between reads while waiting, as a Go duration. Default 5s.")
	a.Describe(&c.RequestsPerMinute, "Most API calls a minute. Default 60, the API's limit.")
	a.Describe(&c.RetryInterval, "First pause before retrying a 429 or 5xx answer without Retry-After, as a Go duration; it doubles each try. Default 1s.")
}

// settings are a configuration resolved against the environment.
type settings struct {
	client kaas.Client
	poll   kaas.Poll
	rpm    int
}

// resolve fills unset fields from the environment and checks them.
func (c Config) resolve() (settings, error) {
	var errs []error
	envInt := func(v int, name string) int {
		if v != 0 {
			return v
		}
		raw := os.Getenv(name)
		if raw == "" {
			errs = append(errs, fmt.Errorf("%s is not set: configure it or export %s", name, name))
			return 0
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a positive integer", name, raw))
		}
		return n
	}
	token, baseURL := c.Token, c.BaseURL
	if token == "" {
		token = os.Getenv("INFOMANIAK_TOKEN")
	}
	if baseURL == "" {
		baseURL = os.Getenv("INFOMANIAK_HOST")
	}
	if token == "" {
		errs = append(errs, errors.New("infomaniak:token is not set: configure it or export INFOMANIAK_TOKEN"))
	}
	cloud, project := envInt(c.PublicCloudID, "INFOMANIAK_PUBLIC_CLOUD_ID"), envInt(c.ProjectID, "INFOMANIAK_PROJECT_ID")
	poll, retry := kaas.Poll{}, kaas.Retry{}
	for _, d := range []struct {
		key string
		val string
		dst *time.Duration
	}{{"timeout", c.Timeout, &poll.Timeout}, {"pollInterval", c.PollInterval, &poll.Interval}, {"retryInterval", c.RetryInterval, &retry.Base}} {
		if d.val == "" {
			continue
		}
		v, err := time.ParseDuration(d.val)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("infomaniak:%s %q is not a positive duration", d.key, d.val))
		}
		*d.dst = v
	}
	rpm := c.RequestsPerMinute
	switch {
	case rpm == 0:
		rpm = 60
	case rpm < 0:
		errs = append(errs, fmt.Errorf("infomaniak:requestsPerMinute %d is negative", rpm))
	}
	if poll.Interval > 0 {
		poll.MaxInterval = 6 * poll.Interval
	}
	return settings{
		client: kaas.Client{
			BaseURL: baseURL, Token: token, PublicCloudID: cloud, ProjectID: project,
			UserAgent: "pulumi-resource-infomaniak/" + Version, Retry: retry,
		},
		poll: poll, rpm: rpm,
	}, errors.Join(errs...)
}

// Configure checks the configuration once, when the engine configures
// the provider, so a missing token or project fails before any resource.
func (c Config) Configure(ctx context.Context) error {
	_, err := c.resolve()
	return err
}

// limiters share one rate limit per API project across the process.
var limiters sync.Map

// clientOf returns the API client and wait settings of the configuration.
func clientOf(ctx context.Context) (*kaas.Client, kaas.Poll, error) {
	st, err := infer.GetConfig[Config](ctx).resolve()
	if err != nil {
		return nil, kaas.Poll{}, err
	}
	c := st.client
	key := fmt.Sprintf("%s|%d|%d|%d", c.BaseURL, c.PublicCloudID, c.ProjectID, st.rpm)
	// A burst of b plus a refill of rpm-b a minute never exceeds rpm in any minute.
	burst := max(1, min(10, st.rpm/6))
	l, _ := limiters.LoadOrStore(key, kaas.NewLimiter(max(1, st.rpm-burst), time.Minute, burst))
	c.Limiter = l.(*kaas.Limiter)
	return &c, st.poll, nil
}

// progress logs what a wait observes as the resource's status.
func progress(ctx context.Context) kaas.Progress {
	return func(format string, args ...any) { p.GetLogger(ctx).InfoStatusf(format, args...) }
}

// Diff replaces the provider, and with it every resource it manages, only
// when the project it talks to changes: a cluster cannot move between
// projects. A rotated token, another API address or other wait settings
// are updates, so they never plan to replace a (protected) cluster.
func (Config) Diff(ctx context.Context, req infer.DiffRequest[Config, Config]) (infer.DiffResponse, error) {
	o, n := req.State, req.Inputs
	d := map[string]p.PropertyDiff{}
	for k, changed := range map[string]bool{"publicCloudId": o.PublicCloudID != n.PublicCloudID, "projectId": o.ProjectID != n.ProjectID} {
		if changed {
			d[k] = p.PropertyDiff{Kind: p.UpdateReplace}
		}
	}
	for k, changed := range map[string]bool{
		"token": o.Token != n.Token, "baseUrl": o.BaseURL != n.BaseURL, "timeout": o.Timeout != n.Timeout,
		"pollInterval": o.PollInterval != n.PollInterval, "requestsPerMinute": o.RequestsPerMinute != n.RequestsPerMinute,
		"retryInterval": o.RetryInterval != n.RetryInterval,
	} {
		if changed {
			d[k] = p.PropertyDiff{Kind: p.Update}
		}
	}
	return infer.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d}, nil
}
