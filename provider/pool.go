package provider

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"gitlab.com/camps-ch/infra/provider/kaas"
)

// InstancePool is infomaniak:kaas:InstancePool.
type InstancePool struct{}

// InstancePoolArgs are a pool's inputs. kaasId, flavor, availabilityZone
// and labels replace the pool; name and the bounds update in place.
type InstancePoolArgs struct {
	KaasID           int               `pulumi:"kaasId" provider:"replaceOnChanges"`
	Name             string            `pulumi:"name"`
	Flavor           string            `pulumi:"flavor" provider:"replaceOnChanges"`
	AvailabilityZone string            `pulumi:"availabilityZone" provider:"replaceOnChanges"`
	MinInstances     int               `pulumi:"minInstances"`
	MaxInstances     int               `pulumi:"maxInstances"`
	Labels           map[string]string `pulumi:"labels,optional" provider:"replaceOnChanges"`
	// Region is the cluster's region; Check looks the zone and flavor up
	// in its catalogue. Optional: without it they are not looked up.
	Region string `pulumi:"region,optional" provider:"replaceOnChanges"`
}

// InstancePoolState is a pool's state.
type InstancePoolState struct {
	InstancePoolArgs
	InstancePoolID int    `pulumi:"instancePoolId"`
	Status         string `pulumi:"status"`
}

// Annotate sets the token and documents the resource.
func (r *InstancePool) Annotate(a infer.Annotator) {
	a.SetToken("kaas", "InstancePool")
	a.Describe(r, "A pool of worker nodes of a KaaS cluster in one availability zone; autoscaling when maxInstances > minInstances.")
}

// labelRoots are where node label keys may live.
var labelRoots = []string{"node-role.kubernetes.io", "node-restriction.kubernetes.io", "custom.kaas.infomaniak.cloud"}

// Check validates the inputs, naming the field of every failure, and
// then checks the zone and flavor against the region's catalogue.
func (*InstancePool) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[InstancePoolArgs], error) {
	args, failures, err := infer.DefaultCheck[InstancePoolArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[InstancePoolArgs]{Inputs: args, Failures: failures}, err
	}
	fail := func(prop, format string, a ...any) {
		failures = append(failures, p.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, a...)})
	}
	if len(args.Name) == 0 || len(args.Name) > 40 || !dnsLabel.MatchString(args.Name) {
		fail("name", "%q must be a DNS label of 1 to 40 characters", args.Name)
	}
	if args.Flavor == "" {
		fail("flavor", "is required, e.g. a4-ram8-disk50-perf1")
	}
	if args.AvailabilityZone == "" {
		fail("availabilityZone", "is required, e.g. az-1")
	}
	switch {
	case args.MinInstances < 1:
		fail("minInstances", "%d is below 1", args.MinInstances)
	case args.MaxInstances < args.MinInstances:
		fail("maxInstances", "%d is below minInstances %d", args.MaxInstances, args.MinInstances)
	case args.MaxInstances > 1000:
		fail("maxInstances", "%d is above 1000", args.MaxInstances)
	}
	for k := range args.Labels {
		prefix, _, ok := strings.Cut(k, "/")
		allowed := false
		for _, root := range labelRoots {
			allowed = allowed || ok && (prefix == root || strings.HasSuffix(prefix, "."+root))
		}
		if !allowed {
			fail("labels", "key %q must be under node-role.kubernetes.io/, node-restriction.kubernetes.io/ or custom.kaas.infomaniak.cloud/", k)
		}
	}
	if len(failures) == 0 && args.Region != "" && known(req.NewInputs, "region", "availabilityZone", "flavor") {
		if err := checkPoolCatalogue(ctx, args, fail); err != nil {
			return infer.CheckResponse[InstancePoolArgs]{Inputs: args}, err
		}
	}
	return infer.CheckResponse[InstancePoolArgs]{Inputs: args, Failures: failures}, nil
}

// Diff replaces the pool for a new cluster, flavor, zone or labels and
// updates it in place for its name and bounds.
func (*InstancePool) Diff(ctx context.Context, req infer.DiffRequest[InstancePoolArgs, InstancePoolState]) (infer.DiffResponse, error) {
	d := map[string]p.PropertyDiff{}
	o, n := req.State.InstancePoolArgs, req.Inputs
	replace := map[string]bool{
		"kaasId": o.KaasID != n.KaasID, "flavor": o.Flavor != n.Flavor,
		"availabilityZone": o.AvailabilityZone != n.AvailabilityZone,
		"labels":           !maps.Equal(o.Labels, n.Labels) && len(o.Labels)+len(n.Labels) > 0,
		// A state written before the pool knew its region has none.
		"region": o.Region != "" && o.Region != n.Region,
	}
	for k, changed := range replace {
		if changed {
			d[k] = p.PropertyDiff{Kind: p.UpdateReplace}
		}
	}
	update := map[string]bool{"name": o.Name != n.Name, "minInstances": o.MinInstances != n.MinInstances, "maxInstances": o.MaxInstances != n.MaxInstances}
	for k, changed := range update {
		if changed {
			d[k] = p.PropertyDiff{Kind: p.Update}
		}
	}
	return infer.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d, DeleteBeforeReplace: replaces(d)}, nil
}

// poolID is the resource id: "<kaasId>/<instancePoolId>", so that pulumi
// import can name a pool.
func poolID(cluster, pool int) string { return fmt.Sprintf("%d/%d", cluster, pool) }

func parsePoolID(id string) (int, int, error) {
	c, pl, ok := strings.Cut(id, "/")
	cluster, err1 := strconv.Atoi(c)
	pool, err2 := strconv.Atoi(pl)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("instance pool id %q is not <kaasId>/<instancePoolId>", id)
	}
	return cluster, pool, nil
}

