// Package policy checks a plan (the resources the program registers, as
// the offline plan records them) against the project's rules: chart
// versions pinned, no load balancer but the ingress's, namespaces
// labelled, stateful resources protected, no secret in plain text, no
// cluster-wide credential in the consumers' outputs. The
// merge request pipeline runs it on every stack and phase (`make policy`),
// and `make test` too.
package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

// Type tokens the policies look at.
const (
	releaseType   = "kubernetes:helm.sh/v3:Release"
	namespaceType = "kubernetes:core/v1:Namespace"
	serviceType   = "kubernetes:core/v1:Service"
	secretType    = "kubernetes:core/v1:Secret"
	// externalSecretType is the External Secrets Operator's ExternalSecret.
	externalSecretType = "kubernetes:external-secrets.io/v1:ExternalSecret"
)

// IngressNamespace is the one namespace whose release may ask for a
// Service of type LoadBalancer: the ingress controller's.
const IngressNamespace = "ingress-nginx"

// StatefulTypes hold data, addresses or money, or the key to data (the
// OpenBao seal key, random bytes): each must be protected, so that no
// `pulumi up` or `destroy` can delete it by accident.
var StatefulTypes = []string{
	"random:index/randomBytes:RandomBytes",
	"infomaniak:kaas:Cluster",
	"infomaniak:kaas:InstancePool",
	namespaceType,
	"openstack:networking/floatingIp:FloatingIp",
	"kubernetes:core/v1:PersistentVolumeClaim",
	"kubernetes:postgresql.cnpg.io/v1:Cluster",
	"openstack:objectstorage/container:Container",
}

// StatefulReleases are releases whose uninstall deletes data, by
// namespace: Longhorn takes every volume with it, OpenBao every secret.
var StatefulReleases = []string{"longhorn-system", "openbao"}

// Violation is one resource breaking one policy.
type Violation struct {
	Policy   string `json:"policy"`
	Resource string `json:"resource"`
	Message  string `json:"message"`
}

func (v Violation) String() string {
	return fmt.Sprintf("[%s] %s: %s", v.Policy, v.Resource, v.Message)
}

// Policy is one rule over every resource of a plan.
type Policy struct {
	// Name identifies the policy in violations.
	Name string
	// Description says what it requires and why.
	Description string
	check       func(r *recorder.Resource) []string
}

// Policies are the project's rules.
var Policies = []Policy{
	{"charts-pinned", "every Helm release names an exact chart version, never a range or none", chartPinned},
	{"one-load-balancer", "only the ingress controller gets a Service of type LoadBalancer (one Octavia load balancer, one address)", onlyIngressLoadBalancer},
	{"namespaces-labelled", "every namespace enforces, audits and warns one Pod Security level and says it is managed by Pulumi", namespaceLabelled},
	{"stateful-protected", "stateful resources are protected", statefulProtected},
	{"no-plaintext-secrets", "Secret data and every credential-like input are Pulumi secrets", noPlaintextSecrets},
	{"break-glass-only", "nobody is bound to cluster-admin but the break-glass group (ClusterRoleBinding " + BreakGlassBinding + ", groups only)", breakGlassOnly},
}

// BreakGlassBinding is the one ClusterRoleBinding allowed to cluster-admin.
const BreakGlassBinding = "camps-break-glass"

func breakGlassOnly(r *recorder.Resource) []string {
	if r.Type != "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding" && r.Type != "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" {
		return nil
	}
	if r.String("roleRef.name") != "cluster-admin" {
		return nil
	}
	if r.Type == "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" || r.String("metadata.name") != BreakGlassBinding {
		return []string{"binds cluster-admin; only " + BreakGlassBinding + " may"}
	}
	var out []string
	for i := 0; ; i++ {
		kind := r.String(fmt.Sprintf("subjects[%d].kind", i))
		if kind == "" {
			break
		}
		if kind != "Group" {
			out = append(out, fmt.Sprintf("subjects[%d] is a %s; break-glass binds groups only", i, kind))
		}
	}
	return out
}

