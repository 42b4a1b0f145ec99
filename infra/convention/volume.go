package convention

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Volumes are the PersistentVolumeClaims of one kind a component makes:
// Count claims of Size on StorageClass, one per instance of a workload.
// The stack's storage budget adds them up.
type Volumes struct {
	// Name says whose claims they are, e.g. "prometheus".
	Name string
	// Count of claims, one per instance.
	Count int
	// Size of each claim, a Kubernetes quantity such as 8Gi.
	Size string
	// StorageClass of the claims.
	StorageClass string
}

// Bytes is the size of one claim in bytes.
func (v Volumes) Bytes() (int64, error) {
	q, err := resource.ParseQuantity(v.Size)
	if err != nil || q.Sign() <= 0 {
		return 0, fmt.Errorf("%s: size %q is not a positive Kubernetes quantity", v.Name, v.Size)
	}
	return q.Value(), nil
}
