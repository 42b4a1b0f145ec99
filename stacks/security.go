package stacks

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/cluster"
	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/data"
	"gitlab.com/camps-ch/infra/infra/platform"
	"gitlab.com/camps-ch/infra/infra/security"
	"gitlab.com/camps-ch/infra/infra/tenancy"
)

// SecurityConfig is the `security` key: how people reach the cluster, the
// API server's audit log, and where application secrets come from.
type SecurityConfig struct {
	// OIDC makes the API server of the cluster this stack creates accept
	// the identity provider's tokens, so people sign in as themselves
	// (docs/access.md); its client ID is oidcClientId. A stack that
	// attaches (prod in phase 1) does not apply it: its owner's does.
	// Default: none (kubeconfig only).
	OIDC *OIDCConfig `json:"oidc"`
	// Groups are bound to cluster roles by the stack that installs the
	// platform; a stack that does not install it (prod in phase 1) does
	// not bind them. Default: none.
	Groups GroupsConfig `json:"groups"`
	// Audit logs the API server's requests to a sink in the cluster.
	Audit AuditConfig `json:"audit"`
	// OpenBao is the secrets store in the cluster, with the External
	// Secrets Operator reading it.
	OpenBao OpenBaoConfig `json:"openbao"`
	// ExternalSecrets is the switch: the database credentials, the registry
	// pull secret and cert-manager's Cloudflare token come from OpenBao as
	// ExternalSecrets (same Secret names) instead of Secrets Pulumi writes.
	// It needs openbao. Default: false.
	ExternalSecrets *bool `json:"externalSecrets"`
}

// AuditConfig is `security.audit`.
type AuditConfig struct {
	// Enabled sets the audit policy and webhook on the created cluster and
	// installs the sink. Default: on where the stack creates a cluster
	// across three zones, installs its platform and has a host for the
	// sink (prod's phase 2).
	Enabled *bool `json:"enabled"`
	// Host is the sink's public name, through the ingress and Cloudflare
	// (the API server runs outside the cluster). Default:
	// audit-<stack>.<edge.zone>.
	Host string `json:"host"`
	// RetentionDays is how long the audit log is kept. Default: preset.
	RetentionDays *int `json:"retentionDays"`
}

// OpenBaoConfig is `security.openbao`.
type OpenBaoConfig struct {
	// Enabled installs OpenBao and the External Secrets Operator. Default:
	// like audit, on a created three-zone cluster with the platform.
	Enabled *bool `json:"enabled"`
	// StorageSize is each replica's Raft volume (Longhorn). Default: preset.
	StorageSize string `json:"storageSize"`
	// AuditStorageSize is each replica's audit device volume. Default: preset.
	AuditStorageSize string `json:"auditStorageSize"`
	// Seal is how the replicas unseal: static (each unseals itself at
	// start with a key the program generates and keeps in a Secret),
	// shamir (three of five key holders, by hand, after every start) or
	// migrate-to-shamir (the way back, docs/runbooks/openbao.md).
	// Default: static.
	Seal string `json:"seal"`
}

