package provider

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strconv"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"gitlab.com/camps-ch/infra/provider/kaas"
)

// Cluster is infomaniak:kaas:Cluster.
type Cluster struct{}

// ClusterArgs are a cluster's inputs. region and packName replace the
// cluster; the rest updates in place.
type ClusterArgs struct {
	Name              string         `pulumi:"name"`
	Region            string         `pulumi:"region" provider:"replaceOnChanges"`
	PackName          string         `pulumi:"packName" provider:"replaceOnChanges"`
	KubernetesVersion string         `pulumi:"kubernetesVersion"`
	APIServer         *APIServerArgs `pulumi:"apiServer,optional"`
}

// APIServerArgs are the API server options.
type APIServerArgs struct {
	IPFilters          []string  `pulumi:"ipFilters,optional"`
	AuditPolicy        *string   `pulumi:"auditPolicy,optional"`
	AuditWebhookConfig *string   `pulumi:"auditWebhookConfig,optional" provider:"secret"`
	OIDC               *OIDCArgs `pulumi:"oidc,optional"`
}

// OIDCArgs are the API server's OIDC flags.
type OIDCArgs struct {
	IssuerURL      string  `pulumi:"issuerUrl"`
	ClientID       string  `pulumi:"clientId"`
	UsernameClaim  *string `pulumi:"usernameClaim,optional"`
	UsernamePrefix *string `pulumi:"usernamePrefix,optional"`
	GroupsClaim    *string `pulumi:"groupsClaim,optional"`
	GroupsPrefix   *string `pulumi:"groupsPrefix,optional"`
	SigningAlgs    *string `pulumi:"signingAlgs,optional"`
	RequiredClaim  *string `pulumi:"requiredClaim,optional"`
	CA             *string `pulumi:"ca,optional" provider:"secret"`
}

// ClusterState is a cluster's state: its inputs and what the API computes.
type ClusterState struct {
	ClusterArgs
	KaasID     int    `pulumi:"kaasId"`
	Status     string `pulumi:"status"`
	Kubeconfig string `pulumi:"kubeconfig" provider:"secret"`
}

// Annotate sets the token and documents the resource.
func (c *Cluster) Annotate(a infer.Annotator) {
	a.SetToken("kaas", "Cluster")
	a.Describe(c, "An Infomaniak managed Kubernetes cluster (KaaS).")
}

var (
	dnsLabel      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	minorVersion  = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	claimPrefix   = regexp.MustCompile(`^[-a-zA-Z0-9:]*$`)
	usernameClaim = map[string]bool{"email": true, "name": true, "sub": true}
	signingAlgs   = map[string]bool{"ES256": true, "ES384": true, "ES512": true, "PS256": true, "PS384": true, "PS512": true, "RS256": true, "RS384": true, "RS512": true}
)

// Check validates the inputs, naming the field of every failure, and
// then checks the region, version and pack against the API's catalogue.
func (*Cluster) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[ClusterArgs], error) {
	args, failures, err := infer.DefaultCheck[ClusterArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[ClusterArgs]{Inputs: args, Failures: failures}, err
	}
	fail := func(prop, format string, a ...any) {
		failures = append(failures, p.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, a...)})
	}
	if len(args.Name) == 0 || len(args.Name) > 40 || !dnsLabel.MatchString(args.Name) {
		fail("name", "%q must be a DNS label of 1 to 40 characters", args.Name)
	}
	if args.Region == "" {
		fail("region", "is required, e.g. dc4-a")
	}
	if args.PackName == "" {
		fail("packName", "is required, e.g. shared")
	}
	if !minorVersion.MatchString(args.KubernetesVersion) {
		fail("kubernetesVersion", "%q is not a minor version such as 1.35", args.KubernetesVersion)
	}
	if a := args.APIServer; a != nil {
		for i, cidr := range a.IPFilters {
			if pfx, err := netip.ParsePrefix(cidr); err != nil {
				fail(fmt.Sprintf("apiServer.ipFilters[%d]", i), "%q is not a CIDR", cidr)
			} else if pfx != pfx.Masked() {
				fail(fmt.Sprintf("apiServer.ipFilters[%d]", i), "%q has host bits set; write %s", cidr, pfx.Masked())
			}
		}
		if o := a.OIDC; o != nil {
			if o.IssuerURL == "" || o.ClientID == "" {
				fail("apiServer.oidc", "issuerUrl and clientId are required")
			}
			if o.UsernameClaim != nil && !usernameClaim[*o.UsernameClaim] {
				fail("apiServer.oidc.usernameClaim", "%q is not email, name or sub", *o.UsernameClaim)
			}
			if o.SigningAlgs != nil && !signingAlgs[*o.SigningAlgs] {
				fail("apiServer.oidc.signingAlgs", "%q is not one of ES/PS/RS 256/384/512", *o.SigningAlgs)
			}
			for prop, v := range map[string]*string{"apiServer.oidc.usernamePrefix": o.UsernamePrefix, "apiServer.oidc.groupsPrefix": o.GroupsPrefix} {
				if v != nil && !claimPrefix.MatchString(*v) {
					fail(prop, "%q may hold only letters, digits, '-' and ':'", *v)
				}
			}
		}
	}
	if len(failures) == 0 && known(req.NewInputs, "region", "kubernetesVersion", "packName") {
		if err := checkClusterCatalogue(ctx, args, fail); err != nil {
			return infer.CheckResponse[ClusterArgs]{Inputs: args}, err
		}
	}
	return infer.CheckResponse[ClusterArgs]{Inputs: args, Failures: failures}, nil
}

