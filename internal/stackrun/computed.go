package stackrun

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"gitlab.com/camps-ch/infra/infra/infomaniak"
	"gitlab.com/camps-ch/infra/internal/recorder"
)

// computed returns the outputs a real provider would compute for a
// resource, deterministic so plans and tests are stable.
func computed(r *recorder.Resource) resource.PropertyMap {
	id := func() resource.PropertyValue {
		h := fnv.New32a()
		h.Write([]byte(r.URN))
		return resource.NewProperty(float64(h.Sum32()%900000 + 100000))
	}
	switch r.Type {
	case infomaniak.ClusterType:
		return resource.PropertyMap{
			"kaasId":     id(),
			"status":     resource.NewProperty("Active"),
			"kubeconfig": resource.MakeSecret(resource.NewProperty(TestKubeconfig(r.String("name")))),
		}
	case "openstack:networking/floatingIp:FloatingIp":
		h := fnv.New32a()
		h.Write([]byte(r.URN))
		n := h.Sum32()
		// 203.0.113.0/24 is TEST-NET-3: documentation addresses, never routed.
		return resource.PropertyMap{"address": resource.NewProperty(fmt.Sprintf("203.0.113.%d", n%250+1))}
	case infomaniak.InstancePoolType:
		return resource.PropertyMap{
			"instancePoolId": id(),
			"status":         resource.NewProperty("Active"),
		}
	case "kubernetes:core/v1:Secret":
		if r.String("type") != "kubernetes.io/service-account-token" {
			return nil
		}
		// The token controller fills a ServiceAccount's token Secret: one
		// token per Secret, deterministic here.
		token := fmt.Sprintf("sa-token-%08x", fnv32(r.URN))
		return resource.PropertyMap{"data": resource.MakeSecret(resource.NewProperty(resource.PropertyMap{
			"token":     resource.NewProperty(base64.StdEncoding.EncodeToString([]byte(token))),
			"namespace": resource.NewProperty(base64.StdEncoding.EncodeToString([]byte(r.String("metadata.namespace")))),
		}))}
	}
	return nil
}

// TestKubeconfig is the kubeconfig the mocks give a created cluster. Its
// server is under .invalid, which never resolves.
func TestKubeconfig(cluster string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: https://%[1]s.kaas.invalid:6443
users:
- name: %[1]s-admin
  user:
    token: test-token
contexts:
- name: %[1]s
  context: {cluster: %[1]s, user: %[1]s-admin}
current-context: %[1]s
`, cluster)
}

// invoke answers the data sources the program reads, as the real
// providers would.
func invoke(token string, args resource.PropertyMap) resource.PropertyMap {
	switch token {
	case "cloudflare:index/getZone:getZone":
		name := ""
		if v, ok := args["name"]; ok && v.IsString() {
			name = v.StringValue()
		}
		id := fmt.Sprintf("zone-%08x", fnv32(name))
		return resource.PropertyMap{
			"id": resource.NewProperty(id), "zoneId": resource.NewProperty(id), "name": resource.NewProperty(name),
			"status": resource.NewProperty("active"),
		}
	}
	return nil
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}