// OIDCConfig is `security.oidc`.
type OIDCConfig struct {
	// IssuerURL is the identity provider, https://… (the stack files:
	// https://gitlab.com); required.
	IssuerURL string `json:"issuerUrl"`
	// UsernameClaim names the user: email, name or sub (the stack files:
	// sub, GitLab's stable user ID). Default: preset.
	UsernameClaim string `json:"usernameClaim"`
	// GroupsClaim lists the user's groups; it must be in the ID token
	// (GitLab: groups_direct, the groups a user is a direct member of, by
	// full path). Default: preset.
	GroupsClaim string `json:"groupsClaim"`
	// Prefix is put before OIDC users and groups, so that they never
	// collide with Kubernetes' own; every group bound to a role carries
	// it. Default: preset.
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
	s := &c.Security
	if o := s.OIDC; o != nil {
		fill(&o.UsernameClaim, "email")
		fill(&o.GroupsClaim, "groups")
		if o.Prefix != noOIDCPrefix {
			o.Prefix = c.oidcGroupPrefix()
		}
	}
	secured := c.Cluster.Mode == ModeCreate && *c.Platform.Install && len(c.poolZones()) >= 3
	if s.Audit.Enabled == nil {
		// The API server reaches the sink by a public name, in the zone.
		s.Audit.Enabled = ptr(secured && (s.Audit.Host != "" || c.Edge.Zone != ""))
	}
	if s.Audit.Host == "" && c.Edge.Zone != "" {
		s.Audit.Host = "audit-" + c.Stack + "." + c.Edge.Zone
	}
	if s.Audit.RetentionDays == nil {
		s.Audit.RetentionDays = ptr(90)
	}
	if s.OpenBao.Enabled == nil {
		s.OpenBao.Enabled = ptr(secured)
	}
	// Raft holds a few megabytes of secrets; the audit log grows by a few
	// per day (KubePersistentVolumeFillingUp warns before it is full).
	fill(&s.OpenBao.StorageSize, "2Gi")
	fill(&s.OpenBao.AuditStorageSize, "2Gi")
	fill(&s.OpenBao.Seal, security.SealStatic)
	if s.ExternalSecrets == nil {
		s.ExternalSecrets = ptr(false)
	}
}

// oidcGroupPrefix is what the API server puts before OIDC groups:
// security.oidc.prefix, "oidc:" by default; "" without OIDC or with "-"
// (Kubernetes' "no prefix").
func (c *Config) oidcGroupPrefix() string {
	switch o := c.Security.OIDC; {
	case o == nil || o.Prefix == noOIDCPrefix:
		return ""
	case o.Prefix == "":
		return "oidc:"
	default:
		return o.Prefix
	}
}

// noOIDCPrefix is the prefix that tells the API server to put none.
const noOIDCPrefix = "-"

// poolZones are the distinct zones of the created cluster's pools.
func (c *Config) poolZones() []string {
	var out []string
	for _, p := range c.Cluster.Pools {
		if !slices.Contains(out, p.Zone) {
			out = append(out, p.Zone)
		}
	}
	return out
}

// gitLabIssuer is GitLab.com as an OIDC issuer. Its ID token carries
// groups_direct; groups is in the userinfo only, which the API server
// does not read.
const gitLabIssuer = "https://gitlab.com"

func (c *Config) validateSecurity(ps *Problems) {
	c.validateOIDC(ps)
	g := c.Security.Groups
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
	c.validateAudit(ps)
	c.validateOpenBao(ps)
}

// validateOIDC checks the identity provider's settings, its client ID
// where the stack creates its cluster, and that every group bound to a
// role carries the OIDC prefix, as the API server names OIDC groups.
func (c *Config) validateOIDC(ps *Problems) {
	o := c.Security.OIDC
	if o == nil {
		return
	}
	if u, err := url.Parse(o.IssuerURL); err != nil || u.Scheme != "https" || u.Host == "" {
		ps.add("security.oidc.issuerUrl", "%q is not an https:// URL", o.IssuerURL)
	}
	if strings.TrimSuffix(o.IssuerURL, "/") == gitLabIssuer && o.GroupsClaim == "groups" {
		ps.add("security.oidc.groupsClaim", "%q is in GitLab's userinfo, not in its ID token, which is all the API server reads: use groups_direct", o.GroupsClaim)
	}
	if c.Cluster.Mode == ModeCreate && c.OIDCClientID == "" {
		ps.add(KeyOIDCClientID, "is not set, and security.oidc needs it: the ID of the application at %s that signs people in to this cluster "+
			"(docs/access.md says how to create it); set it with `pulumi config set %s <application id>`", o.IssuerURL, KeyOIDCClientID)
	}
	prefix := c.oidcGroupPrefix()
	prefixed := func(key, group string) {
		if group != "" && !strings.HasPrefix(group, prefix) {
			ps.add(key, "%q lacks the OIDC prefix %q: the API server names every OIDC group %s<group>, so no one would be in it", group, prefix, prefix)
		}
	}
	g := c.Security.Groups
	prefixed("security.groups.platformAdmins", g.PlatformAdmins)
	prefixed("security.groups.auditors", g.Auditors)
	prefixed("security.groups.breakGlass", g.BreakGlass)
	for i, ns := range c.Namespaces {
		prefixed(fmt.Sprintf("namespaces[%d].deployerGroup", i), ns.DeployerGroup)
	}
}

