package kaas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// Packs lists the control plane packs.
func (c *Client) Packs(ctx context.Context) ([]Pack, error) {
	var out []Pack
	return out, c.do(ctx, "GET", "/1/public_clouds/kaas/packs", nil, nil, &out)
}

// Versions lists the Kubernetes versions offered, newest first.
func (c *Client) Versions(ctx context.Context) ([]string, error) {
	var out []string
	return out, c.do(ctx, "GET", "/1/public_clouds/kaas/versions", nil, nil, &out)
}

// Regions lists the KaaS regions.
func (c *Client) Regions(ctx context.Context) ([]string, error) {
	var out []string
	return out, c.do(ctx, "GET", "/1/public_clouds/kaas/regions", nil, nil, &out)
}

// Zones lists the availability zones of a region.
func (c *Client) Zones(ctx context.Context, region string) ([]string, error) {
	var out []string
	return out, c.do(ctx, "GET", "/1/public_clouds/kaas/availability_zones", url.Values{"region": {region}}, nil, &out)
}

// Flavors lists the project's worker flavors in a region, every page of
// them (the endpoint is paginated).
func (c *Client) Flavors(ctx context.Context, region string) ([]Flavor, error) {
	var out []Flavor
	for n := 1; ; n++ {
		var pg page
		q := url.Values{"region": {region}, "page": {strconv.Itoa(n)}, "per_page": {strconv.Itoa(flavorsPerPage)}}
		if err := c.do(ctx, "GET", c.projectPath()+"/kaas/flavors", q, nil, &pg); err != nil {
			return nil, err
		}
		var items []Flavor
		if err := json.Unmarshal(pg.data, &items); err != nil {
			return nil, fmt.Errorf("GET flavors of %s: unexpected data: %w", region, err)
		}
		out = append(out, items...)
		if n >= pg.pages || len(items) == 0 {
			return out, nil
		}
	}
}

// flavorsPerPage is the page size asked of the flavors endpoint.
const flavorsPerPage = 100

// PackID resolves a pack name.
func (c *Client) PackID(ctx context.Context, name string) (int, error) {
	packs, err := c.Packs(ctx)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, p := range packs {
		if p.Name == name {
			return p.ID, nil
		}
		names = append(names, p.Name)
	}
	return 0, fmt.Errorf("pack %q does not exist; the API offers %v", name, names)
}

func (c *Client) clusterPath(id int) string { return fmt.Sprintf("%s/kaas/%d", c.projectPath(), id) }

// CreateCluster creates a cluster and returns its id.
func (c *Client) CreateCluster(ctx context.Context, body CreateCluster) (int, error) {
	var id int
	return id, c.do(ctx, "POST", c.projectPath()+"/kaas", nil, body, &id)
}

// CreateClusterOnce creates a cluster exactly once. When the API's answer
// leaves open whether it was created (a 5xx, a lost answer), it looks the
// cluster up by name and region: it returns the one it finds, or creates
// again when there is none, up to the retry policy's attempts.
func (c *Client) CreateClusterOnce(ctx context.Context, body CreateCluster) (int, error) {
	return c.createOnce(ctx, "cluster "+body.Name, func() (int, error) { return c.CreateCluster(ctx, body) },
		func() (int, error) {
			cl, err := c.ClusterByName(ctx, body.Name, body.Region)
			if cl == nil || err != nil {
				return 0, err
			}
			return cl.ID, nil
		})
}

// createOnce runs create; after an ambiguous failure it asks find for what
// the create may have made (0: nothing) and creates again only when find
// found nothing.
func (c *Client) createOnce(ctx context.Context, what string, create, find func() (int, error)) (int, error) {
	retry := c.Retry.withDefaults()
	for attempt := 1; ; attempt++ {
		id, err := create()
		if err == nil || !IsAmbiguous(err) {
			return id, err
		}
		found, ferr := find()
		if ferr != nil {
			return 0, fmt.Errorf("creating %s: %w; then looking it up failed: %w; run the update again: it adopts %s if it was created", what, err, ferr, what)
		}
		if found != 0 {
			return found, nil
		}
		if attempt == retry.Attempts {
			return 0, fmt.Errorf("creating %s: %w (%d attempts, none created it); check the API's status and run the update again", what, err, attempt)
		}
		backoff := retry.Base << (attempt - 1)
		if err := c.sleep(ctx, min(backoff, retry.Max)); err != nil {
			return 0, err
		}
	}
}

