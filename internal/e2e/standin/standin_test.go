package standin

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"unicode"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const passwordURN = "urn:pulumi:uat::camps-infra::random:index/randomPassword:RandomPassword::p"

func TestRandomPassword(t *testing.T) {
	tests := []struct {
		name   string
		inputs resource.PropertyMap
		ok     func(rune) bool
		length int
	}{
		{"no special characters", resource.NewPropertyMapFromMap(map[string]any{"length": 32, "special": false}),
			func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }, 32},
		{"digits only", resource.NewPropertyMapFromMap(map[string]any{"length": 12, "special": false, "upper": false, "lower": false}),
			unicode.IsDigit, 12},
		{"special from overrideSpecial", resource.NewPropertyMapFromMap(map[string]any{"length": 40, "upper": false, "lower": false, "numeric": false, "overrideSpecial": "#"}),
			func(r rune) bool { return r == '#' }, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := randomPassword(tt.inputs)
			if err != nil {
				t.Fatal(err)
			}
			v := out["result"]
			if !v.IsSecret() {
				t.Fatal("result is not secret")
			}
			s := v.SecretValue().Element.StringValue()
			if len(s) != tt.length || strings.IndexFunc(s, func(r rune) bool { return !tt.ok(r) }) >= 0 {
				t.Errorf("result %q", s)
			}
		})
	}
	a, _ := randomPassword(tests[0].inputs)
	b, _ := randomPassword(tests[0].inputs)
	if a["result"].DeepEquals(b["result"]) {
		t.Error("two passwords are equal")
	}
}

func TestRandomBytes(t *testing.T) {
	out, err := randomBytes(resource.NewPropertyMapFromMap(map[string]any{"length": 32}))
	if err != nil {
		t.Fatal(err)
	}
	b64, hx := out["base64"], out["hex"]
	if !b64.IsSecret() || !hx.IsSecret() {
		t.Fatal("the bytes are not secret")
	}
	raw, err := base64.StdEncoding.DecodeString(b64.SecretValue().Element.StringValue())
	if err != nil || len(raw) != 32 || hex.EncodeToString(raw) != hx.SecretValue().Element.StringValue() {
		t.Errorf("base64 %v (%v), hex %v: not the same 32 bytes", b64, err, hx)
	}
	if _, err := randomBytes(resource.PropertyMap{}); err == nil {
		t.Error("no length is accepted")
	}
}

func TestDiffReplacesRandomResources(t *testing.T) {
	s := &server{pkg: "random"}
	in := func(length int) *pulumirpc.DiffRequest {
		old, _ := marshal(resource.NewPropertyMapFromMap(map[string]any{"length": 32}))
		news, _ := marshal(resource.NewPropertyMapFromMap(map[string]any{"length": length}))
		return &pulumirpc.DiffRequest{Urn: passwordURN, OldInputs: old, News: news}
	}
	same, err := s.Diff(context.Background(), in(32))
	if err != nil || same.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("same inputs: %v, %v", same, err)
	}
	longer, err := s.Diff(context.Background(), in(48))
	if err != nil || longer.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(longer.GetReplaces()) != 1 {
		t.Errorf("another length: %v, %v", longer, err)
	}
}

func TestUnmodelledTypesFail(t *testing.T) {
	s := &server{pkg: "openstack"}
	_, err := s.Check(context.Background(), &pulumirpc.CheckRequest{Urn: "urn:pulumi:uat::camps-infra::openstack:compute/instance:Instance::vm"})
	if err == nil || !strings.Contains(err.Error(), "no model of openstack:compute/instance:Instance") {
		t.Errorf("err = %v", err)
	}
	_, err = s.Invoke(context.Background(), &pulumirpc.InvokeRequest{Tok: "openstack:images/getImage:getImage"})
	if err == nil || !strings.Contains(err.Error(), "no model of the function") {
		t.Errorf("err = %v", err)
	}
}
