package kaas

import (
	"context"
	"fmt"
	"net/url"
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

// Flavors lists the project's worker flavors in a region.
func (c *Client) Flavors(ctx context.Context, region string) ([]Flavor, error) {
	var out []Flavor
	return out, c.do(ctx, "GET", c.projectPath()+"/kaas/flavors", url.Values{"region": {region}}, nil, &out)
}

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
