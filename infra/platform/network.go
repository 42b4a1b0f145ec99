package platform

import (
	"gitlab.com/camps-ch/infra/infra/netpol"

	"gitlab.com/camps-ch/infra/infra/convention"
)

// Who talks to whom in the platform. Every platform namespace denies all
// traffic by default (netpol.DefaultDeny); these are its exceptions, from
// the pinned charts' ports and pod labels. The cluster runs Cilium, where
// an ipBlock never matches nodes, pods or a managed API server: flows with
// the control plane (webhooks, the API) or with nodes (kubelet,
// node-exporter, NFS clients) are allowed by port alone.

// Pod labels of the platform's workloads.
var (
	alertmanagerPods = map[string]string{"app.kubernetes.io/name": "alertmanager"}
	grafanaPods      = map[string]string{"app.kubernetes.io/name": "grafana"}
	operatorPods     = map[string]string{"app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator"}
	kubeStatePods    = map[string]string{"app.kubernetes.io/name": "kube-state-metrics"}
	blackboxPods     = map[string]string{"app.kubernetes.io/name": "prometheus-blackbox-exporter"} // the chart's name, not fullnameOverride
	certManagerPods  = map[string]string{"app.kubernetes.io/component": "controller"}
	cmWebhookPods    = map[string]string{"app.kubernetes.io/component": "webhook"}
	longhornManager  = map[string]string{"app": "longhorn-manager"}
	shareManagerPods = map[string]string{"longhorn.io/component": "share-manager"}
	cnpgOperatorPods = map[string]string{"app.kubernetes.io/name": "cloudnative-pg"}
	barmanPluginPods = map[string]string{"app.kubernetes.io/name": "plugin-barman-cloud"}
)

// scrapedOn admits Prometheus to the pods' metrics ports.
func scrapedOn(pods map[string]string, ports ...int) netpol.Allow {
	return netpol.Allow{Name: "prometheus", Pods: pods,
		Ingress: []netpol.Flow{{Peers: []netpol.Peer{convention.PrometheusPeer}, Ports: netpol.TCP(ports...)}}}
}

// monitoringNetwork: Prometheus scrapes every namespace and the nodes
// (kubelet 10250, node-exporter 9100 on the host network); Grafana is
// reached through the ingress and reads Prometheus and Alertmanager;
// Alertmanager calls its receivers (HTTPS, SMTP submission); the
// operator's admission webhook (10250) is called by the API server.
func monitoringNetwork() []netpol.Allow {
	within := func(pods map[string]string, ports ...int) netpol.Flow { return netpol.Within(pods, ports...) }
	return []netpol.Allow{
		convention.DNSAndAPI,
		{Name: "prometheus", Pods: convention.PrometheusPods,
			Ingress: []netpol.Flow{within(convention.PrometheusPods, 9090, 8080), within(grafanaPods, 9090)},
			Egress: []netpol.Flow{
				{Peers: []netpol.Peer{{AnyNamespace: true}}},
				netpol.Anywhere(10250, 9100),
			}},
		{Name: "alertmanager", Pods: alertmanagerPods,
			Ingress: []netpol.Flow{within(convention.PrometheusPods, 9093, 8080), within(grafanaPods, 9093),
				{Peers: []netpol.Peer{{Pods: alertmanagerPods}}, Ports: []netpol.Port{{Port: 9094}, {Port: 9094, Protocol: "UDP"}}}},
			// HTTPS receivers: DNSAndAPI's 443 already.
			Egress: []netpol.Flow{netpol.Anywhere(465, 587),
				{Peers: []netpol.Peer{{Pods: alertmanagerPods}}, Ports: []netpol.Port{{Port: 9094}, {Port: 9094, Protocol: "UDP"}}}}},
		{Name: "grafana", Pods: grafanaPods,
			Ingress: []netpol.Flow{netpol.From(convention.IngressNamespace, convention.IngressPods, 3000), within(convention.PrometheusPods, 3000)},
			Egress:  []netpol.Flow{within(convention.PrometheusPods, 9090), within(alertmanagerPods, 9093)}},
		{Name: "operator-webhook", Pods: operatorPods, Ingress: []netpol.Flow{netpol.Anywhere(10250)}},
		{Name: "kube-state-metrics", Pods: kubeStatePods, Ingress: []netpol.Flow{within(convention.PrometheusPods, 8080)}},
	}
}

