package convention

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Resources are a container's requests and limits, as Helm values.
type Resources struct {
	Requests ResourceList `json:"requests"`
	Limits   ResourceList `json:"limits"`
}

// ResourceList is a CPU and memory quantity pair.
type ResourceList struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// NewResources builds Resources from request and limit quantities.
func NewResources(reqCPU, reqMem, limCPU, limMem string) Resources {
	return Resources{Requests: ResourceList{reqCPU, reqMem}, Limits: ResourceList{limCPU, limMem}}
}

// Args are r as a container's resources.
func (r Resources) Args() *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(r.Requests.CPU), "memory": pulumi.String(r.Requests.Memory)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(r.Limits.CPU), "memory": pulumi.String(r.Limits.Memory)},
	}
}

// Requests are the CPU (millicores) and memory (bytes) a workload asks for.
type Requests struct {
	MilliCPU int64 `json:"milliCpu"`
	Memory   int64 `json:"memoryBytes"`
}

// Add returns the sum of two Requests.
func (r Requests) Add(o Requests) Requests {
	return Requests{r.MilliCPU + o.MilliCPU, r.Memory + o.Memory}
}

// Times returns n times r.
func (r Requests) Times(n int) Requests {
	return Requests{r.MilliCPU * int64(n), r.Memory * int64(n)}
}

// String formats Requests as "1185m CPU, 2226Mi memory".
func (r Requests) String() string {
	return fmt.Sprintf("%dm CPU, %dMi memory", r.MilliCPU, r.Memory>>20)
}

// RequestsOf sums the requests of containers, each running `replicas` times.
// Quantities are validated by the caller; an unparsable one counts as zero.
func RequestsOf(replicas int, containers ...Resources) Requests {
	var total Requests
	for _, c := range containers {
		cpu, _ := resource.ParseQuantity(c.Requests.CPU)
		mem, _ := resource.ParseQuantity(c.Requests.Memory)
		total = total.Add(Requests{cpu.MilliValue(), mem.Value()}.Times(replicas))
	}
	return total
}
