// Package infomaniak is the small, hand-written Go SDK of the in-repo
// Infomaniak KaaS provider (`provider/`, binary pulumi-resource-infomaniak).
//
// It declares the provider resource and the two custom resources the program
// uses, infomaniak:kaas:Cluster and infomaniak:kaas:InstancePool. Their
// property names are the contract the provider implements; they follow the
// Infomaniak KaaS API as documented in shared/INFOMANIAK-KAAS.md.
package infomaniak

// Type tokens of the resources this SDK declares.
const (
	// ProviderType is the token of the provider resource.
	ProviderType = "pulumi:providers:infomaniak"
	// ClusterType is the token of a managed Kubernetes cluster.
	ClusterType = "infomaniak:kaas:Cluster"
	// InstancePoolType is the token of a worker pool of a cluster.
	InstancePoolType = "infomaniak:kaas:InstancePool"
)