// Create creates the pool and waits until its nodes are ready. A pool of
// the same name that an earlier create left behind is adopted.
func (*InstancePool) Create(ctx context.Context, req infer.CreateRequest[InstancePoolArgs]) (infer.CreateResponse[InstancePoolState], error) {
	state := InstancePoolState{InstancePoolArgs: req.Inputs}
	if req.DryRun {
		return infer.CreateResponse[InstancePoolState]{Output: state}, nil
	}
	c, poll, err := clientOf(ctx)
	if err != nil {
		return infer.CreateResponse[InstancePoolState]{}, err
	}
	in := req.Inputs
	// Adopt only a pool this create would have made.
	left, err := c.PoolByName(ctx, in.KaasID, in.Name, in.Flavor, in.AvailabilityZone)
	if err != nil {
		return infer.CreateResponse[InstancePoolState]{}, err
	}
	if left != nil {
		p.GetLogger(ctx).Infof("adopting instance pool %s (%d) left by an earlier create", in.Name, left.ID)
		state.InstancePoolID = left.ID
	} else {
		state.InstancePoolID, err = c.CreatePoolOnce(ctx, in.KaasID, kaas.CreatePool{
			Name: in.Name, Flavor: in.Flavor, AvailabilityZone: in.AvailabilityZone,
			MinimumInstances: in.MinInstances, MaximumInstances: in.MaxInstances, Labels: in.Labels,
		})
		if err != nil {
			return infer.CreateResponse[InstancePoolState]{}, err
		}
	}
	id := poolID(in.KaasID, state.InstancePoolID)
	pl, err := c.WaitPool(ctx, in.KaasID, state.InstancePoolID, kaas.PoolTarget{Min: in.MinInstances, Max: in.MaxInstances}, poll, progress(ctx))
	if pl != nil {
		state.Status = pl.Status
	}
	if err != nil {
		return infer.CreateResponse[InstancePoolState]{ID: id, Output: state}, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return infer.CreateResponse[InstancePoolState]{ID: id, Output: state}, nil
}

// Read refreshes the pool; 404 means it is gone.
func (*InstancePool) Read(ctx context.Context, req infer.ReadRequest[InstancePoolArgs, InstancePoolState]) (infer.ReadResponse[InstancePoolArgs, InstancePoolState], error) {
	c, _, err := clientOf(ctx)
	if err != nil {
		return infer.ReadResponse[InstancePoolArgs, InstancePoolState]{}, err
	}
	cluster, pool, err := parsePoolID(req.ID)
	if err != nil {
		return infer.ReadResponse[InstancePoolArgs, InstancePoolState]{}, err
	}
	pl, err := c.Pool(ctx, cluster, pool)
	if kaas.IsNotFound(err) {
		return infer.ReadResponse[InstancePoolArgs, InstancePoolState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[InstancePoolArgs, InstancePoolState]{}, err
	}
	s := InstancePoolState{
		InstancePoolArgs: InstancePoolArgs{
			KaasID: cluster, Name: pl.Name, Flavor: pl.Flavor, AvailabilityZone: pl.AvailabilityZone,
			MinInstances: pl.MinimumInstances, MaxInstances: pl.Max(), Labels: pl.Labels,
		},
		InstancePoolID: pl.ID, Status: pl.Status,
	}
	if len(pl.ErrorMessages) > 0 {
		p.GetLogger(ctx).Warningf("instance pool %s: %s", pl.Name, strings.Join(pl.ErrorMessages, ", "))
	}
	return infer.ReadResponse[InstancePoolArgs, InstancePoolState]{ID: req.ID, Inputs: s.InstancePoolArgs, State: s}, nil
}

// Update renames or resizes the pool and waits for the new size.
func (*InstancePool) Update(ctx context.Context, req infer.UpdateRequest[InstancePoolArgs, InstancePoolState]) (infer.UpdateResponse[InstancePoolState], error) {
	state := req.State
	state.InstancePoolArgs = req.Inputs
	if req.DryRun {
		return infer.UpdateResponse[InstancePoolState]{Output: state}, nil
	}
	c, poll, err := clientOf(ctx)
	if err != nil {
		return infer.UpdateResponse[InstancePoolState]{}, err
	}
	in := req.Inputs
	if err := c.UpdatePool(ctx, in.KaasID, state.InstancePoolID, kaas.UpdatePool{
		Name: in.Name, MinimumInstances: in.MinInstances, MaximumInstances: in.MaxInstances,
	}); err != nil {
		return infer.UpdateResponse[InstancePoolState]{}, err
	}
	target := kaas.PoolTarget{Min: in.MinInstances, Max: in.MaxInstances, ScalingDown: in.MaxInstances < req.State.MaxInstances}
	pl, err := c.WaitPool(ctx, in.KaasID, state.InstancePoolID, target, poll, progress(ctx))
	if pl != nil {
		state.Status = pl.Status
	}
	return infer.UpdateResponse[InstancePoolState]{Output: state}, err
}

// Delete deletes the pool and waits until the API answers 404.
func (*InstancePool) Delete(ctx context.Context, req infer.DeleteRequest[InstancePoolState]) (infer.DeleteResponse, error) {
	c, poll, err := clientOf(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	s := req.State
	if err := c.DeletePool(ctx, s.KaasID, s.InstancePoolID); err != nil && !kaas.IsNotFound(err) {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, c.WaitGone(ctx, "instance pool "+s.Name, poll, progress(ctx), func() error {
		_, err := c.Pool(ctx, s.KaasID, s.InstancePoolID)
		return err
	})
}
