package stacks

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/platform"
)

// nodeSystemShare is the share of a node's disk, in percent, counted for
// its system: the OS, the container images and the logs, on the same disk
// as Longhorn's default disk. Infomaniak does not publish its node image,
// so this is an estimate; Longhorn's minimal available share must stay
// free on top of it.
const nodeSystemShare = 10

// storageClassFor is the class of a workload's volumes: a workload of
// several instances replicates its data itself (CloudNativePG's standbys,
// OpenBao's Raft, Prometheus's replicas), so one Longhorn replica on the
// pod's node suffices; a single instance keeps Longhorn's replication.
func storageClassFor(instances int) string {
	if instances > 1 {
		return convention.LocalStorageClass
	}
	return convention.StorageClass
}

// claim is a kind of volume the stack creates, with the configuration key
// that sizes it.
type claim struct {
	key string
	convention.Volumes
}

// claims are every volume the stack's own workloads claim on its cluster.
func (c *Config) claims() []claim {
	var out []claim
	add := func(key string, vs []convention.Volumes) {
		for _, v := range vs {
			out = append(out, claim{key, v})
		}
	}
	if *c.Platform.Install {
		add("platform.monitoring.storageSize", c.monitoringArgs(platformInputs{}).Volumes())
		add("platform.charts.pushgateway", c.pushgatewayArgs(platformInputs{}).Volumes())
	}
	if *c.Security.OpenBao.Enabled {
		vs := c.openBaoArgs(nil, nil, nil).Volumes()
		add("security.openbao.storageSize", vs[:1])
		add("security.openbao.auditStorageSize", vs[1:])
	}
	if *c.Security.Audit.Enabled {
		add("security.audit", c.auditSinkArgs(pulumi.StringOutput{}, nil, platformReady{}).Volumes())
	}
	var drills []convention.Volumes
	if c.postgres() {
		for _, ns := range c.Namespaces {
			pg := c.postgresArgs(ns, pulumi.String(ns.Name), nil)
			add("data.postgres.storageSize", pg.Volumes())
			if drill := c.restoreDrillArgs(pg, platformReady{}); drill != nil {
				drills = append(drills, drill.Volumes()...)
			}
		}
	}
	// The drills' throwaway volumes exist only while a drill runs: the
	// databases' together, Longhorn's alone, later (its own schedule). So
	// the larger of the two counts: the databases' copies, or Longhorn's
	// copy of the largest volume it backs up (any of them, as the newest
	// backup decides), on one replica.
	if *c.Platform.Install && *c.Data.LonghornBackups && c.Data.Drill.Schedule != scheduleOff {
		var sum, largest int64
		for _, d := range drills {
			b, _ := d.Bytes()
			sum += b * int64(d.Count)
		}
		var biggest convention.Volumes
		for _, cl := range out {
			if b, _ := cl.Bytes(); b > largest {
				largest, biggest = b, cl.Volumes
			}
		}
		if largest > sum {
			drills = []convention.Volumes{{Name: "longhorn restore drill", Count: 1, Size: biggest.Size, StorageClass: convention.ScratchStorageClass}}
		}
	}
	add("data.drill.schedule", drills)
	return out
}

// postgres tells whether each namespace has a PostgreSQL cluster.
func (c *Config) postgres() bool { return *c.Data.Enabled && *c.Data.Postgres.Enabled }

// postgresBytes is what one namespace's PostgreSQL cluster claims.
func (c *Config) postgresBytes() int64 {
	size, _ := parseQuantity(c.Data.Postgres.StorageSize)
	return size.Value() * int64(*c.Data.Postgres.Instances)
}

// applicationQuota is what the namespaces' applications may claim: each
// namespace's storage quota less its PostgreSQL cluster's claims, which
// count against it.
func (c *Config) applicationQuota() int64 {
	var total int64
	for _, ns := range c.Namespaces {
		quota, _ := parseQuantity(ns.Quota.RequestsStorage)
		room := quota.Value()
		if c.postgres() {
			room -= c.postgresBytes()
		}
		total += max(room, 0)
	}
	return total
}

