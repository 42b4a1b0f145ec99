package convention

import (
	"fmt"
	"maps"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/netpol"
)

// IsolatedNamespace is a namespace with its Pod Security level and its
// network policies.
type IsolatedNamespace struct {
	*corev1.Namespace
	// Name is the namespace's name, once created.
	Name pulumi.StringOutput
	// Policies are the allowances: what runs in the namespace waits for
	// them, so the namespace's deny never blocks its pods.
	Policies []pulumi.Resource
}

// NewIsolatedNamespace creates the namespace ns (resource name name) with
// the Pod Security level enforced, audited and warned, the label
// app.kubernetes.io/managed-by: pulumi and the extra labels, a default
// deny of all traffic, and the allowances. It is protected: deleting a
// namespace deletes everything in it (volumes, certificates, accounts).
func NewIsolatedNamespace(ctx *pulumi.Context, name, ns, level string, labels map[string]string, allows []netpol.Allow, opts ...pulumi.ResourceOption) (*IsolatedNamespace, error) {
	all := map[string]string{"app.kubernetes.io/managed-by": "pulumi"}
	maps.Copy(all, labels)
	// The level always wins over an extra label.
	for _, mode := range []string{"enforce", "audit", "warn"} {
		all["pod-security.kubernetes.io/"+mode] = level
	}
	n, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ns), Labels: pulumi.ToStringMap(all)},
	}, append(opts, pulumi.Protect(true))...)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", ns, err)
	}
	out := &IsolatedNamespace{Namespace: n, Name: n.Metadata.Name().Elem()}
	if out.Policies, err = netpol.New(ctx, name, out.Name, allows, opts...); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", ns, err)
	}
	return out, nil
}
