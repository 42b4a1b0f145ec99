// Package security is phase 2's security: for now the cluster's access
// control for people (OIDC groups bound to roles).
package security

import (
	"errors"
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AccessControlType is the type token of the AccessControl component.
const AccessControlType = "camps:security:AccessControl"

// Names of the cluster-wide objects.
const (
	PlatformAdminRole = "camps-platform-admin"
	// BreakGlassBinding is the one ClusterRoleBinding to cluster-admin.
	BreakGlassBinding = "camps-break-glass"
)

// AccessControl binds the identity provider's groups to cluster roles:
// platform admins run the platform, auditors read, and only the
// break-glass group is cluster-admin. Developers get their namespaces'
// deployer roles (infra/tenancy).
type AccessControl struct {
	pulumi.ResourceState

	// Bindings are the ClusterRoleBindings' names.
	Bindings pulumi.StringArrayOutput `pulumi:"bindings"`
}

// AccessControlArgs name the groups, as the API server sees them (with the
// OIDC groups prefix). An empty group gets no binding.
type AccessControlArgs struct {
	PlatformAdmins, Auditors, BreakGlass string
}

// platformAdminRules are everything but what turns a user into someone
// else or grants more than one has: no impersonate, escalate or bind.
var platformAdminRules = []struct{ groups, resources, verbs []string }{
	{[]string{"*"}, []string{"*"}, []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}},
}

// NewAccessControl creates the platform-admin ClusterRole and the bindings:
// platform admins to it, auditors to the built-in view (no Secrets), the
// break-glass group to cluster-admin.
func NewAccessControl(ctx *pulumi.Context, name string, args *AccessControlArgs, opts ...pulumi.ResourceOption) (*AccessControl, error) {
	if args == nil {
		return nil, fmt.Errorf("access control %q: %w", name, errors.New("args are required"))
	}
	c := &AccessControl{}
	if err := ctx.RegisterComponentResource(AccessControlType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("access control %q: %w", name, err) }
	rules := rbacv1.PolicyRuleArray{}
	for _, r := range platformAdminRules {
		rules = append(rules, rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray(r.groups), Resources: pulumi.ToStringArray(r.resources), Verbs: pulumi.ToStringArray(r.verbs),
		})
	}
	if _, err := rbacv1.NewClusterRole(ctx, name+"-platform-admin", &rbacv1.ClusterRoleArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(PlatformAdminRole)},
		Rules:    rules,
	}, pulumi.Parent(c)); err != nil {
		return nil, wrap(fmt.Errorf("platform admin role: %w", err))
	}
	var names []string
	for _, b := range []struct{ binding, role, group string }{
		{"camps-platform-admins", PlatformAdminRole, args.PlatformAdmins},
		{"camps-auditors", "view", args.Auditors},
		{BreakGlassBinding, "cluster-admin", args.BreakGlass},
	} {
		if b.group == "" {
			continue
		}
		if _, err := rbacv1.NewClusterRoleBinding(ctx, name+"-"+b.binding[len("camps-"):], &rbacv1.ClusterRoleBindingArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(b.binding)},
			RoleRef: rbacv1.RoleRefArgs{
				ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: pulumi.String(b.role),
			},
			Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{
				ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Group"), Name: pulumi.String(b.group),
			}},
		}, pulumi.Parent(c)); err != nil {
			return nil, wrap(fmt.Errorf("binding %s: %w", b.binding, err))
		}
		names = append(names, b.binding)
	}
	c.Bindings = pulumi.ToStringArray(names).ToStringArrayOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"bindings": c.Bindings})
}