func (c *Config) validateAudit(ps *Problems) {
	a := c.Security.Audit
	if !*a.Enabled {
		return
	}
	if c.Cluster.Mode != ModeCreate {
		ps.add("security.audit.enabled", "is true, but this stack does not create its cluster: the API server is its owner's")
	}
	if !*c.Platform.Install {
		ps.add("security.audit.enabled", "is true, but this stack does not install the platform: the sink needs its ingress")
	}
	switch {
	case a.Host == "":
		ps.add("security.audit.host", "is required with security.audit (or set edge.zone for the default audit-<stack>.<zone>)")
	case !hostName.MatchString(a.Host) || strings.Contains(a.Host, ":"):
		ps.add("security.audit.host", "%q is not a host name", a.Host)
	case c.Edge.Zone != "" && !strings.HasSuffix(a.Host, "."+c.Edge.Zone):
		ps.add("security.audit.host", "%q is not in the zone %s, where its record goes", a.Host, c.Edge.Zone)
	}
	if d := *a.RetentionDays; d < 1 || d > 3650 {
		ps.add("security.audit.retentionDays", "%d is not between 1 and 3650", d)
	}
	if !*c.Data.Enabled {
		ps.add("security.audit.enabled", "is true, but data.enabled is false: the audit log goes to the stack's object storage")
	}
}

func (c *Config) validateOpenBao(ps *Problems) {
	o := c.Security.OpenBao
	if *o.Enabled {
		if !*c.Platform.Install {
			ps.add("security.openbao.enabled", "is true, but this stack does not install the platform")
		}
		if n := len(c.poolZones()); c.Cluster.Mode != ModeCreate || n < 3 {
			ps.add("security.openbao.enabled", "is true, but OpenBao's three Raft replicas need a created cluster with pools in three zones (this one has %d)", n)
		}
		if !slices.Contains(security.Seals, o.Seal) {
			ps.add("security.openbao.seal", "%q is not a seal; use %s", o.Seal, strings.Join(security.Seals, ", "))
		}
		for _, q := range [][2]string{{"storageSize", o.StorageSize}, {"auditStorageSize", o.AuditStorageSize}} {
			if v, err := parseQuantity(q[1]); err != nil {
				ps.add("security.openbao."+q[0], "%v", err)
			} else if v.Sign() <= 0 {
				ps.add("security.openbao."+q[0], "%q is not a positive size", q[1])
			}
		}
	}
	if *c.Security.ExternalSecrets && !*o.Enabled {
		ps.add("security.externalSecrets", "is true, but security.openbao is off: the secrets come from OpenBao")
	}
}

// oidc is the created cluster's OIDC settings.
func (c *Config) oidc() *cluster.OIDC {
	o := c.Security.OIDC
	if o == nil {
		return nil
	}
	return &cluster.OIDC{
		IssuerURL: o.IssuerURL, ClientID: c.OIDCClientID,
		UsernameClaim: o.UsernameClaim, GroupsClaim: o.GroupsClaim,
		UsernamePrefix: o.Prefix, GroupsPrefix: o.Prefix,
	}
}

