package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"gitlab.com/camps-ch/infra/infra/convention"
	"gitlab.com/camps-ch/infra/infra/platform"
)

// drills checks each restore drill's namespace in the API server: Pod
// Security restricted, nothing bound but the drill's own account, and the
// throwaway Cluster its CronJob will create accepted by CloudNativePG's
// CRD as that account (a server-side dry run), while the same request in
// the drilled database's own namespace is refused. No operator runs here,
// so the restore itself is not exercised.
func (p *project) drills(ctx context.Context, r *runner, want int) error {
	if r.charts == "" {
		fmt.Println("  restore drills in the API server: skipped, no charts (-charts)")
		return nil
	}
	return p.step("restore drills in the API server", func(io.Writer) (string, error) {
		var nss struct {
			Items []struct {
				Metadata struct {
					Name   string            `json:"name"`
					Labels map[string]string `json:"labels"`
				} `json:"metadata"`
			} `json:"items"`
		}
		if err := r.kube.GetJSON(ctx, "/api/v1/namespaces?labelSelector=app.kubernetes.io%2Fpart-of%3D"+convention.RestoreDrillJob, &nss); err != nil {
			return "", err
		}
		if len(nss.Items) != want {
			return "", fmt.Errorf("%d drill namespaces, want %d", len(nss.Items), want)
		}
		var done []string
		for _, n := range nss.Items {
			ns := n.Metadata.Name
			source := strings.TrimSuffix(ns, "-restore-drill")
			if lvl := n.Metadata.Labels["pod-security.kubernetes.io/enforce"]; lvl != convention.Restricted {
				return "", fmt.Errorf("%s enforces %q", ns, lvl)
			}
			var bindings struct {
				Items []struct {
					Metadata struct{ Name string }
					Subjects []struct{ Kind, Name string }
				}
			}
			if err := r.kube.GetJSON(ctx, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/rolebindings", &bindings); err != nil {
				return "", err
			}
			for _, b := range bindings.Items {
				for _, s := range b.Subjects {
					if s.Kind != "ServiceAccount" || s.Name != convention.RestoreDrillJob {
						return "", fmt.Errorf("%s: RoleBinding %s binds %s %s", ns, b.Metadata.Name, s.Kind, s.Name)
					}
				}
			}
			var cm struct{ Data map[string]string }
			if err := r.kube.GetJSON(ctx, "/api/v1/namespaces/"+ns+"/configmaps/"+convention.RestoreDrillJob, &cm); err != nil {
				return "", err
			}
			manifest := []byte(cm.Data["cluster.json"])
			as := "system:serviceaccount:" + ns + ":" + convention.RestoreDrillJob
			status, body, err := r.kube.Do(ctx, http.MethodPost, "/apis/postgresql.cnpg.io/v1/namespaces/"+ns+"/clusters?dryRun=All", manifest, as)
			if err != nil {
				return "", err
			}
			if status != http.StatusCreated && status != http.StatusOK {
				return "", fmt.Errorf("%s: the drill's Cluster is refused (HTTP %d): %s", ns, status, body)
			}
			if err := watchOwnOnly(ctx, r, "/apis/postgresql.cnpg.io/v1/namespaces/"+ns+"/clusters", "drill", as); err != nil {
				return "", fmt.Errorf("%s: %w", ns, err)
			}
			status, body, err = r.kube.Do(ctx, http.MethodPost, "/apis/postgresql.cnpg.io/v1/namespaces/"+source+"/clusters?dryRun=All", manifest, as)
			if err != nil {
				return "", err
			}
			if status != http.StatusForbidden {
				return "", fmt.Errorf("%s: the drill's account may create a Cluster in %s (HTTP %d): %s", ns, source, status, body)
			}
			done = append(done, ns)
		}
		summary := fmt.Sprintf("%s: restricted, bound to its own account only; the throwaway Cluster passes CloudNativePG's CRD (dry run, as the drill), refused in the source namespace (403); the drill may list and watch its own by name only",
			strings.Join(done, ", "))
		lh, err := p.longhornDrill(ctx, r)
		if err != nil {
			return "", err
		}
		return summary + lh, nil
	})
}

// longhornDrill checks Longhorn's drill where it exists (Longhorn backs
// up): the Volume its script creates passes Longhorn's CRD as the drill's
// account (dry run), and that account may not delete another volume.
func (p *project) longhornDrill(ctx context.Context, r *runner) (string, error) {
	ns := convention.LonghornNamespace
	status, _, err := r.kube.Do(ctx, http.MethodGet, "/apis/batch/v1/namespaces/"+ns+"/cronjobs/"+convention.RestoreDrillJob, nil, "")
	if err != nil || status == http.StatusNotFound {
		return "", err
	}
	as := "system:serviceaccount:" + ns + ":" + convention.RestoreDrillJob
	volume := platform.LonghornDrillVolume("s3://camps-prod-longhorn@dc4-a/?backup=backup-0123456789abcdef&volume=pvc-1")
	status, body, err := r.kube.Do(ctx, http.MethodPost, "/apis/longhorn.io/v1beta2/namespaces/"+ns+"/volumes?dryRun=All", []byte(volume), as)
	if err != nil {
		return "", err
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return "", fmt.Errorf("the Longhorn drill's Volume is refused (HTTP %d): %s", status, body)
	}
	if err := watchOwnOnly(ctx, r, "/apis/longhorn.io/v1beta2/namespaces/"+ns+"/volumes", "restore-drill", as); err != nil {
		return "", fmt.Errorf("the Longhorn drill: %w", err)
	}
	status, body, err = r.kube.Do(ctx, http.MethodDelete, "/apis/longhorn.io/v1beta2/namespaces/"+ns+"/volumes/pvc-1?dryRun=All", nil, as)
	if err != nil {
		return "", err
	}
	if status != http.StatusForbidden {
		return "", fmt.Errorf("the Longhorn drill's account may delete another volume (HTTP %d): %s", status, body)
	}
	return "; Longhorn's: its Volume passes Longhorn's CRD as the drill, which may not delete another volume (403)", nil
}

// watchOwnOnly checks what kubectl wait and delete --wait do as the
// drill's account: list and watch the collection at path narrowed to the
// object name (a field selector, which RBAC's resourceNames admits), but
// not the whole collection.
func watchOwnOnly(ctx context.Context, r *runner, path, name, as string) error {
	for _, q := range []string{"?fieldSelector=metadata.name%3D" + name, "?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3D" + name} {
		status, body, err := r.kube.Do(ctx, http.MethodGet, path+q, nil, as)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("GET %s%s as the drill: HTTP %d: %s", path, q, status, body)
		}
	}
	status, _, err := r.kube.Do(ctx, http.MethodGet, path, nil, as)
	if err != nil {
		return err
	}
	if status != http.StatusForbidden {
		return fmt.Errorf("GET %s as the drill: HTTP %d, want 403: it may list every object", path, status)
	}
	return nil
}
