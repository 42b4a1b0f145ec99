package stacks

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// parseQuantity reads a Kubernetes quantity (500m, 1.5, 2Gi, 1e3) as the
// API server does, and refuses a negative one: every quantity in the
// configuration is a size, a request or a limit.
func parseQuantity(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return q, fmt.Errorf("%q is not a Kubernetes quantity such as 500m, 1.5 or 2Gi", s)
	}
	if q.Sign() < 0 {
		return q, fmt.Errorf("%q is negative", s)
	}
	return q, nil
}
