package infomaniak

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// secretRegistrations records which inputs the SDK registers as secret.
type secretRegistrations struct {
	secret            map[string]bool
	additionalSecrets []string
}

func (r *secretRegistrations) program(ctx *pulumi.Context) error {
	p, err := NewProvider(ctx, "provider", &ProviderArgs{Token: pulumi.String("t")})
	if err != nil {
		return err
	}
	_, err = NewCluster(ctx, "cluster", &ClusterArgs{
		Name: pulumi.String("c"), Region: pulumi.String("dc4-a"), PackName: pulumi.String("shared"), KubernetesVersion: pulumi.String("1.35"),
		APIServer: &APIServerArgs{
			AuditWebhookConfig: pulumi.String("apiVersion: v1"),
			OIDC:               &OIDCArgs{IssuerURL: pulumi.String("https://id"), ClientID: pulumi.String("k8s"), CA: pulumi.String("PEM")},
		},
	}, pulumi.Provider(p))
	return err
}

func (r *secretRegistrations) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, nil
}

func (r *secretRegistrations) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if r.secret == nil {
		r.secret = map[string]bool{}
	}
	var walk func(prefix string, v resource.PropertyValue, secret bool)
	walk = func(prefix string, v resource.PropertyValue, secret bool) {
		if v.IsSecret() {
			secret = true
			v = v.SecretValue().Element
		}
		r.secret[prefix] = r.secret[prefix] || secret
		if v.IsObject() {
			for k, e := range v.ObjectValue() {
				walk(prefix+"."+string(k), e, secret)
			}
		}
	}
	walk(args.Name, resource.NewProperty(args.Inputs), false)
	if args.RegisterRPC != nil && args.Name == "cluster" {
		r.additionalSecrets = args.RegisterRPC.GetAdditionalSecretOutputs()
	}
	return args.Name + "-id", args.Inputs, nil
}