// blackboxNetwork: the exporter is called by Prometheus; it probes the
// sites over HTTPS, which the monitoring namespace's DNSAndAPI (443 to
// any address) admits already.
func blackboxNetwork() []netpol.Allow {
	return []netpol.Allow{{Name: "blackbox-exporter", Pods: blackboxPods,
		Ingress: []netpol.Flow{netpol.Within(convention.PrometheusPods, 9115)}}}
}

// ingressNetwork: the load balancer brings the internet on 80 and 443
// (its members' addresses are not known to the policy); the controller
// proxies to backends in any namespace, on their ports.
func ingressNetwork() []netpol.Allow {
	return []netpol.Allow{
		convention.DNSAndAPI,
		{Name: "load-balancer", Pods: convention.IngressPods, Ingress: []netpol.Flow{netpol.Anywhere(80, 443)}},
		{Name: "backends", Pods: convention.IngressPods, Egress: []netpol.Flow{{Peers: []netpol.Peer{{AnyNamespace: true}}}}},
		scrapedOn(convention.IngressPods, 9113),
	}
}

// certManagerNetwork: the API server calls the webhook (10250); the
// controller talks to Let's Encrypt and Cloudflare's API (HTTPS) and
// checks the DNS-01 record at the zone's authoritative name servers (53).
func certManagerNetwork(release string) []netpol.Allow {
	return []netpol.Allow{
		convention.DNSAndAPI,
		{Name: "webhook", Pods: cmWebhookPods, Ingress: []netpol.Flow{netpol.Anywhere(10250)}},
		{Name: "dns01-self-check", Pods: certManagerPods,
			Egress: []netpol.Flow{{Ports: []netpol.Port{{Port: 53, Protocol: "UDP"}, {Port: 53}}}}},
		scrapedOn(map[string]string{"app.kubernetes.io/instance": release}, 9402),
	}
}

// longhornNetwork: Longhorn's components talk among themselves on many
// ports (managers, instance managers, engines and replicas on
// 10000-30000), which the chart's own ingress policies narrow; the API
// server calls the admission webhook (9502); nodes mount RWX volumes from
// share managers (NFS 2049); backups go to S3 (HTTPS).
func longhornNetwork() []netpol.Allow {
	return []netpol.Allow{
		convention.DNSAndAPI,
		// S3 (backups) is on 443, which DNSAndAPI admits. Longhorn's pods
		// talk to each other; the restore drill's pod (it pushes metrics)
		// is not among them: it must not reach the manager's API, which
		// does not authenticate.
		{Name: "longhorn", Without: pushingLabel, Ingress: []netpol.Flow{netpol.Within(nil)}, Egress: []netpol.Flow{netpol.Within(nil)}},
		{Name: "webhook", Pods: longhornManager, Ingress: []netpol.Flow{netpol.Anywhere(9502)}},
		{Name: "nfs", Pods: shareManagerPods, Ingress: []netpol.Flow{netpol.Anywhere(2049)}},
		scrapedOn(longhornManager, 9500),
	}
}

// cloudNativePGNetwork: the API server calls the operator's webhooks
// (9443); the operator calls the Barman Cloud plugin (9090, mTLS) and
// every PostgreSQL instance (status 8000, PostgreSQL 5432) in the
// application namespaces.
func cloudNativePGNetwork() []netpol.Allow {
	return []netpol.Allow{
		convention.DNSAndAPI,
		{Name: "operator", Pods: cnpgOperatorPods,
			Ingress: []netpol.Flow{netpol.Anywhere(9443)},
			Egress: []netpol.Flow{
				netpol.Within(barmanPluginPods, 9090),
				{Peers: []netpol.Peer{{AnyNamespace: true}}, Ports: netpol.TCP(8000, 5432)},
			}},
		{Name: "barman-cloud", Pods: barmanPluginPods, Ingress: []netpol.Flow{netpol.Within(cnpgOperatorPods, 9090)}},
		scrapedOn(cnpgOperatorPods, 8080),
	}
}
