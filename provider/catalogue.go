package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"gitlab.com/camps-ch/infra/provider/kaas"
)

// The catalogue checks: Check of a cluster or pool compares what it asks
// for with what the API offers (regions, Kubernetes versions, packs,
// zones, the project's flavors), so that `pulumi preview` already names a
// flavor the region does not offer, with the offered list, instead of a
// create failing half-way through `pulumi up`.

// catalogue caches the API's lists for the life of the plugin process
// (one engine operation), so that the pools of a cluster ask once.
var catalogue struct {
	mu    sync.Mutex
	lists map[string]any
}

// offered returns the cached list named key, loading it once.
func offered[T any](key string, load func() (T, error)) (T, error) {
	catalogue.mu.Lock()
	defer catalogue.mu.Unlock()
	if v, ok := catalogue.lists[key]; ok {
		return v.(T), nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	if catalogue.lists == nil {
		catalogue.lists = map[string]any{}
	}
	catalogue.lists[key] = v
	return v, nil
}

// catalogueKey names a list of one API project.
func catalogueKey(c *kaas.Client, list string) string {
	return fmt.Sprintf("%s|%d|%d|%s", c.BaseURL, c.PublicCloudID, c.ProjectID, list)
}

// checkClusterCatalogue reports a region, version or pack the API does not offer.
func checkClusterCatalogue(ctx context.Context, args ClusterArgs, fail func(prop, format string, a ...any)) error {
	c, _, err := clientOf(ctx)
	if err != nil {
		return err
	}
	regions, err := offered(catalogueKey(c, "regions"), func() ([]string, error) { return c.Regions(ctx) })
	if err != nil {
		return catalogueError("regions", err)
	}
	if !slices.Contains(regions, args.Region) {
		fail("region", "%q is not offered; offered: %s", args.Region, strings.Join(regions, ", "))
	}
	versions, err := offered(catalogueKey(c, "versions"), func() ([]string, error) { return c.Versions(ctx) })
	if err != nil {
		return catalogueError("Kubernetes versions", err)
	}
	if !slices.Contains(versions, args.KubernetesVersion) {
		fail("kubernetesVersion", "%q is not offered; offered: %s", args.KubernetesVersion, strings.Join(versions, ", "))
	}
	packs, err := offered(catalogueKey(c, "packs"), func() ([]kaas.Pack, error) { return c.Packs(ctx) })
	if err != nil {
		return catalogueError("packs", err)
	}
	var names []string
	for _, pk := range packs {
		if bool(pk.IsActive) {
			names = append(names, pk.Name)
		}
	}
	if !slices.Contains(names, args.PackName) {
		fail("packName", "%q is not offered; offered: %s", args.PackName, strings.Join(names, ", "))
	}
	return nil
}

// checkPoolCatalogue reports a zone or flavor the pool's region does not offer.
func checkPoolCatalogue(ctx context.Context, args InstancePoolArgs, fail func(prop, format string, a ...any)) error {
	c, _, err := clientOf(ctx)
	if err != nil {
		return err
	}
	region := args.Region
	zones, err := offered(catalogueKey(c, "zones/"+region), func() ([]string, error) { return c.Zones(ctx, region) })
	if err != nil {
		return catalogueError("zones of "+region, err)
	}
	if !slices.Contains(zones, args.AvailabilityZone) {
		fail("availabilityZone", "%q is not a zone of %s; zones: %s", args.AvailabilityZone, region, strings.Join(zones, ", "))
	}
	flavors, err := offered(catalogueKey(c, "flavors/"+region), func() ([]kaas.Flavor, error) { return c.Flavors(ctx, region) })
	if err != nil {
		return catalogueError("flavors of "+region, err)
	}
	var available []string
	for _, f := range flavors {
		if bool(f.IsAvailable) {
			available = append(available, f.Name)
		}
	}
	switch {
	case slices.Contains(available, args.Flavor):
	case slices.ContainsFunc(flavors, func(f kaas.Flavor) bool { return f.Name == args.Flavor }):
		fail("flavor", "%q is not available to this project in %s; available: %s", args.Flavor, region, strings.Join(available, ", "))
	default:
		fail("flavor", "%q is not offered in %s; offered: %s", args.Flavor, region, strings.Join(available, ", "))
	}
	return nil
}

// known tells whether the inputs' keys are all known: a preview checks
// what it can and leaves values computed by other resources to the update.
func known(inputs property.Map, keys ...string) bool {
	for _, k := range keys {
		if v, ok := inputs.GetOk(k); !ok || v.IsComputed() {
			return false
		}
	}
	return true
}

// catalogueError says that a list could not be read, and what to do.
func catalogueError(list string, err error) error {
	return fmt.Errorf("checking the inputs against the API's %s: %w; check the token and the API's status, then run the preview again", list, err)
}