// Diff replaces the cluster for a new region or pack and updates it in
// place for the rest.
func (*Cluster) Diff(ctx context.Context, req infer.DiffRequest[ClusterArgs, ClusterState]) (infer.DiffResponse, error) {
	d := map[string]p.PropertyDiff{}
	o, n := req.State.ClusterArgs, req.Inputs
	if o.Region != n.Region {
		d["region"] = p.PropertyDiff{Kind: p.UpdateReplace}
	}
	if o.PackName != n.PackName {
		d["packName"] = p.PropertyDiff{Kind: p.UpdateReplace}
	}
	if o.Name != n.Name {
		d["name"] = p.PropertyDiff{Kind: p.Update}
	}
	if o.KubernetesVersion != n.KubernetesVersion {
		d["kubernetesVersion"] = p.PropertyDiff{Kind: p.Update}
	}
	if !reflect.DeepEqual(o.APIServer, n.APIServer) {
		d["apiServer"] = p.PropertyDiff{Kind: p.Update}
	}
	return infer.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d, DeleteBeforeReplace: replaces(d)}, nil
}

// replaces tells whether a diff replaces the resource. Replacements delete
// first: the new resource has the old one's name, and Create adopts a
// same-named leftover, so the old one must be gone before.
func replaces(d map[string]p.PropertyDiff) bool {
	for _, pd := range d {
		if pd.Kind == p.UpdateReplace {
			return true
		}
	}
	return false
}