// auditSinkArgs are the sink's settings: the stack's audit bucket, behind
// the ingress with a Let's Encrypt certificate.
func (c *Config) auditSinkArgs(token pulumi.StringOutput, store *data.ObjectStorage, ready platformReady) *security.AuditSinkArgs {
	a := &security.AuditSinkArgs{
		Chart: chart(security.VectorChart, c.Platform.Charts.AuditSink),
		Host:  c.Security.Audit.Host, IngressClass: convention.IngressClass, ClusterIssuer: convention.IssuerProduction,
		Token:  token,
		Bucket: c.auditBucket(), Endpoint: c.Data.S3Endpoint, Region: c.OpenStack.Region,
		// One Vector: its buffer is the class's replicated volume.
		StorageClass: convention.StorageClass,
		Ready:        append(append([]pulumi.Resource{}, ready.monitoring...), ready.storage...),
	}
	if store != nil {
		a.AccessKey, a.SecretKey = store.AccessKey, store.SecretKey
	}
	return a
}

// auditRetentionArgs are the audit log's retention job: a daily delete of
// the sink's objects older than the retention, in the sink's namespace.
func (c *Config) auditRetentionArgs(sink *security.AuditSink, store *data.ObjectStorage) *data.ObjectExpiryArgs {
	return &data.ObjectExpiryArgs{
		Name: security.AuditRetentionJob, Namespace: sink.Namespace,
		At:   data.S3Location{Bucket: c.auditBucket(), Endpoint: c.Data.S3Endpoint, Region: c.OpenStack.Region},
		Path: security.AuditKeyPrefix, MaxAgeDays: *c.Security.Audit.RetentionDays, Schedule: "30 4 * * *",
		AccessKey: store.AccessKey, SecretKey: store.SecretKey,
	}
}

// openBaoReplicas are OpenBao's Raft voters: one per zone.
const openBaoReplicas = 3

// openBaoArgs: three voters, one per zone, on Longhorn, readable by the
// External Secrets Operator's service account.
func (c *Config) openBaoArgs(cm *platform.CertManager, mon *platform.Monitoring, longhorn *platform.Longhorn) *security.OpenBaoArgs {
	o := c.Security.OpenBao
	a := &security.OpenBaoArgs{
		Chart:    chart(security.OpenBaoChart, c.Platform.Charts.OpenBao),
		Replicas: openBaoReplicas, StorageSize: o.StorageSize, AuditStorageSize: o.AuditStorageSize,
		StorageClass: storageClassFor(openBaoReplicas),
		ESONamespace: security.ExternalSecretsNamespace, ESOServiceAccount: security.ESOServiceAccount,
		Seal: o.Seal,
	}
	if cm != nil && mon != nil && longhorn != nil {
		a.CertManagerReady = []pulumi.Resource{cm.Release}
		a.Ready = []pulumi.Resource{mon.Release, longhorn.Release}
	}
	return a
}

// externalSecretsArgs: the application namespaces and cert-manager's may
// read the store; once security.externalSecrets is on, their Secrets come
// from it, each as the component that wrote it describes it.
func (c *Config) externalSecretsArgs(namespaces map[string]*tenancy.Namespace, ready platformReady) *security.ExternalSecretsArgs {
	args := &security.ExternalSecretsArgs{
		Chart:      chart(security.ExternalSecretsChart, c.Platform.Charts.ExternalSecrets),
		Namespaces: []string{convention.CertManagerNamespace},
		Ready:      ready.monitoring,
	}
	for _, ns := range c.Namespaces {
		args.Namespaces = append(args.Namespaces, ns.Name)
	}
	if !*c.Security.ExternalSecrets {
		return args
	}
	// Under <namespace>/<secret name> in OpenBao's KV engine
	// (docs/runbooks/openbao.md writes them).
	for _, ns := range c.Namespaces {
		created := namespaces[ns.Name].Name
		args.Secrets = append(args.Secrets, tenancy.PullSecretSpec(ns.Name, created, c.Registry.Server))
		if *c.Data.Enabled && *c.Data.Postgres.Enabled {
			args.Secrets = append(args.Secrets, data.CredentialsSpec(ns.Name, created))
		}
	}
	args.Secrets = append(args.Secrets, platform.CloudflareTokenSpec(ready.certManagerNamespace))
	return args
}
