// Command camps-infra is the Pulumi program of camps.ch's infrastructure.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/stacks"
)

func main() { pulumi.Run(stacks.Run) }