// Create creates the cluster, waits until it is Active, applies the API
// server options and reads the kubeconfig. A cluster of the same name in
// the region that a failed earlier create left behind is adopted, not
// created twice.
func (*Cluster) Create(ctx context.Context, req infer.CreateRequest[ClusterArgs]) (infer.CreateResponse[ClusterState], error) {
	state := ClusterState{ClusterArgs: req.Inputs}
	if req.DryRun {
		return infer.CreateResponse[ClusterState]{Output: state}, nil
	}
	c, poll, err := clientOf(ctx)
	if err != nil {
		return infer.CreateResponse[ClusterState]{}, err
	}
	in := req.Inputs
	existing, err := c.ClusterByName(ctx, in.Name, in.Region)
	if err != nil {
		return infer.CreateResponse[ClusterState]{}, err
	}
	if existing != nil && existing.PackName() != "" && existing.PackName() != in.PackName {
		return infer.CreateResponse[ClusterState]{}, fmt.Errorf("a cluster %s of pack %s already exists in %s; this one is of pack %s",
			in.Name, existing.PackName(), in.Region, in.PackName)
	}
	if existing != nil {
		p.GetLogger(ctx).Infof("adopting cluster %s (%d) left by an earlier create", in.Name, existing.ID)
		state.KaasID = existing.ID
	} else {
		pack, err := c.PackID(ctx, in.PackName)
		if err != nil {
			return infer.CreateResponse[ClusterState]{}, err
		}
		if state.KaasID, err = c.CreateClusterOnce(ctx, kaas.CreateCluster{
			Name: in.Name, PackID: pack, Region: in.Region, KubernetesVersion: in.KubernetesVersion,
		}); err != nil {
			return infer.CreateResponse[ClusterState]{}, err
		}
	}
	id := strconv.Itoa(state.KaasID)
	if applied, err := finish(ctx, c, poll, &state, state.APIServer != nil); err != nil {
		// The cluster exists: record it, so the next run continues it.
		// Options not yet applied stay out of the state, so that the
		// next run's Update applies them.
		if !applied {
			state.APIServer = nil
		}
		return infer.CreateResponse[ClusterState]{ID: id, Output: state},
			infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return infer.CreateResponse[ClusterState]{ID: id, Output: state}, nil
}

// finish waits for the cluster, applies its API server options (when
// asked) and reads its kubeconfig. It reports whether the options were
// applied.
func finish(ctx context.Context, c *kaas.Client, poll kaas.Poll, s *ClusterState, applyAPIServer bool) (bool, error) {
	cl, err := c.WaitCluster(ctx, s.KaasID, poll, progress(ctx))
	if cl != nil {
		s.Status = cl.Status
	}
	if err != nil {
		return false, err
	}
	if applyAPIServer {
		if err := applyAPIServerArgs(ctx, c, s.KaasID, s.APIServer); err != nil {
			return false, err
		}
	}
	s.Kubeconfig, err = c.Kubeconfig(ctx, s.KaasID)
	return true, err
}

// applyAPIServerArgs writes the options; nil clears them (no OIDC, no
// audit, no IP filters).
func applyAPIServerArgs(ctx context.Context, c *kaas.Client, id int, a *APIServerArgs) error {
	if a == nil {
		a = &APIServerArgs{}
	}
	body := kaas.APIServer{Params: map[string]string{}, AuditPolicy: a.AuditPolicy, AuditWebhookConfig: a.AuditWebhookConfig}
	if o := a.OIDC; o != nil {
		body.OIDCCA = o.CA
		body.Params["--oidc-issuer-url"] = o.IssuerURL
		body.Params["--oidc-client-id"] = o.ClientID
		for flag, v := range map[string]*string{
			"--oidc-username-claim": o.UsernameClaim, "--oidc-username-prefix": o.UsernamePrefix,
			"--oidc-groups-claim": o.GroupsClaim, "--oidc-groups-prefix": o.GroupsPrefix,
			"--oidc-signing-algs": o.SigningAlgs, "--oidc-required-claim": o.RequiredClaim,
		} {
			if v != nil {
				body.Params[flag] = *v
			}
		}
	}
	if err := c.PatchAPIServer(ctx, id, body); err != nil {
		return err
	}
	return c.PutIPFilters(ctx, id, a.IPFilters)
}

// Read refreshes the cluster; an answer of 404 means it is gone. With no
// prior state (pulumi import) the inputs are read from the API.
func (*Cluster) Read(ctx context.Context, req infer.ReadRequest[ClusterArgs, ClusterState]) (infer.ReadResponse[ClusterArgs, ClusterState], error) {
	c, _, err := clientOf(ctx)
	if err != nil {
		return infer.ReadResponse[ClusterArgs, ClusterState]{}, err
	}
	id, err := strconv.Atoi(req.ID)
	if err != nil {
		return infer.ReadResponse[ClusterArgs, ClusterState]{}, fmt.Errorf("cluster id %q is not a number", req.ID)
	}
	cl, err := c.Cluster(ctx, id)
	if kaas.IsNotFound(err) {
		return infer.ReadResponse[ClusterArgs, ClusterState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[ClusterArgs, ClusterState]{}, err
	}
	state := req.State
	state.KaasID, state.Status = cl.ID, cl.Status
	state.Name, state.Region, state.KubernetesVersion = cl.Name, cl.Region, cl.KubernetesVersion
	if pack := cl.PackName(); pack != "" {
		state.PackName = pack
	}
	if state.APIServer != nil {
		filters, err := c.IPFilters(ctx, id)
		if err != nil {
			return infer.ReadResponse[ClusterArgs, ClusterState]{}, err
		}
		state.APIServer.IPFilters = filters
	}
	if state.Kubeconfig, err = c.Kubeconfig(ctx, id); err != nil {
		return infer.ReadResponse[ClusterArgs, ClusterState]{}, err
	}
	return infer.ReadResponse[ClusterArgs, ClusterState]{ID: req.ID, Inputs: state.ClusterArgs, State: state}, nil
}

// Update renames or upgrades the cluster and rewrites its API server options.
func (*Cluster) Update(ctx context.Context, req infer.UpdateRequest[ClusterArgs, ClusterState]) (infer.UpdateResponse[ClusterState], error) {
	state := req.State
	state.ClusterArgs = req.Inputs
	if req.DryRun {
		return infer.UpdateResponse[ClusterState]{Output: state}, nil
	}
	c, poll, err := clientOf(ctx)
	if err != nil {
		return infer.UpdateResponse[ClusterState]{}, err
	}
	// Compare with the live cluster, not the state: after an upgrade whose
	// wait failed, the state is old but the cluster already moved on.
	live, err := c.Cluster(ctx, state.KaasID)
	if err != nil {
		return infer.UpdateResponse[ClusterState]{}, err
	}
	body := kaas.UpdateCluster{}
	if req.Inputs.Name != live.Name {
		body.Name = req.Inputs.Name
	}
	if req.Inputs.KubernetesVersion != live.KubernetesVersion {
		body.KubernetesVersion = req.Inputs.KubernetesVersion
	}
	if body != (kaas.UpdateCluster{}) {
		if err := c.UpdateCluster(ctx, state.KaasID, body); err != nil {
			return infer.UpdateResponse[ClusterState]{}, err
		}
	}
	apply := !reflect.DeepEqual(req.State.APIServer, req.Inputs.APIServer)
	if applied, err := finish(ctx, c, poll, &state, apply); err != nil {
		if apply && !applied {
			state.APIServer = req.State.APIServer
		}
		return infer.UpdateResponse[ClusterState]{Output: state}, err
	}
	return infer.UpdateResponse[ClusterState]{Output: state}, nil
}

// Delete deletes the cluster and waits until the API answers 404.
func (*Cluster) Delete(ctx context.Context, req infer.DeleteRequest[ClusterState]) (infer.DeleteResponse, error) {
	c, poll, err := clientOf(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	id := req.State.KaasID
	if err := c.DeleteCluster(ctx, id); err != nil && !kaas.IsNotFound(err) {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, c.WaitGone(ctx, fmt.Sprintf("cluster %d", id), poll, progress(ctx), func() error {
		_, err := c.Cluster(ctx, id)
		return err
	})
}
