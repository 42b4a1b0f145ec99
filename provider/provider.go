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
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"gitlab.com/camps-ch/infra/provider/kaas"
)

// Name is the provider's package name.
const Name = "infomaniak"

// Version is the provider's version.
const Version = "0.1.0"

// New builds the provider.
func New() (p.Provider, error) {
	return infer.NewProviderBuilder().
		WithDisplayName("Infomaniak KaaS").
		WithDescription("Infomaniak managed Kubernetes (KaaS) clusters and instance pools.").
		WithNamespace("camps").
		// Types live in the kaas module, like the resources that use them.
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{"provider": "kaas"}).
		WithConfig(infer.Config(&Config{})).
		WithResources(infer.Resource(&Cluster{}), infer.Resource(&InstancePool{})).
		WithFunctions(
			infer.Function(&GetPacks{}), infer.Function(&GetVersions{}), infer.Function(&GetRegions{}),
			infer.Function(&GetZones{}), infer.Function(&GetFlavors{}),
		).
		Build()
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

	client *kaas.Client
	poll   kaas.Poll
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
}

// Configure fills unset fields from the environment and checks them.
func (c *Config) Configure(ctx context.Context) error {
	envInt := func(dst *int, name string) error {
		if *dst != 0 {
			return nil
		}
		v := os.Getenv(name)
		if v == "" {
			return fmt.Errorf("%s is not set: configure it or export %s", name, name)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s=%q is not a positive integer", name, v)
		}
		*dst = n
		return nil
	}
	if c.Token == "" {
		c.Token = os.Getenv("INFOMANIAK_TOKEN")
	}
	if c.BaseURL == "" {
		c.BaseURL = os.Getenv("INFOMANIAK_HOST")
	}
	var errs []error
	if c.Token == "" {
		errs = append(errs, errors.New("infomaniak:token is not set: configure it or export INFOMANIAK_TOKEN"))
	}
	errs = append(errs, envInt(&c.PublicCloudID, "INFOMANIAK_PUBLIC_CLOUD_ID"), envInt(&c.ProjectID, "INFOMANIAK_PROJECT_ID"))
	poll := kaas.Poll{}
	for _, d := range []struct {
		key string
		val string
		dst *time.Duration
	}{{"timeout", c.Timeout, &poll.Timeout}, {"pollInterval", c.PollInterval, &poll.Interval}} {
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
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if poll.Interval > 0 {
		poll.MaxInterval = 6 * poll.Interval
	}
	c.poll = poll
	c.client = &kaas.Client{
		BaseURL: c.BaseURL, Token: c.Token, PublicCloudID: c.PublicCloudID, ProjectID: c.ProjectID,
		UserAgent: "pulumi-resource-infomaniak/" + Version,
		Limiter:   kaas.NewLimiter(rpm, time.Minute, min(10, rpm)),
	}
	return nil
}

// progress logs what a wait observes as the resource's status.
func progress(ctx context.Context) kaas.Progress {
	return func(format string, args ...any) { p.GetLogger(ctx).InfoStatusf(format, args...) }
}
