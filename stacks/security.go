package stacks

import (
	"net/url"

	"gitlab.com/camps-ch/infra/infra/cluster"
)

// SecurityConfig is the `security` key: how people reach the cluster.
type SecurityConfig struct {
	// OIDC makes a created cluster's API server accept the identity
	// provider's tokens. Default: none (kubeconfig only).
	OIDC *OIDCConfig `json:"oidc"`
	// Groups are bound to cluster roles by the stack that installs the
	// platform. Default: none.
	Groups GroupsConfig `json:"groups"`
}

// OIDCConfig is `security.oidc`.
type OIDCConfig struct {
	// IssuerURL is the identity provider, https://…; required.
	IssuerURL string `json:"issuerUrl"`
	// ClientID is the cluster's client at the provider; required.
	ClientID string `json:"clientId"`
	// UsernameClaim names the user. Default: email.
	UsernameClaim string `json:"usernameClaim"`
	// GroupsClaim lists the user's groups. Default: groups.
	GroupsClaim string `json:"groupsClaim"`
	// Prefix is put before OIDC users and groups. Default: oidc:.
	Prefix string `json:"prefix"`
}

// GroupsConfig is `security.groups`: group names as the API server sees
// them (with the OIDC prefix, e.g. oidc:platform-admins).
type GroupsConfig struct {
	// PlatformAdmins run the platform: everything but impersonation and
	// granting rights they do not hold.
	PlatformAdmins string `json:"platformAdmins"`
	// Auditors read everything but Secrets (the built-in view role).
	Auditors string `json:"auditors"`
	// BreakGlass is the only group bound to cluster-admin.
	BreakGlass string `json:"breakGlass"`
}

func (c *Config) applySecurityPresets() {
	if o := c.Security.OIDC; o != nil {
		fill(&o.UsernameClaim, "email")
		fill(&o.GroupsClaim, "groups")
		fill(&o.Prefix, "oidc:")
	}
}

func (c *Config) validateSecurity(ps *Problems) {
	if o := c.Security.OIDC; o != nil {
		if c.Cluster.Mode != ModeCreate {
			ps.add("security.oidc", "is set, but this stack does not create its cluster: the API server is its owner's")
		}
		if u, err := url.Parse(o.IssuerURL); err != nil || u.Scheme != "https" || u.Host == "" {
			ps.add("security.oidc.issuerUrl", "%q is not an https:// URL", o.IssuerURL)
		}
		if o.ClientID == "" {
			ps.add("security.oidc.clientId", "is required with security.oidc")
		}
	}
	g := c.Security.Groups
	if g != (GroupsConfig{}) && !*c.Platform.Install {
		ps.add("security.groups", "is set, but this stack does not install the platform: the cluster's roles are its owner's")
	}
	for _, v := range []struct{ key, group string }{
		{"platformAdmins", g.PlatformAdmins}, {"auditors", g.Auditors}, {"breakGlass", g.BreakGlass},
	} {
		if v.group != "" && !groupName.MatchString(v.group) {
			ps.add("security.groups."+v.key, "%q is not a group name", v.group)
		}
	}
	if g.BreakGlass != "" && (g.BreakGlass == g.PlatformAdmins || g.BreakGlass == g.Auditors) {
		ps.add("security.groups.breakGlass", "%q is also another role's group: break-glass must be its own", g.BreakGlass)
	}
}

// oidc is the created cluster's OIDC settings.
func (c *Config) oidc() *cluster.OIDC {
	o := c.Security.OIDC
	if o == nil {
		return nil
	}
	return &cluster.OIDC{
		IssuerURL: o.IssuerURL, ClientID: o.ClientID,
		UsernameClaim: o.UsernameClaim, GroupsClaim: o.GroupsClaim,
		UsernamePrefix: o.Prefix, GroupsPrefix: o.Prefix,
	}
}