// Cluster reads a cluster, with its pack.
func (c *Client) Cluster(ctx context.Context, id int) (*Cluster, error) {
	var out Cluster
	if err := c.do(ctx, "GET", c.clusterPath(id), url.Values{"with": {"packs"}}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Clusters lists the project's clusters.
func (c *Client) Clusters(ctx context.Context) ([]Cluster, error) {
	var out []Cluster
	return out, c.do(ctx, "GET", c.projectPath()+"/kaas", url.Values{"with": {"packs"}}, nil, &out)
}

// ClusterByName finds the project's cluster of that name in a region:
// after a create that failed half-way, the next run adopts it instead of
// creating a second one. It returns nil when there is none.
func (c *Client) ClusterByName(ctx context.Context, name, region string) (*Cluster, error) {
	all, err := c.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	for _, cl := range all {
		if cl.Name == name && cl.Region == region && cl.Status != StatusDeleting && cl.Status != StatusFailed {
			return &cl, nil
		}
	}
	return nil, nil
}

// UpdateCluster renames or upgrades a cluster.
func (c *Client) UpdateCluster(ctx context.Context, id int, body UpdateCluster) error {
	var ok bool
	return c.do(ctx, "PATCH", c.clusterPath(id), nil, body, &ok)
}

// DeleteCluster starts the deletion of a cluster.
func (c *Client) DeleteCluster(ctx context.Context, id int) error {
	var ok bool
	return c.do(ctx, "DELETE", c.clusterPath(id), nil, nil, &ok)
}

// Kubeconfig returns the cluster's admin kubeconfig.
func (c *Client) Kubeconfig(ctx context.Context, id int) (string, error) {
	var out string
	return out, c.do(ctx, "GET", c.clusterPath(id)+"/kube_config", nil, nil, &out)
}

func (c *Client) poolPath(cluster, pool int) string {
	return fmt.Sprintf("%s/instance_pools/%d", c.clusterPath(cluster), pool)
}

// CreatePool creates an instance pool and returns its id.
func (c *Client) CreatePool(ctx context.Context, cluster int, body CreatePool) (int, error) {
	var id int
	return id, c.do(ctx, "POST", c.clusterPath(cluster)+"/instance_pools", nil, body, &id)
}

// CreatePoolOnce creates an instance pool exactly once, as
// CreateClusterOnce does a cluster: after an ambiguous failure it looks
// for the pool (same name, flavor and zone) and creates again only when
// there is none.
func (c *Client) CreatePoolOnce(ctx context.Context, cluster int, body CreatePool) (int, error) {
	return c.createOnce(ctx, "instance pool "+body.Name, func() (int, error) { return c.CreatePool(ctx, cluster, body) },
		func() (int, error) {
			pl, err := c.PoolByName(ctx, cluster, body.Name, body.Flavor, body.AvailabilityZone)
			if pl == nil || err != nil {
				return 0, err
			}
			return pl.ID, nil
		})
}

// PoolByName finds the cluster's pool of that name, flavor and zone that
// is neither failed nor being deleted: one an earlier create made. It
// returns nil when there is none.
func (c *Client) PoolByName(ctx context.Context, cluster int, name, flavor, zone string) (*Pool, error) {
	pools, err := c.Pools(ctx, cluster)
	if err != nil {
		return nil, err
	}
	for _, pl := range pools {
		if pl.Name == name && pl.Flavor == flavor && pl.AvailabilityZone == zone &&
			pl.Status != StatusDeleting && pl.Status != StatusFailed {
			return &pl, nil
		}
	}
	return nil, nil
}

// Pool reads an instance pool.
func (c *Client) Pool(ctx context.Context, cluster, pool int) (*Pool, error) {
	var out Pool
	if err := c.do(ctx, "GET", c.poolPath(cluster, pool), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Pools lists a cluster's instance pools.
func (c *Client) Pools(ctx context.Context, cluster int) ([]Pool, error) {
	var out []Pool
	return out, c.do(ctx, "GET", c.clusterPath(cluster)+"/instance_pools", nil, nil, &out)
}

// UpdatePool renames or resizes an instance pool.
func (c *Client) UpdatePool(ctx context.Context, cluster, pool int, body UpdatePool) error {
	var ok bool
	return c.do(ctx, "PATCH", c.poolPath(cluster, pool), nil, body, &ok)
}

// DeletePool starts the deletion of an instance pool.
func (c *Client) DeletePool(ctx context.Context, cluster, pool int) error {
	var ok bool
	return c.do(ctx, "DELETE", c.poolPath(cluster, pool), nil, nil, &ok)
}

// APIServer are a cluster's API server options, in the API's wire shape:
// the four keys are always sent, null when unset.
type APIServer struct {
	Params             map[string]string `json:"apiserver_params"`
	OIDCCA             *string           `json:"oidc_ca"`
	AuditPolicy        *string           `json:"audit-policy"`
	AuditWebhookConfig *string           `json:"audit-webhook-config"`
}

// PatchAPIServer writes the API server options.
func (c *Client) PatchAPIServer(ctx context.Context, cluster int, body APIServer) error {
	if body.Params == nil {
		body.Params = map[string]string{}
	}
	var ok bool
	if err := c.do(ctx, "PATCH", c.clusterPath(cluster)+"/apiserver", nil, body, &ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("PATCH apiserver of cluster %d: the API answered false", cluster)
	}
	return nil
}

// PutIPFilters replaces the API server's CIDR allow-list.
func (c *Client) PutIPFilters(ctx context.Context, cluster int, cidrs []string) error {
	if cidrs == nil {
		cidrs = []string{}
	}
	var ok bool
	return c.do(ctx, "PUT", c.clusterPath(cluster)+"/ip_filters", nil, map[string][]string{"ip_filters": cidrs}, &ok)
}

// IPFilters reads the API server's CIDR allow-list.
func (c *Client) IPFilters(ctx context.Context, cluster int) ([]string, error) {
	var out []string
	return out, c.do(ctx, "GET", c.clusterPath(cluster)+"/ip_filters", nil, nil, &out)
}
