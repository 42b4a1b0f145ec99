// Command pulumi-resource-infomaniak is the Infomaniak KaaS resource
// provider plugin (see package provider).
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"

	"gitlab.com/camps-ch/infra/provider"
)

func main() {
	prov, err := provider.New()
	if err == nil {
		err = p.RunProvider(context.Background(), provider.Name, provider.Version, prov)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-resource-infomaniak:", err)
		os.Exit(1)
	}
}
