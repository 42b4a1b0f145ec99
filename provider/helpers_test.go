package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi-go-provider/integration"

	"gitlab.com/camps-ch/infra/provider"
)

// unconfigured starts the provider in process, not yet configured.
func unconfigured(t *testing.T) integration.Server {
	t.Helper()
	prov, err := provider.New()
	if err != nil {
		t.Fatal(err)
	}
	s, err := integration.NewServer(context.Background(), provider.Name, semver.MustParse(provider.Version), integration.WithProvider(prov))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func indent(w io.Writer, schema string) error {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(schema), "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
