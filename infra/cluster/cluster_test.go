package cluster

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

func TestArgsValidation(t *testing.T) {
	pool := PoolArgs{Name: "p", Zone: "az-1", Flavor: "f", MinInstances: 1, MaxInstances: 1}
	create := func(mod func(*CreateArgs)) *Args {
		c := &CreateArgs{Name: "c", Region: "dc4-a", Pack: "shared", KubernetesVersion: "1.35", Pools: []PoolArgs{pool}}
		mod(c)
		return &Args{Create: c}
	}
	tests := []struct {
		name string
		args *Args
		want string
	}{
		{"nil args", nil, "exactly one of Create and Attach"},
		{"neither mode", &Args{}, "exactly one of Create and Attach"},
		{"both modes", &Args{Create: &CreateArgs{}, Attach: &AttachArgs{}}, "exactly one of Create and Attach"},
		{"no name", create(func(c *CreateArgs) { c.Name = "" }), "name, region, pack and Kubernetes version are required"},
		{"no pools", create(func(c *CreateArgs) { c.Pools = nil }), "at least one pool"},
		{"bad pool", create(func(c *CreateArgs) { c.Pools[0].MaxInstances = 0 }), `pool "p" needs`},
		{"attach without kubeconfig", &Args{Attach: &AttachArgs{Name: pulumi.String("x")}}, "attach: name and kubeconfig are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := recorder.New("p", "s", nil)
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := New(ctx, "cluster", tt.args)
				return err
			}, pulumi.WithMocks("p", "s", rec))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if rec.Len() != 0 {
				t.Errorf("%d resources registered", rec.Len())
			}
		})
	}
}

func TestAttachMakesOneSecretProvider(t *testing.T) {
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "cluster", &Args{Attach: &AttachArgs{Name: pulumi.String("kind"), Kubeconfig: pulumi.String("apiVersion: v1")}})
		return err
	}, pulumi.WithMocks("p", "s", rec))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Len() != 2 {
		t.Fatalf("%d resources, want the component and its provider", rec.Len())
	}
	p, ok := rec.Find("pulumi:providers:kubernetes", "cluster")
	if !ok || !p.IsSecret("kubeconfig") || p.String("kubeconfig") != "apiVersion: v1" {
		t.Errorf("provider = %+v, want the kubeconfig as a secret", p)
	}
	comp, _ := rec.Find(ComponentType, "cluster")
	if p.Parent != comp.URN {
		t.Errorf("provider parent = %q, want the component", p.Parent)
	}
}
