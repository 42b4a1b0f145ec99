package provider

import (
	"context"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// Empty is the input of invokes that take none.
type Empty struct{}

// RegionArgs name a region.
type RegionArgs struct {
	Region string `pulumi:"region"`
}

// Names is a list of names.
type Names struct {
	Items []string `pulumi:"items"`
}

// PackItem is a control plane pack.
type PackItem struct {
	ID              int                `pulumi:"id"`
	Name            string             `pulumi:"name"`
	Description     string             `pulumi:"description"`
	PricePerHour    map[string]float64 `pulumi:"pricePerHour"`
	LimitPerProject *int               `pulumi:"limitPerProject,optional"`
	IsActive        bool               `pulumi:"isActive"`
}

// Packs are the packs offered.
type Packs struct {
	Items []PackItem `pulumi:"items"`
}

// FlavorItem is a worker flavor with its hourly rates.
type FlavorItem struct {
	Name          string  `pulumi:"name"`
	CPU           int     `pulumi:"cpu"`
	RAM           int     `pulumi:"ram"`
	Storage       int     `pulumi:"storage"`
	IsAvailable   bool    `pulumi:"isAvailable"`
	HourlyExclTax float64 `pulumi:"hourlyRateExclTax"`
	HourlyInclTax float64 `pulumi:"hourlyRateInclTax"`
}

// Flavors are a region's flavors.
type Flavors struct {
	Items []FlavorItem `pulumi:"items"`
}

// GetPacks is infomaniak:kaas:getPacks.
type GetPacks struct{}

// Annotate sets the token.
func (*GetPacks) Annotate(a infer.Annotator) { a.SetToken("kaas", "getPacks") }

// Invoke lists the packs.
func (*GetPacks) Invoke(ctx context.Context, _ infer.FunctionRequest[Empty]) (infer.FunctionResponse[Packs], error) {
	c, _, err := clientOf(ctx)
	if err != nil {
		return infer.FunctionResponse[Packs]{}, err
	}
	packs, err := c.Packs(ctx)
	out := Packs{Items: []PackItem{}}
	for _, pk := range packs {
		out.Items = append(out.Items, PackItem{ID: pk.ID, Name: pk.Name, Description: pk.Description,
			PricePerHour: pk.PricePerHour, LimitPerProject: pk.LimitPerProject, IsActive: bool(pk.IsActive)})
	}
	return infer.FunctionResponse[Packs]{Output: out}, err
}

// GetVersions is infomaniak:kaas:getVersions.
type GetVersions struct{}

// Annotate sets the token.
func (*GetVersions) Annotate(a infer.Annotator) { a.SetToken("kaas", "getVersions") }

// Invoke lists the Kubernetes versions, newest first.
func (*GetVersions) Invoke(ctx context.Context, _ infer.FunctionRequest[Empty]) (infer.FunctionResponse[Names], error) {
	return names(ctx, func(ctx context.Context) ([]string, error) {
		c, _, err := clientOf(ctx)
		if err != nil {
			return nil, err
		}
		return c.Versions(ctx)
	})
}

// GetRegions is infomaniak:kaas:getRegions.
type GetRegions struct{}

// Annotate sets the token.
func (*GetRegions) Annotate(a infer.Annotator) { a.SetToken("kaas", "getRegions") }

// Invoke lists the regions.
func (*GetRegions) Invoke(ctx context.Context, _ infer.FunctionRequest[Empty]) (infer.FunctionResponse[Names], error) {
	return names(ctx, func(ctx context.Context) ([]string, error) {
		c, _, err := clientOf(ctx)
		if err != nil {
			return nil, err
		}
		return c.Regions(ctx)
	})
}

// GetZones is infomaniak:kaas:getZones.
type GetZones struct{}

// Annotate sets the token.
func (*GetZones) Annotate(a infer.Annotator) { a.SetToken("kaas", "getZones") }

// Invoke lists a region's availability zones.
func (*GetZones) Invoke(ctx context.Context, req infer.FunctionRequest[RegionArgs]) (infer.FunctionResponse[Names], error) {
	return names(ctx, func(ctx context.Context) ([]string, error) {
		c, _, err := clientOf(ctx)
		if err != nil {
			return nil, err
		}
		return c.Zones(ctx, req.Input.Region)
	})
}

// GetFlavors is infomaniak:kaas:getFlavors.
type GetFlavors struct{}

// Annotate sets the token.
func (*GetFlavors) Annotate(a infer.Annotator) { a.SetToken("kaas", "getFlavors") }

// Invoke lists a region's flavors with their hourly rates.
func (*GetFlavors) Invoke(ctx context.Context, req infer.FunctionRequest[RegionArgs]) (infer.FunctionResponse[Flavors], error) {
	c, _, err := clientOf(ctx)
	if err != nil {
		return infer.FunctionResponse[Flavors]{}, err
	}
	flavors, err := c.Flavors(ctx, req.Input.Region)
	out := Flavors{Items: []FlavorItem{}}
	for _, f := range flavors {
		out.Items = append(out.Items, FlavorItem{Name: f.Name, CPU: f.CPU, RAM: f.RAM, Storage: f.Storage,
			IsAvailable: bool(f.IsAvailable), HourlyExclTax: f.Rates.HourExclTax, HourlyInclTax: f.Rates.HourInclTax})
	}
	return infer.FunctionResponse[Flavors]{Output: out}, err
}

func names(ctx context.Context, list func(context.Context) ([]string, error)) (infer.FunctionResponse[Names], error) {
	items, err := list(ctx)
	if items == nil {
		items = []string{}
	}
	return infer.FunctionResponse[Names]{Output: Names{Items: items}}, err
}
