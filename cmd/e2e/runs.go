package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"

	"gitlab.com/camps-ch/infra/internal/e2e/kaasfake"
	"gitlab.com/camps-ch/infra/stacks"
)

// Secret keys the stack files leave to the operator: the run sets them
// with values of its own (see project.stack).
var (
	uatSecrets  = []string{stacks.KeyRegistryToken, stacks.KeyDNSToken}
	prodSecrets = []string{stacks.KeyRegistryToken}
)

// unofferedFlavor is a flavor the KaaS API does not offer.
const unofferedFlavor = "a4-ram8-disk80-perf1"

// phase1: uat creates the shared cluster and its platform, prod attaches
// to it through a real StackReference; a second preview of each shows no
// change, also after a refresh; each namespace's deployer kubeconfig works
// in its namespace only; then both are destroyed.
func phase1(ctx context.Context, r *runner, p *project) error {
	uat, err := p.stack(ctx, "uat", uatSecrets...)
	if err != nil {
		return err
	}
	if err := p.unofferedFlavor(ctx, uat); err != nil {
		return err
	}
	if err := p.settle(ctx, r, uat, map[string]int{"camps-shared": 1}); err != nil {
		return err
	}
	prod, err := p.stack(ctx, "prod", prodSecrets...)
	if err != nil {
		return err
	}
	return all(
		func() error { return p.settle(ctx, r, prod, map[string]int{"camps-shared": 1}) },
		func() error { return p.deployers(ctx, r, uat, prod) },
		func() error { return p.people(ctx, r, uat) },
		func() error { return p.drills(ctx, r, 2) },
		func() error { return p.destroy(ctx, r, prod) },
		func() error { return p.destroy(ctx, r, uat) },
	)
}

// phase2: prod creates its own cluster with three pools, OpenBao (its
// static seal followed through the chart's rendering), the External
// Secrets Operator and the audit sink, and scales: the ingress
// controller's autoscaler, metrics-server, a Pooler per database; its
// deployer kubeconfig works in its namespace only.
func phase2(ctx context.Context, r *runner, p *project) error {
	prod, err := p.stack(ctx, "prod", append(prodSecrets, stacks.KeyDNSToken)...)
	if err != nil {
		return err
	}
	if err := prod.SetConfig(ctx, stacks.FullKey(stacks.KeyPhase), auto.ConfigValue{Value: "2"}); err != nil {
		return err
	}
	return all(
		func() error { return p.settle(ctx, r, prod, map[string]int{"camps-prod": 3}) },
		func() error { return p.autoscaling(ctx, r) },
		func() error { return p.openBaoSeal(ctx, r, prod) },
		func() error { return p.deployers(ctx, r, prod) },
		func() error { return p.drills(ctx, r, 1) },
		func() error { return p.destroy(ctx, r, prod) },
	)
}

// recovery: the recovery stack creates its cluster in dc3-a (the fake
// offers dc3-a's zones as the KaaS API document lists them) with its
// platform and production's database recovered from the copy bucket.
func recovery(ctx context.Context, r *runner, p *project) error {
	dr, err := p.stack(ctx, "dr", append(prodSecrets, stacks.KeyDNSToken)...)
	if err != nil {
		return err
	}
	return all(
		func() error { return p.settle(ctx, r, dr, map[string]int{"camps-dr": 3}) },
		func() error { return p.drills(ctx, r, 1) },
		func() error { return p.destroy(ctx, r, dr) },
	)
}

// settle previews and deploys a stack, checks the KaaS API's clusters
// (name → pools), and previews it twice, before and after a refresh,
// expecting no change: the state settles after one up.
func (p *project) settle(ctx context.Context, r *runner, s auto.Stack, clusters map[string]int) error {
	return all(
		func() error { return p.preview(ctx, s, false) },
		func() error { return p.up(ctx, r, s) },
		func() error { return p.clusters(ctx, r, clusters) },
		func() error { return p.preview(ctx, s, true) },
		func() error { return p.refresh(ctx, s) },
		func() error { return p.preview(ctx, s, true) },
	)
}

// faults are the fault run's injected answers, served in order to the
// first requests that match: the catalogue rate-limited and behind a
// failing proxy, the cluster's create answered 500 without creating,
// then created with its answer lost, the pool's create answer lost.
var faults = map[string][]kaasfake.Fault{
	"GET /1/public_clouds/kaas/packs": {
		{Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: `{"result":"error","error":{"code":"too_many_requests","description":"Too many requests"}}`},
		{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
	},
	"GET /kaas/flavors": {{Status: 429}},
	"POST /kaas": {
		{Status: 500, Body: `{"result":"error","error":{"code":"internal_error","description":"Internal error"}}`},
		{Lost: true},
	},
	"POST /kaas/": {{Lost: true}}, // the pool's create: POST /kaas/<id>/instance_pools
}

// faultRun: one up through the faults ends with exactly one cluster and
// one pool, and the next preview shows no change.
func faultRun(ctx context.Context, r *runner, p *project) error {
	uat, err := p.stack(ctx, "uat", uatSecrets...)
	if err != nil {
		return err
	}
	return all(
		func() error { return p.up(ctx, r, uat) },
		func() error { return p.clusters(ctx, r, map[string]int{"camps-shared": 1}) },
		func() error {
			return p.step("injected answers served", func(io.Writer) (string, error) {
				served, err := r.kaas.Injected()
				want := 0
				for _, f := range faults {
					want += len(f)
				}
				if err == nil && len(served) != want {
					err = fmt.Errorf("%d of %d served:\n%s", len(served), want, strings.Join(served, "\n"))
				}
				return fmt.Sprintf("%d of %d", len(served), want), err
			})
		},
		func() error { return p.preview(ctx, uat, true) },
		func() error { return p.destroy(ctx, r, uat) },
	)
}

// unofferedFlavor previews a pool of a flavor the API does not offer: the
// provider's Check must stop the preview and name the offered flavors.
func (p *project) unofferedFlavor(ctx context.Context, s auto.Stack) error {
	key := stacks.FullKey(stacks.KeyCluster) + ".pools[0].flavor"
	path := &auto.ConfigOptions{Path: true}
	was, err := s.GetConfigWithOptions(ctx, key, path)
	if err != nil {
		return err
	}
	if err := s.SetConfigWithOptions(ctx, key, auto.ConfigValue{Value: unofferedFlavor}, path); err != nil {
		return err
	}
	err = p.step("preview "+s.Name()+" with flavor "+unofferedFlavor, func(log io.Writer) (string, error) {
		_, err := s.Preview(ctx, optpreview.ProgressStreams(log), optpreview.ErrorProgressStreams(log), optpreview.SuppressProgress())
		want := fmt.Sprintf("%q is not offered in dc4-a; offered: ", unofferedFlavor)
		if err == nil || !strings.Contains(err.Error(), want) {
			return "", fmt.Errorf("want a failure of Check saying %s…, got %v", want, err)
		}
		return "fails in Check: " + want + "…", nil
	})
	if rerr := s.SetConfigWithOptions(ctx, key, was, path); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// all runs the steps until one fails.
func all(steps ...func() error) error {
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}