// StorageBudget is the stack's volumes placed on the Longhorn disks of the
// cluster's smallest node set.
type StorageBudget struct {
	// Nodes is how many nodes the figures assume (each pool at its minimum).
	Nodes int `json:"nodes"`
	// Disk are Longhorn's disk settings the figures follow.
	Disk platform.DiskSettings `json:"disk"`
	// Volumes are the stack's volumes, largest first.
	Volumes []StorageLine `json:"volumes"`
	// Need is the bytes of every replica of every volume.
	Need int64 `json:"needBytes"`
	// Schedulable is what Longhorn schedules on all the nodes.
	Schedulable int64 `json:"schedulableBytes"`
	// NodeDisk, NodeSchedulable and NodeUsed are each node's disk, what
	// Longhorn schedules on it, and what the placement put there.
	NodeDisk        []int64 `json:"nodeDiskBytes"`
	NodeSchedulable []int64 `json:"nodeSchedulableBytes"`
	NodeUsed        []int64 `json:"nodeUsedBytes"`
	// Unplaced is the volume that found no node with room, if any.
	Unplaced *StorageLine `json:"unplaced,omitempty"`
	// ApplicationQuota is what the namespaces' quotas let applications
	// claim beyond the stack's own volumes, each with Replicas replicas
	// on the default class. Not counted in Need: quotas are upper bounds,
	// which the budget shows against what is left.
	ApplicationQuota int64 `json:"applicationQuotaBytes"`
	Replicas         int   `json:"replicas"`
}

// StorageLine is one kind of volume in the budget.
type StorageLine struct {
	// Name says whose volumes they are; Key is the configuration key that
	// sizes them.
	Name string `json:"name"`
	Key  string `json:"key"`
	// Count claims of Size on StorageClass, each with Replicas Longhorn
	// replicas.
	Count        int    `json:"count"`
	Size         int64  `json:"sizeBytes"`
	StorageClass string `json:"storageClass"`
	Replicas     int    `json:"replicas"`
	// Need is Count × Size × Replicas.
	Need int64 `json:"needBytes"`
}

