package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/platform"
)

// meta is the part of an object's metadata the checks read.
type meta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// autoscaling checks, in the API server, what phase 2 scales with and
// mocks cannot see, because the charts render it: the ingress
// controller's HorizontalPodAutoscaler (at least the phase's three
// replicas, room above them, CPU at platform.TargetCPU as its only
// metric, a target that exists) with a PodDisruptionBudget beside it,
// metrics-server's APIService backed by its Service, and a Pooler in front
// of every CloudNativePG cluster. Without charts there is no platform to
// check, and the run says so.
func (p *project) autoscaling(ctx context.Context, r *runner) error {
	if r.charts == "" {
		fmt.Println("  autoscaling in the API server: skipped, no charts (-charts)")
		return nil
	}
	return p.step("autoscaling in the API server", func(io.Writer) (string, error) {
		get := r.kube.GetJSON
		var hpas struct {
			Items []struct {
				Metadata meta `json:"metadata"`
				Spec     struct {
					MinReplicas    int `json:"minReplicas"`
					MaxReplicas    int `json:"maxReplicas"`
					ScaleTargetRef struct{ Kind, Name string }
					Metrics        []struct {
						Resource struct {
							Name   string `json:"name"`
							Target struct {
								AverageUtilization int `json:"averageUtilization"`
							} `json:"target"`
						} `json:"resource"`
					} `json:"metrics"`
				} `json:"spec"`
			} `json:"items"`
		}
		ns := convention.IngressNamespace
		if err := get(ctx, "/apis/autoscaling/v2/namespaces/"+ns+"/horizontalpodautoscalers", &hpas); err != nil {
			return "", err
		}
		if len(hpas.Items) != 1 {
			return "", fmt.Errorf("%d HorizontalPodAutoscalers in %s, want the controller's one", len(hpas.Items), ns)
		}
		h := hpas.Items[0]
		var metrics []string
		for _, m := range h.Spec.Metrics {
			metrics = append(metrics, fmt.Sprintf("%s %d %%", m.Resource.Name, m.Resource.Target.AverageUtilization))
		}
		if want := []string{fmt.Sprintf("cpu %d %%", platform.TargetCPU)}; !slices.Equal(metrics, want) {
			return "", fmt.Errorf("HPA %s scales on %v, want %v", h.Metadata.Name, metrics, want)
		}
		if h.Spec.MinReplicas < 3 || h.Spec.MaxReplicas <= h.Spec.MinReplicas {
			return "", fmt.Errorf("HPA %s scales %d to %d, want at least 3 and room above", h.Metadata.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas)
		}
		if h.Spec.ScaleTargetRef.Kind != "Deployment" {
			return "", fmt.Errorf("HPA %s targets a %s, want the controller's Deployment", h.Metadata.Name, h.Spec.ScaleTargetRef.Kind)
		}
		var target struct{ Metadata meta }
		if err := get(ctx, "/apis/apps/v1/namespaces/"+ns+"/deployments/"+h.Spec.ScaleTargetRef.Name, &target); err != nil {
			return "", fmt.Errorf("HPA %s's target: %w", h.Metadata.Name, err)
		}
		var pdbs struct {
			Items []struct {
				Metadata meta `json:"metadata"`
			} `json:"items"`
		}
		if err := get(ctx, "/apis/policy/v1/namespaces/"+ns+"/poddisruptionbudgets", &pdbs); err != nil {
			return "", err
		}
		if len(pdbs.Items) == 0 {
			return "", fmt.Errorf("no PodDisruptionBudget in %s beside the HPA", ns)
		}

		var api struct {
			Spec struct {
				Service struct{ Namespace, Name string }
			}
		}
		if err := get(ctx, "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io", &api); err != nil {
			return "", fmt.Errorf("the resource metrics API: %w", err)
		}
		svc := api.Spec.Service
		if err := get(ctx, "/api/v1/namespaces/"+svc.Namespace+"/services/"+svc.Name, &target); err != nil {
			return "", fmt.Errorf("the resource metrics API's Service: %w", err)
		}

		var clusters, poolers struct {
			Items []struct {
				Metadata meta `json:"metadata"`
				Spec     struct {
					Cluster struct{ Name string } `json:"cluster"`
					Type    string                `json:"type"`
				} `json:"spec"`
			} `json:"items"`
		}
		if err := get(ctx, "/apis/postgresql.cnpg.io/v1/clusters", &clusters); err != nil {
			return "", err
		}
		if err := get(ctx, "/apis/postgresql.cnpg.io/v1/poolers", &poolers); err != nil {
			return "", err
		}
		fronted := map[meta]bool{}
		for _, pl := range poolers.Items {
			if pl.Spec.Type == "rw" {
				fronted[meta{Name: pl.Spec.Cluster.Name, Namespace: pl.Metadata.Namespace}] = true
			}
		}
		var dbs []string
		for _, c := range clusters.Items {
			if !fronted[c.Metadata] {
				return "", fmt.Errorf("database %s/%s has no rw Pooler", c.Metadata.Namespace, c.Metadata.Name)
			}
			dbs = append(dbs, c.Metadata.Namespace+"/"+c.Metadata.Name)
		}
		if len(dbs) == 0 {
			return "", fmt.Errorf("no CloudNativePG cluster to check")
		}
		return fmt.Sprintf("HPA %s %d–%d on cpu %d %% with PDB %s; %s/%s serves metrics.k8s.io; Poolers in front of %s",
			h.Metadata.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas, platform.TargetCPU, pdbs.Items[0].Metadata.Name,
			svc.Namespace, svc.Name, strings.Join(dbs, ", ")), nil
	})
}
