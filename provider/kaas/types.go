package kaas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Labels are node labels. On the wire the released Terraform provider
// sends and reads an object; the OpenAPI document describes a list of
// "key: value" strings; an empty set may come back as [] or null. Labels
// decodes all of them and encodes the object form.
type Labels map[string]string

// UnmarshalJSON accepts an object, a list of "key: value" strings, [] and null.
func (l *Labels) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*l = nil
		return nil
	case b[0] == '{':
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("labels: %w", err)
		}
		*l = m
		return nil
	case b[0] == '[':
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("labels: %w", err)
		}
		m := Labels{}
		for _, kv := range list {
			k, v, ok := strings.Cut(kv, ":")
			if !ok {
				return fmt.Errorf("labels: %q is not \"key: value\"", kv)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		if len(m) == 0 {
			m = nil
		}
		*l = m
		return nil
	}
	return fmt.Errorf("labels: unexpected %s", b)
}

// Strings renders the labels as sorted "key: value" strings.
func (l Labels) Strings() []string {
	out := make([]string, 0, len(l))
	for k, v := range l {
		out = append(out, k+": "+v)
	}
	sort.Strings(out)
	return out
}

// Bool is a boolean that the API may send as true, "true", 1 or "1".
type Bool bool

// UnmarshalJSON accepts JSON booleans, strings and numbers.
func (b *Bool) UnmarshalJSON(raw []byte) error {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "null" || s == "" {
		*b = false
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("boolean: unexpected %s", raw)
	}
	*b = Bool(v)
	return nil
}

// Price is an hourly price by currency. The API documents an array; the
// data sources decode an object {"CHF": .., "EUR": ..}; an empty price may
// come as [].
type Price map[string]float64

// UnmarshalJSON accepts an object of numbers, a list of such objects
// (merged), [] and null. A list of anything else is taken as no price
// rather than failing the whole pack list.
func (p *Price) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null" || string(b) == "[]":
		*p = nil
		return nil
	case b[0] == '[':
		var list []map[string]float64
		if err := json.Unmarshal(b, &list); err != nil {
			*p = nil
			return nil
		}
		m := Price{}
		for _, e := range list {
			for k, v := range e {
				m[k] = v
			}
		}
		*p = m
		return nil
	case b[0] == '{':
		var m map[string]float64
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("price: %w", err)
		}
		*p = m
		return nil
	}
	return fmt.Errorf("price: unexpected %s", b)
}

// Rates are a flavor's hourly rates. The API documents an array of
// {hour_incl_tax, hour_excl_tax}; the data sources decode one object.
type Rates struct {
	HourExclTax float64 `json:"hour_excl_tax"`
	HourInclTax float64 `json:"hour_incl_tax"`
}

type rates Rates

// UnmarshalJSON accepts an object, a list of objects (the first counts), [] and null.
func (r *Rates) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*r = Rates{}
		return nil
	case b[0] == '[':
		var list []rates
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("rates: %w", err)
		}
		*r = Rates{}
		if len(list) > 0 {
			*r = Rates(list[0])
		}
		return nil
	}
	var one rates
	if err := json.Unmarshal(b, &one); err != nil {
		return fmt.Errorf("rates: %w", err)
	}
	*r = Rates(one)
	return nil
}

// Pack is a control plane offer.
type Pack struct {
	ID              int    `json:"kaas_pack_id"`
	Name            string `json:"name"`
	Description     string `json:"description"`
	PricePerHour    Price  `json:"price_per_hour"`
	LimitPerProject *int   `json:"limit_per_project"`
	IsActive        Bool   `json:"is_active"`
}

// Flavor is a worker node size.
type Flavor struct {
	Name            string `json:"name"`
	CPU             int    `json:"cpu"`
	RAM             int    `json:"ram"`
	Storage         int    `json:"storage"`
	IsAvailable     Bool   `json:"is_available"`
	MemoryOptimized Bool   `json:"is_memory_optimized"`
	IOPSOptimized   Bool   `json:"is_iops_optimized"`
	GPUOptimized    Bool   `json:"is_gpu_optimized"`
	Rates           Rates  `json:"rates"`
}

// Cluster statuses.
const (
	StatusActive    = "Active"
	StatusCreating  = "Creating"
	StatusDeleting  = "Deleting"
	StatusFailed    = "Failed"
	StatusUpdating  = "Updating"
	StatusQuota     = "FailedQuota"
	StatusScaleDown = "ScalingDown"
)

// Cluster is a KaaS cluster as the API returns it.
type Cluster struct {
	ID                int    `json:"kaas_id"`
	Name              string `json:"name"`
	Region            string `json:"region"`
	KubernetesVersion string `json:"kubernetes_version"`
	Status            string `json:"status"`
	Pack              *struct {
		ID   int    `json:"kaas_pack_id"`
		Name string `json:"name"`
	} `json:"pack"`
}

// PackName is the cluster's pack name, or "".
func (c *Cluster) PackName() string {
	if c.Pack == nil {
		return ""
	}
	return c.Pack.Name
}

// CreateCluster is the body of a cluster creation.
type CreateCluster struct {
	Name              string `json:"name"`
	PackID            int    `json:"kaas_pack_id"`
	Region            string `json:"region"`
	KubernetesVersion string `json:"kubernetes_version"`
}

// UpdateCluster is the body of a cluster update: only the fields the API
// documents, and only those that change.
type UpdateCluster struct {
	Name              string `json:"name,omitempty"`
	KubernetesVersion string `json:"kubernetes_version,omitempty"`
}

// Pool is an instance pool as the API returns it.
type Pool struct {
	ID                 int      `json:"instance_pool_id"`
	ClusterID          int      `json:"kaas_id"`
	Name               string   `json:"name"`
	Flavor             string   `json:"flavor"`
	AvailabilityZone   string   `json:"availability_zone"`
	Status             string   `json:"status"`
	ErrorMessages      []string `json:"error_messages"`
	MinimumInstances   int      `json:"minimum_instances"`
	MaximumInstances   int      `json:"maximum_instances"`
	TargetInstances    int      `json:"target_instances"`
	AvailableInstances int      `json:"available_instances"`
	Labels             Labels   `json:"labels"`
}

// Max is the pool's maximum, which the API may omit when it equals the minimum.
func (p *Pool) Max() int {
	if p.MaximumInstances == 0 {
		return p.MinimumInstances
	}
	return p.MaximumInstances
}

// CreatePool is the body of a pool creation. The instance counts are
// always sent: a zero is an error to report, not a field to drop.
type CreatePool struct {
	Name             string `json:"name"`
	Flavor           string `json:"flavor"`
	AvailabilityZone string `json:"availability_zone"`
	MinimumInstances int    `json:"minimum_instances"`
	MaximumInstances int    `json:"maximum_instances"`
	Labels           Labels `json:"labels,omitempty"`
}

// UpdatePool is the body of a pool update.
type UpdatePool struct {
	Name             string `json:"name,omitempty"`
	MinimumInstances int    `json:"minimum_instances"`
	MaximumInstances int    `json:"maximum_instances"`
}
