package convention

import "gitlab.com/camps-ch/infra/infra/netpol"

// Pod labels of the platform workloads other namespaces admit.
var (
	// PrometheusPods are Prometheus's pods.
	PrometheusPods = map[string]string{"app.kubernetes.io/name": "prometheus"}
	// IngressPods are the NGINX ingress controller's pods.
	IngressPods = map[string]string{"app.kubernetes.io/name": "nginx-ingress"}
	// PushgatewayPods are the Pushgateway's pods (its chart's name label),
	// which the drills push to.
	PushgatewayPods = map[string]string{"app.kubernetes.io/name": "prometheus-pushgateway"}
)

// PrometheusPeer is Prometheus, which scrapes metrics ports.
var PrometheusPeer = netpol.Peer{Namespace: MonitoringNamespace, Pods: PrometheusPods}

// IngressPeer is the ingress controller, which proxies to backends.
var IngressPeer = netpol.Peer{Namespace: IngressNamespace, Pods: IngressPods}

// DNSAndAPI is what most platform pods may do: resolve names and call the
// API server. The API server's rule is by port alone (Cilium never matches
// an ipBlock to a managed API server), so it also admits HTTPS to any
// address (ACME, Cloudflare, S3, receivers, probed sites): allowances do
// not repeat 443.
var DNSAndAPI = netpol.Allow{Name: "dns-and-api", Egress: []netpol.Flow{netpol.DNS, netpol.APIServer}}
