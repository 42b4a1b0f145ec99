package netpol

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/internal/recorder"
)

func TestValidate(t *testing.T) {
	ok := Allow{Name: "web", Ingress: []Flow{Anywhere(443)}}
	for _, tc := range []struct {
		name   string
		allows []Allow
		want   string // "" = valid
	}{
		{"valid", []Allow{ok, {Name: "dns", Egress: []Flow{DNS}}}, ""},
		{"no name", []Allow{{Ingress: []Flow{Anywhere(80)}}}, "an allowance has no name"},
		{"twice", []Allow{ok, ok}, "allow-web: declared twice"},
		{"no flow", []Allow{{Name: "idle"}}, "allow-idle: no flow"},
		{"two namespaces", []Allow{{Name: "x", Egress: []Flow{{Peers: []Peer{{Namespace: "a", AnyNamespace: true}}}}}}, "in namespace a and in any namespace"},
		{"port zero", []Allow{{Name: "x", Egress: []Flow{Anywhere(0)}}}, "bad port 0-0"},
		{"port too high", []Allow{{Name: "x", Egress: []Flow{Anywhere(70000)}}}, "bad port 70000-0"},
		{"range backwards", []Allow{{Name: "x", Egress: []Flow{{Ports: []Port{{Port: 30000, EndPort: 10000}}}}}}, "bad port 30000-10000"},
		{"bad protocol", []Allow{{Name: "x", Egress: []Flow{{Ports: []Port{{Port: 53, Protocol: "ICMP"}}}}}}, `bad protocol "ICMP"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.allows)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPolicies: the deny selects every pod both ways and allows nothing;
// each allowance becomes allow-<name> with the right peers and ports.
func TestPolicies(t *testing.T) {
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "ns", pulumi.String("ns"), []Allow{
			{Name: "dns", Egress: []Flow{DNS}},
			{Name: "web", Pods: map[string]string{"app": "web"},
				Ingress: []Flow{From("ingress-nginx", map[string]string{"app": "nginx"}, 8080)},
				Egress:  []Flow{{Peers: []Peer{{AnyNamespace: true}}}}},
		})
		return err
	}, pulumi.WithMocks("p", "s", rec))
	if err != nil {
		t.Fatal(err)
	}
	const typ = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	if n := len(rec.OfType(typ)); n != 3 {
		t.Fatalf("%d policies, want 3", n)
	}
	deny, _ := rec.Find(typ, "ns-default-deny")
	if deny.String("metadata.name") != DefaultDeny || deny.String("metadata.namespace") != "ns" {
		t.Errorf("deny %v", deny.Inputs)
	}
	if _, ok := deny.Input("spec.ingress"); ok {
		t.Error("the deny allows ingress")
	}
	// The deny comes after the allowances: no gap on a running namespace.
	for _, allow := range []string{"ns-allow-dns", "ns-allow-web"} {
		p, _ := rec.Find(typ, allow)
		if !slices.Contains(deny.Dependencies, p.URN) {
			t.Errorf("the deny does not wait for %s", allow)
		}
	}
	for _, m := range deny.Mismatches(map[string]string{
		"spec.policyTypes[0]": "Ingress", "spec.policyTypes[1]": "Egress",
	}) {
		t.Error("deny " + m)
	}
	dns, _ := rec.Find(typ, "ns-allow-dns")
	for _, m := range dns.Mismatches(map[string]string{
		"metadata.name":       "allow-dns",
		"spec.policyTypes[0]": "Egress",
		`spec.egress[0].to[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]`: "kube-system",
		`spec.egress[0].to[0].podSelector.matchLabels["k8s-app"]`:                           "kube-dns",
		"spec.egress[0].ports[0].protocol":                                                  "UDP",
		"spec.egress[0].ports[1].protocol":                                                  "TCP",
	}) {
		t.Error("dns " + m)
	}
	if _, ok := dns.Input("spec.ingress"); ok {
		t.Error("an egress-only allowance restricts ingress")
	}
	web, _ := rec.Find(typ, "ns-allow-web")
	for _, m := range web.Mismatches(map[string]string{
		`spec.podSelector.matchLabels["app"]`: "web",
		"spec.policyTypes[0]":                 "Ingress",
		"spec.policyTypes[1]":                 "Egress",
		`spec.ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]`: "ingress-nginx",
		`spec.ingress[0].from[0].podSelector.matchLabels["app"]`:                               "nginx",
	}) {
		t.Error("web " + m)
	}
	if v, _ := web.Input("spec.ingress[0].ports[0].port"); !v.IsNumber() || v.NumberValue() != 8080 {
		t.Errorf("web ingress port %v", v)
	}
	if v, ok := web.Input("spec.egress[0].to[0].namespaceSelector"); !ok || !v.IsObject() || len(v.ObjectValue()) != 0 {
		t.Errorf("any namespace is %v, want {}", v)
	}
	if _, ok := web.Input("spec.egress[0].ports"); ok {
		t.Error("a flow without ports restricts ports")
	}
}

func TestNewRefusesBadAllowances(t *testing.T) {
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "ns", pulumi.String("ns"), []Allow{{Name: "idle"}})
		return err
	}, pulumi.WithMocks("p", "s", recorder.New("p", "s", nil)))
	if err == nil || !strings.Contains(err.Error(), "allow-idle: no flow") {
		t.Errorf("error %v", err)
	}
}