// ApplicationRoom is the most that claims on the default class can add:
// the largest total C whose Replicas copies of each fit on distinct nodes,
// that is, the sum over the nodes of min(room, C) is at least Replicas × C.
func (b StorageBudget) ApplicationRoom() int64 {
	replicas := int64(max(b.Replicas, 1))
	var free []int64
	var total int64
	for i := range b.NodeUsed {
		f := max(b.NodeSchedulable[i]-b.NodeUsed[i], 0)
		free = append(free, f)
		total += f
	}
	if replicas > int64(len(free)) { // soft anti-affinity: replicas share nodes
		return total / replicas
	}
	fits := func(c int64) bool {
		var sum int64
		for _, f := range free {
			sum += min(f, c)
		}
		return sum >= replicas*c
	}
	lo, hi := int64(0), total/replicas
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// Fits tells whether every volume found room.
func (b StorageBudget) Fits() bool { return b.Unplaced == nil }

// gb formats bytes as decimal gigabytes, as flavors name their disks.
func gb(bytes int64) string { return fmt.Sprintf("%.1f GB", float64(bytes)/1e9) }

// String renders the budget for people.
func (b StorageBudget) String() string {
	var s strings.Builder
	share := 0.0
	if b.Schedulable > 0 {
		share = float64(b.Need*1000/b.Schedulable) / 10
	}
	fmt.Fprintf(&s, "storage budget on %d node(s): %s of volume replicas of the %s Longhorn schedules (%.1f %%)",
		b.Nodes, gb(b.Need), gb(b.Schedulable), share)
	fmt.Fprintf(&s, "\n  each node: the lesser of %d %% of its disk unreserved × %d %% over-provisioning, and %d %% less %d %% kept free and %d %% for the system",
		100-b.Disk.ReservedPercent, b.Disk.OverProvisioningPercent, 100, b.Disk.MinimalAvailablePercent, nodeSystemShare)
	for _, v := range b.Volumes {
		fmt.Fprintf(&s, "\n  %-24s %d × %-9s on %-14s × %d replica(s) = %s", v.Name, v.Count, gb(v.Size), v.StorageClass, v.Replicas, gb(v.Need))
	}
	for i := range b.NodeUsed {
		fmt.Fprintf(&s, "\n  node %d: %s of %s (disk %s)", i+1, gb(b.NodeUsed[i]), gb(b.NodeSchedulable[i]), gb(b.NodeDisk[i]))
	}
	room := b.ApplicationRoom()
	fmt.Fprintf(&s, "\n  left for applications: %s of claims at %d replica(s); their quotas allow %s", gb(room), b.Replicas, gb(b.ApplicationQuota))
	if b.ApplicationQuota > room {
		s.WriteString(", more than is left: claims beyond it will stay Pending")
	}
	if u := b.Unplaced; u != nil {
		fmt.Fprintf(&s, "\n  does not fit: %s (%s)", u.Name, u.Key)
	}
	return s.String()
}

// StorageBudget places every volume's replicas on the nodes, largest
// first, each on the node with the most room that holds no other replica
// of it, as Longhorn's replica anti-affinity and the workloads' spread
// across zones do. Volumes on the default class are replicated
// platform.longhorn.replicas times; a self-replicating workload's claims
// on the local class are its replicas, one per node. Where replicas
// outnumber the nodes they share them, as soft anti-affinity lets them.
func (c *Config) StorageBudget() StorageBudget {
	disk := platform.DefaultDiskSettings
	b := StorageBudget{Nodes: len(c.nodes()), Disk: disk, Replicas: *c.Platform.Longhorn.Replicas, ApplicationQuota: c.applicationQuota()}
	for _, n := range c.nodes() {
		sched := disk.Schedulable(n.Disk, n.Disk*nodeSystemShare/100)
		b.NodeDisk = append(b.NodeDisk, n.Disk)
		b.NodeSchedulable = append(b.NodeSchedulable, sched)
		b.NodeUsed = append(b.NodeUsed, 0)
		b.Schedulable += sched
	}
	// Each group's copies go to distinct nodes.
	type group struct {
		line   int
		copies int
	}
	var groups []group
	for _, cl := range c.claims() {
		size, err := cl.Bytes()
		if err != nil || cl.Count < 1 {
			continue // validated elsewhere
		}
		replicas := *c.Platform.Longhorn.Replicas
		if cl.StorageClass == convention.LocalStorageClass || cl.StorageClass == convention.ScratchStorageClass {
			replicas = 1
		}
		line := StorageLine{Name: cl.Name, Key: cl.key, Count: cl.Count, Size: size, StorageClass: cl.StorageClass,
			Replicas: replicas, Need: size * int64(cl.Count*replicas)}
		b.Volumes = append(b.Volumes, line)
		b.Need += line.Need
		if replicas == 1 {
			groups = append(groups, group{len(b.Volumes) - 1, cl.Count})
			continue
		}
		for range cl.Count {
			groups = append(groups, group{len(b.Volumes) - 1, replicas})
		}
	}
	lines := slices.Clone(b.Volumes)
	slices.SortStableFunc(groups, func(x, y group) int { return cmp.Compare(lines[y.line].Size, lines[x.line].Size) })
	slices.SortStableFunc(b.Volumes, func(x, y StorageLine) int { return cmp.Compare(y.Need, x.Need) })
	for _, g := range groups {
		v := lines[g.line]
		holds := make([]bool, len(b.NodeUsed))
		for copy := range g.copies {
			best := -1
			for n := range b.NodeUsed {
				if holds[n] && copy < len(b.NodeUsed) {
					continue
				}
				if best < 0 || b.NodeSchedulable[n]-b.NodeUsed[n] > b.NodeSchedulable[best]-b.NodeUsed[best] {
					best = n
				}
			}
			if best < 0 || b.NodeSchedulable[best]-b.NodeUsed[best] < v.Size {
				if b.Unplaced == nil {
					b.Unplaced = &v
				}
				continue
			}
			b.NodeUsed[best] += v.Size
			holds[best] = true
		}
	}
	return b
}

// validateStorage refuses volumes that Longhorn cannot place on the
// nodes, naming the key of the largest (the biggest lever) and the
// figures.
func (c *Config) validateStorage(ps *Problems) {
	if !*c.Platform.Install || c.Cluster.Mode != ModeCreate {
		return
	}
	b := c.StorageBudget()
	if b.Fits() {
		return
	}
	largest := b.Volumes[0]
	shortBy := fmt.Sprintf("%s short", gb(b.Need-b.Schedulable))
	if b.Need <= b.Schedulable {
		shortBy = fmt.Sprintf("enough in sum, but %s finds no node with room for its replicas", b.Unplaced.Name)
	}
	ps.add(largest.Key, "the volumes need %s of the %s Longhorn schedules on %d node(s), %s; the largest are %s, %d × %s on %s with %d replica(s) (%s). "+
		"Shrink the volumes, or choose pools with larger disks (cluster.pools[].flavor; the provider's getFlavors lists them)",
		gb(b.Need), gb(b.Schedulable), b.Nodes, shortBy, largest.Name, largest.Count, gb(largest.Size), largest.StorageClass, largest.Replicas, gb(largest.Need))
}
