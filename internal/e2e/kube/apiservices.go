package kube

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// RemoveUnavailableAPIServices deletes the aggregated APIServices (those
// served by a Service, such as metrics-server's v1beta1.metrics.k8s.io)
// that are not available, and returns their names. No Pod runs here, so
// they never are; and while one fails discovery, the namespace controller
// finalizes no namespace: every destroy would hang on the namespaces. A
// running server would make this unnecessary; what it would serve is not
// exercised.
func (cp *ControlPlane) RemoveUnavailableAPIServices(ctx context.Context) ([]string, error) {
	var list struct {
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
			Spec     struct {
				Service *struct{ Name string } `json:"service"`
			} `json:"spec"`
			Status struct {
				Conditions []struct{ Type, Status string } `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := cp.getJSON(ctx, "/apis/apiregistration.k8s.io/v1/apiservices", &list); err != nil {
		return nil, err
	}
	var removed []string
	for _, s := range list.Items {
		available := false
		for _, c := range s.Status.Conditions {
			available = available || c.Type == "Available" && c.Status == "True"
		}
		if s.Spec.Service == nil || available {
			continue
		}
		path := "/apis/apiregistration.k8s.io/v1/apiservices/" + s.Metadata.Name
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, cp.URL+path, nil)
		if err != nil {
			return removed, err
		}
		req.Header.Set("Authorization", "Bearer "+cp.token)
		resp, err := cp.Client().Do(req)
		if err != nil {
			return removed, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusNotFound {
			return removed, fmt.Errorf("DELETE %s: HTTP %d: %s", path, resp.StatusCode, body)
		}
		removed = append(removed, s.Metadata.Name)
	}
	return removed, nil
}
