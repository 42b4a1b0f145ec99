// Package netpol builds a namespace's NetworkPolicies from short
// declarations: a default deny of all ingress and egress, then one policy
// per allowance the namespace's workloads need (DNS, the API server, the
// ports their peers call, scraping).
package netpol

import (
	"errors"
	"fmt"
	"net/netip"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DefaultDeny is the name of the policy that selects every pod of the
// namespace and allows nothing.
const DefaultDeny = "default-deny"

// Port is a port or, with EndPort, a range; Protocol defaults to TCP.
type Port struct {
	Port, EndPort int
	Protocol      string
}

// TCP are TCP ports.
func TCP(ports ...int) []Port {
	out := make([]Port, len(ports))
	for i, p := range ports {
		out[i] = Port{Port: p}
	}
	return out
}

// Peer is the other end of a flow: pods (all when Pods is empty) in one
// namespace (Namespace; empty: the policy's own), or in every namespace
// (AnyNamespace); or addresses outside the cluster (CIDR, alone).
type Peer struct {
	Namespace    string
	AnyNamespace bool
	Pods         map[string]string
	CIDR         string
}

// Flow is traffic to (egress) or from (ingress) the peers on the ports.
// No peers: any address, inside the cluster or not (the API server, a
// managed control plane calling a webhook, the internet). No ports: every
// port.
type Flow struct {
	Peers []Peer
	Ports []Port
}

// Allow is one NetworkPolicy, allow-<Name>, for the pods matching Pods
// (every pod of the namespace when empty) and, with Without, lacking that
// label.
type Allow struct {
	Name    string
	Pods    map[string]string
	Without string
	Ingress []Flow
	Egress  []Flow
}

// Common flows.
var (
	// DNS is egress to the cluster's DNS (kube-system, k8s-app=kube-dns).
	DNS = Flow{
		Peers: []Peer{{Namespace: "kube-system", Pods: map[string]string{"k8s-app": "kube-dns"}}},
		Ports: []Port{{Port: 53, Protocol: "UDP"}, {Port: 53}},
	}
	// APIServer is egress to the Kubernetes API: the managed control plane
	// is outside the cluster, at an address the program does not know,
	// reached on 443 (the service) or 6443 (its endpoint after DNAT). A
	// policy cannot tell it from the internet: this opens 443 and 6443 to
	// every address.
	APIServer = Flow{Ports: TCP(443, 6443)}
	// HTTPS is egress to any address on 443: ACME, Cloudflare's API, S3,
	// alert receivers, probed sites.
	HTTPS = Flow{Ports: TCP(443)}
)

// From is ingress from (or egress to) the pods matching pods in namespace
// ns, on the ports.
func From(ns string, pods map[string]string, ports ...int) Flow {
	return Flow{Peers: []Peer{{Namespace: ns, Pods: pods}}, Ports: TCP(ports...)}
}

// Within is traffic with the pods matching pods in the policy's own
// namespace, on the ports (every port when none).
func Within(pods map[string]string, ports ...int) Flow {
	return Flow{Peers: []Peer{{Pods: pods}}, Ports: TCP(ports...)}
}

// Anywhere is traffic from or to any address on the ports.
func Anywhere(ports ...int) Flow {
	return Flow{Ports: TCP(ports...)}
}

// Validate refuses allowances that would be empty or ambiguous: an Allow
// without a name or flows, a peer in two namespaces at once, a bad port.
func Validate(allows []Allow) error {
	seen := map[string]bool{}
	var errs []error
	for _, a := range allows {
		if a.Name == "" {
			errs = append(errs, errors.New("an allowance has no name"))
			continue
		}
		if seen[a.Name] {
			errs = append(errs, fmt.Errorf("allow-%s: declared twice", a.Name))
		}
		seen[a.Name] = true
		if len(a.Ingress)+len(a.Egress) == 0 {
			errs = append(errs, fmt.Errorf("allow-%s: no flow", a.Name))
		}
		for _, f := range append(append([]Flow{}, a.Ingress...), a.Egress...) {
			for _, p := range f.Peers {
				if p.AnyNamespace && p.Namespace != "" {
					errs = append(errs, fmt.Errorf("allow-%s: a peer in namespace %s and in any namespace", a.Name, p.Namespace))
				}
				if p.CIDR != "" {
					if _, err := netip.ParsePrefix(p.CIDR); err != nil || p.Namespace != "" || p.AnyNamespace || len(p.Pods) > 0 {
						errs = append(errs, fmt.Errorf("allow-%s: peer %q is not a CIDR alone", a.Name, p.CIDR))
					}
				}
			}
			for _, p := range f.Ports {
				if p.Port < 1 || p.Port > 65535 || (p.EndPort != 0 && p.EndPort <= p.Port) || p.EndPort > 65535 {
					errs = append(errs, fmt.Errorf("allow-%s: bad port %d-%d", a.Name, p.Port, p.EndPort))
				}
				if p.Protocol != "" && p.Protocol != "TCP" && p.Protocol != "UDP" && p.Protocol != "SCTP" {
					errs = append(errs, fmt.Errorf("allow-%s: bad protocol %q", a.Name, p.Protocol))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// New creates the namespace's default deny and one policy per allowance,
// named <name>-default-deny and <name>-allow-<Name>, and returns the
// allowances (a release waits for them, so the deny never blocks its
// pods). The deny comes after them: on a namespace that runs already,
// traffic flows on through the rollout.
func New(ctx *pulumi.Context, name string, namespace pulumi.StringInput, allows []Allow, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	if err := Validate(allows); err != nil {
		return nil, fmt.Errorf("network policies %s: %w", name, err)
	}
	allowed, err := Add(ctx, name, namespace, allows, opts...)
	if err != nil {
		return nil, err
	}
	_, err = networkingv1.NewNetworkPolicy(ctx, name+"-"+DefaultDeny, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(DefaultDeny), Namespace: namespace},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
		},
	}, append(opts, pulumi.DependsOn(allowed))...)
	if err != nil {
		return nil, fmt.Errorf("network policy %s: %w", DefaultDeny, err)
	}
	return allowed, nil
}

// Add creates allowances in a namespace whose default deny another
// component created (a second release in the same namespace).
func Add(ctx *pulumi.Context, name string, namespace pulumi.StringInput, allows []Allow, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	if err := Validate(allows); err != nil {
		return nil, fmt.Errorf("network policies %s: %w", name, err)
	}
	out := make([]pulumi.Resource, 0, len(allows))
	for _, a := range allows {
		p, err := networkingv1.NewNetworkPolicy(ctx, name+"-allow-"+a.Name, &networkingv1.NetworkPolicyArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("allow-" + a.Name), Namespace: namespace},
			Spec:     a.spec(),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("network policy allow-%s: %w", a.Name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func (a Allow) spec() *networkingv1.NetworkPolicySpecArgs {
	s := &networkingv1.NetworkPolicySpecArgs{PodSelector: selector(a.Pods)}
	if a.Without != "" {
		s.PodSelector = &metav1.LabelSelectorArgs{
			MatchLabels: s.PodSelector.(*metav1.LabelSelectorArgs).MatchLabels,
			MatchExpressions: metav1.LabelSelectorRequirementArray{metav1.LabelSelectorRequirementArgs{
				Key: pulumi.String(a.Without), Operator: pulumi.String("DoesNotExist"),
			}},
		}
	}
	var types []string
	if len(a.Ingress) > 0 {
		types = append(types, "Ingress")
		rules := networkingv1.NetworkPolicyIngressRuleArray{}
		for _, f := range a.Ingress {
			rules = append(rules, networkingv1.NetworkPolicyIngressRuleArgs{From: f.peers(), Ports: f.ports()})
		}
		s.Ingress = rules
	}
	if len(a.Egress) > 0 {
		types = append(types, "Egress")
		rules := networkingv1.NetworkPolicyEgressRuleArray{}
		for _, f := range a.Egress {
			rules = append(rules, networkingv1.NetworkPolicyEgressRuleArgs{To: f.peers(), Ports: f.ports()})
		}
		s.Egress = rules
	}
	s.PolicyTypes = pulumi.ToStringArray(types)
	return s
}

func (f Flow) peers() networkingv1.NetworkPolicyPeerArray {
	if len(f.Peers) == 0 {
		return nil
	}
	out := networkingv1.NetworkPolicyPeerArray{}
	for _, p := range f.Peers {
		if p.CIDR != "" {
			out = append(out, networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(p.CIDR)}})
			continue
		}
		peer := networkingv1.NetworkPolicyPeerArgs{}
		switch {
		case p.AnyNamespace:
			peer.NamespaceSelector = &metav1.LabelSelectorArgs{}
		case p.Namespace != "":
			peer.NamespaceSelector = &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
				"kubernetes.io/metadata.name": pulumi.String(p.Namespace),
			}}
		}
		// A namespace alone means all its pods; without one, the pods of
		// the policy's namespace ({} for all).
		if len(p.Pods) > 0 || peer.NamespaceSelector == nil {
			peer.PodSelector = selector(p.Pods)
		}
		out = append(out, peer)
	}
	return out
}

func (f Flow) ports() networkingv1.NetworkPolicyPortArray {
	if len(f.Ports) == 0 {
		return nil
	}
	out := networkingv1.NetworkPolicyPortArray{}
	for _, p := range f.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		port := networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String(proto), Port: pulumi.Int(p.Port)}
		if p.EndPort != 0 {
			port.EndPort = pulumi.Int(p.EndPort)
		}
		out = append(out, port)
	}
	return out
}

func selector(labels map[string]string) *metav1.LabelSelectorArgs {
	if len(labels) == 0 {
		return &metav1.LabelSelectorArgs{}
	}
	return &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(labels)}
}
