package infomaniak

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Provider is an explicit instance of the Infomaniak provider. Every
// Infomaniak resource of this program is created through one, never through
// the ambient default provider.
type Provider struct {
	pulumi.ProviderResourceState
}

// ProviderArgs configures the provider. Fields left nil fall back to the
// provider's environment: INFOMANIAK_TOKEN, INFOMANIAK_PUBLIC_CLOUD_ID,
// INFOMANIAK_PROJECT_ID and INFOMANIAK_HOST.
type ProviderArgs struct {
	// Token is the Infomaniak API token (keep it secret).
	Token pulumi.StringPtrInput
	// PublicCloudID is the id of the Public Cloud that holds the project.
	PublicCloudID pulumi.IntPtrInput
	// ProjectID is the id of the Public Cloud project the clusters live in.
	ProjectID pulumi.IntPtrInput
	// BaseURL is the API endpoint; the provider defaults to https://api.infomaniak.com.
	BaseURL pulumi.StringPtrInput
}

type providerArgs struct {
	Token         *string `pulumi:"token"`
	PublicCloudID *int    `pulumi:"publicCloudId"`
	ProjectID     *int    `pulumi:"projectId"`
	BaseURL       *string `pulumi:"baseUrl"`
}

type providerInputs struct {
	Token         pulumi.StringPtrInput `pulumi:"token"`
	PublicCloudID pulumi.IntPtrInput    `pulumi:"publicCloudId"`
	ProjectID     pulumi.IntPtrInput    `pulumi:"projectId"`
	BaseURL       pulumi.StringPtrInput `pulumi:"baseUrl"`
}

func (providerInputs) ElementType() reflect.Type { return reflect.TypeFor[providerArgs]() }

// NewProvider registers an explicit Infomaniak provider. The token, when
// given, is always registered as a secret.
func NewProvider(ctx *pulumi.Context, name string, args *ProviderArgs, opts ...pulumi.ResourceOption) (*Provider, error) {
	if args == nil {
		args = &ProviderArgs{}
	}
	in := providerInputs{
		PublicCloudID: args.PublicCloudID,
		ProjectID:     args.ProjectID,
		BaseURL:       args.BaseURL,
	}
	if args.Token != nil {
		in.Token = pulumi.ToSecret(args.Token.ToStringPtrOutput()).(pulumi.StringPtrOutput)
	}
	var p Provider
	if err := ctx.RegisterResource(ProviderType, name, in, &p, opts...); err != nil {
		return nil, err
	}
	return &p, nil
}