// Plan is what the offline plan records of a stack: its resources and
// its outputs.
type Plan struct {
	Resources []*recorder.Resource
	Outputs   resource.PropertyMap
}

// PlanPolicy is one rule over the plan as a whole: how resources relate,
// and what the stack exports.
type PlanPolicy struct {
	Name        string
	Description string
	check       func(p Plan) []Violation
}

// PlanPolicies are the project's rules across resources.
var PlanPolicies = []PlanPolicy{
	{"namespaces-default-deny", "every namespace the program creates has a NetworkPolicy " + DefaultDeny +
		" that selects all its pods and allows no traffic in or out", defaultDenyEverywhere},
	{"consumers-scoped", "every kubeconfig in a consumers' output signs a person in (exec, no credential) or authenticates as a ServiceAccount of the plan " +
		"bound by RoleBindings of its own namespace to Roles that grant no RBAC and no wildcard: never a cluster-admin credential", consumersScoped},
}

// DefaultDeny is the name of the deny-all NetworkPolicy of a namespace.
const DefaultDeny = "default-deny"

const networkPolicyType = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

func defaultDenyEverywhere(p Plan) []Violation {
	rs := p.Resources
	denied := map[string]bool{}
	for _, r := range rs {
		if r.Type == networkPolicyType && r.String("metadata.name") == DefaultDeny && deniesAll(r) {
			denied[r.String("metadata.namespace")] = true
		}
	}
	var out []Violation
	for _, r := range rs {
		if r.Type == namespaceType && !r.Read && !denied[r.String("metadata.name")] {
			out = append(out, Violation{Policy: "namespaces-default-deny", Resource: r.Type + " " + r.Name,
				Message: fmt.Sprintf("namespace %q has no NetworkPolicy %s denying all ingress and egress", r.String("metadata.name"), DefaultDeny)})
		}
	}
	return out
}

// deniesAll: the policy selects every pod ({} selector), covers both
// directions and allows nothing.
func deniesAll(r *recorder.Resource) bool {
	sel, ok := r.Input("spec.podSelector")
	if !ok || !sel.IsObject() || len(sel.ObjectValue()) != 0 {
		return false
	}
	types := map[string]bool{}
	if v, ok := r.Input("spec.policyTypes"); ok && v.IsArray() {
		for _, e := range v.ArrayValue() {
			types[e.StringValue()] = true
		}
	}
	for _, rules := range []string{"spec.ingress", "spec.egress"} {
		if v, ok := r.Input(rules); ok && v.IsArray() && len(v.ArrayValue()) > 0 {
			return false
		}
	}
	return types["Ingress"] && types["Egress"]
}

