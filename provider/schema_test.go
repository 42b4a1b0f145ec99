package provider_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
)

var update = flag.Bool("update", false, "rewrite schema.json")

// TestSchemaFileIsCurrent keeps schema.json, which the program's SDK is
// checked against, in step with the provider. Regenerate with
// go test ./provider -run TestSchemaFileIsCurrent -update (make schema).
func TestSchemaFileIsCurrent(t *testing.T) {
	s := unconfigured(t)
	resp, err := s.GetSchema(p.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := indent(&out, resp.Schema); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("schema.json", out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, out.Bytes()) {
		t.Error("schema.json is stale: run make schema")
	}
}