// Check runs every policy on every resource, and the plan policies on
// the plan, and returns the violations, sorted.
func Check(p Plan) []Violation {
	var out []Violation
	for _, r := range p.Resources {
		for _, p := range Policies {
			for _, msg := range p.check(r) {
				out = append(out, Violation{Policy: p.Name, Resource: r.Type + " " + r.Name, Message: msg})
			}
		}
	}
	for _, pp := range PlanPolicies {
		out = append(out, pp.check(p)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

var exactVersion = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func chartPinned(r *recorder.Resource) []string {
	if r.Type != releaseType {
		return nil
	}
	if v := r.String("version"); !exactVersion.MatchString(v) {
		return []string{fmt.Sprintf("chart %q has version %q, not an exact version", r.String("chart"), v)}
	}
	return nil
}

func onlyIngressLoadBalancer(r *recorder.Resource) []string {
	switch r.Type {
	case serviceType:
		if r.String("spec.type") == "LoadBalancer" {
			return []string{"is a Service of type LoadBalancer; only the ingress controller may have one"}
		}
	case releaseType:
		if r.String("namespace") == IngressNamespace {
			return nil
		}
		values := r.Inputs["values"]
		var out []string
		walk("values", values, func(path string, v resource.PropertyValue) {
			if strings.HasSuffix(path, ".type") && v.IsString() && v.StringValue() == "LoadBalancer" {
				out = append(out, fmt.Sprintf("%s asks for a Service of type LoadBalancer; only the ingress controller may have one", path))
			}
		})
		return out
	}
	return nil
}

var podSecurityLevels = map[string]bool{"restricted": true, "baseline": true, "privileged": true}

func namespaceLabelled(r *recorder.Resource) []string {
	if r.Type != namespaceType {
		return nil
	}
	label := func(k string) string { return r.String(fmt.Sprintf("metadata.labels[%q]", k)) }
	var out []string
	enforce := label("pod-security.kubernetes.io/enforce")
	if !podSecurityLevels[enforce] {
		out = append(out, fmt.Sprintf("pod-security.kubernetes.io/enforce is %q, not restricted, baseline or privileged", enforce))
	}
	for _, mode := range []string{"audit", "warn"} {
		if got := label("pod-security.kubernetes.io/" + mode); got != enforce {
			out = append(out, fmt.Sprintf("pod-security.kubernetes.io/%s is %q, not the enforced %q", mode, got, enforce))
		}
	}
	if label("app.kubernetes.io/managed-by") != "pulumi" {
		out = append(out, "lacks app.kubernetes.io/managed-by: pulumi")
	}
	return out
}

func statefulProtected(r *recorder.Resource) []string {
	stateful := false
	for _, t := range StatefulTypes {
		stateful = stateful || r.Type == t
	}
	if r.Type == releaseType {
		for _, ns := range StatefulReleases {
			stateful = stateful || r.String("namespace") == ns
		}
	}
	if stateful && !r.Read && !r.Protect {
		return []string{"is stateful but not protected"}
	}
	return nil
}

// credentialKeys are input names that always hold a credential.
var credentialKeys = map[string]bool{
	"password": true, "token": true, "apitoken": true, "kubeconfig": true,
	"applicationcredentialsecret": true, "secretkey": true, "secretaccesskey": true,
	"clientsecret": true, "privatekey": true, "admin-password": true,
}

func noPlaintextSecrets(r *recorder.Resource) []string {
	var out []string
	if r.Type == secretType {
		for _, field := range []string{"data", "stringData"} {
			// The raw input: Input would unwrap a secret.
			v, ok := r.Inputs[resource.PropertyKey(field)]
			if !ok {
				continue
			}
			walk(field, v, func(path string, leaf resource.PropertyValue) {
				if leaf.IsString() && leaf.StringValue() != "" {
					out = append(out, fmt.Sprintf("%s is not a secret", path))
				}
			})
		}
	}
	walk("", resource.NewProperty(r.Inputs), func(path string, leaf resource.PropertyValue) {
		key := path[strings.LastIndexAny(path, ".[")+1:]
		key = strings.Trim(key, `"]`)
		// An ExternalSecret's data[].secretKey names a key of the Secret it
		// fills; the value stays in OpenBao.
		if r.Type == externalSecretType && key == "secretKey" && strings.HasPrefix(path, ".spec.data[") {
			return
		}
		if credentialKeys[strings.ToLower(key)] && leaf.IsString() && leaf.StringValue() != "" {
			out = append(out, fmt.Sprintf("%s holds a credential in plain text", strings.TrimPrefix(path, ".")))
		}
	})
	return out
}

// walk calls leaf for every non-secret leaf under v; secret values (and
// everything under them) are skipped.
func walk(path string, v resource.PropertyValue, leaf func(path string, v resource.PropertyValue)) {
	switch {
	case v.IsSecret():
	case v.IsObject():
		for k, e := range v.ObjectValue() {
			walk(path+"."+string(k), e, leaf)
		}
	case v.IsArray():
		for i, e := range v.ArrayValue() {
			walk(fmt.Sprintf("%s[%d]", path, i), e, leaf)
		}
	case v.IsComputed() || v.IsOutput():
		// Unknown until apply: nothing to check.
	default:
		leaf(path, v)
	}
}
