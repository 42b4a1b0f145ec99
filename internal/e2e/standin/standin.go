// Package standin is a resource provider plugin that stands in, in the
// end-to-end run only, for the providers whose plugins cannot be built
// here (random, openstack, cloudflare: only their Go SDKs are served). It
// speaks the engine's real gRPC protocol and keeps real state, so the
// engine, the program's dependency graph and everything downstream of
// these resources (the Secrets and custom resources that consume a
// password, an S3 credential or the ingress address) are exercised for
// real; what OpenStack or Cloudflare would do is not.
//
// It models only the resources and invokes the program uses, each with
// the outputs the program reads; anything else fails loudly, so a new
// resource type needs a model here before the end-to-end run passes.
package standin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync/atomic"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Packages are the providers this plugin stands in for.
var Packages = []string{"random", "openstack", "cloudflare"}

// model says what a resource type computes on create.
type model struct {
	// outputs computes the outputs that are not inputs.
	outputs func(inputs resource.PropertyMap) (resource.PropertyMap, error)
	// replaceOnChange: every change of an input replaces (random's
	// resources); otherwise changes update in place.
	replaceOnChange bool
}

var models = map[string]model{
	"random:index/randomPassword:RandomPassword": {outputs: randomPassword, replaceOnChange: true},
	"random:index/randomBytes:RandomBytes":       {outputs: randomBytes, replaceOnChange: true},
	"openstack:objectstorage/container:Container": {outputs: func(in resource.PropertyMap) (resource.PropertyMap, error) {
		return resource.PropertyMap{}, nil
	}},
	"openstack:identity/ec2CredentialV3:Ec2CredentialV3": {outputs: func(resource.PropertyMap) (resource.PropertyMap, error) {
		access, secret := hexString(16), hexString(16)
		return resource.PropertyMap{
			"access": resource.NewStringProperty(access),
			"secret": resource.MakeSecret(resource.NewStringProperty(secret)),
		}, nil
	}, replaceOnChange: true},
	"openstack:networking/floatingIp:FloatingIp": {outputs: func(resource.PropertyMap) (resource.PropertyMap, error) {
		// TEST-NET-3 (RFC 5737): an address that routes nowhere.
		n := floatingIPs.Add(1)
		return resource.PropertyMap{"address": resource.NewStringProperty(fmt.Sprintf("203.0.113.%d", n%250+1))}, nil
	}, replaceOnChange: true},
	"cloudflare:index/record:Record": {outputs: func(in resource.PropertyMap) (resource.PropertyMap, error) {
		return resource.PropertyMap{"hostname": in["name"]}, nil
	}},
	"cloudflare:index/zoneSettingsOverride:ZoneSettingsOverride": {outputs: func(resource.PropertyMap) (resource.PropertyMap, error) {
		return resource.PropertyMap{}, nil
	}},
}

var floatingIPs atomic.Int64

// invokes answer the functions the program calls.
var invokes = map[string]func(args resource.PropertyMap) (resource.PropertyMap, error){
	"cloudflare:index/getZone:getZone": func(args resource.PropertyMap) (resource.PropertyMap, error) {
		name := args["name"]
		if !name.IsString() || name.StringValue() == "" {
			return nil, fmt.Errorf("getZone: the stand-in finds zones by name only")
		}
		sum := sha256.Sum256([]byte(name.StringValue()))
		return resource.PropertyMap{
			"id": resource.NewStringProperty(hex.EncodeToString(sum[:16])), "name": name,
			"status": resource.NewStringProperty("active"),
		}, nil
	},
}

// Main serves the stand-in for pkg as a plugin: the engine starts it and
// reads the port it listens on from its first line of output.
func Main(pkg string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	pulumirpc.RegisterResourceProviderServer(srv, &server{pkg: pkg})
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return srv.Serve(l)
}

type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	pkg string
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, opts)
}
func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "0.0.0-e2e-standin"}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":"0.0.0"}`, s.pkg)}, nil
}

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return s.diff(req, false)
}

func (s *server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: false}, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if _, err := s.model(req.GetUrn()); err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) model(urn string) (model, error) {
	typ := string(resource.URN(urn).Type())
	m, ok := models[typ]
	if !ok {
		return model{}, fmt.Errorf("the e2e stand-in for %s has no model of %s: add one to internal/e2e/standin", s.pkg, typ)
	}
	return m, nil
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	m, err := s.model(req.GetUrn())
	if err != nil {
		return nil, err
	}
	return s.diff(req, m.replaceOnChange)
}

// diff compares the old inputs with the new ones.
func (s *server) diff(req *pulumirpc.DiffRequest, replace bool) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if req.GetOldInputs() == nil {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var changed []string
	for k := range union(olds, news) {
		if !olds[k].DeepEquals(news[k]) {
			changed = append(changed, string(k))
		}
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	if len(changed) > 0 {
		resp.Changes, resp.Diffs = pulumirpc.DiffResponse_DIFF_SOME, changed
		if replace {
			resp.Replaces = changed
		}
	}
	return resp, nil
}

func union(a, b resource.PropertyMap) map[resource.PropertyKey]bool {
	out := map[resource.PropertyKey]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func (s *server) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	m, err := s.model(req.GetUrn())
	if err != nil {
		return nil, err
	}
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	computed, err := m.outputs(in)
	if err != nil {
		return nil, err
	}
	out := in.Copy()
	for k, v := range computed {
		out[k] = v
	}
	props, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: "e2e-" + hexString(8), Properties: props}, nil
}

// Read answers the recorded state: nothing changes behind the engine's back.
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Update keeps the computed outputs and takes the new inputs.
func (s *server) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	out := olds.Copy()
	for k, v := range news {
		out[k] = v
	}
	props, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (s *server) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (s *server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	f, ok := invokes[req.GetTok()]
	if !ok {
		return nil, fmt.Errorf("the e2e stand-in for %s has no model of the function %s: add one to internal/e2e/standin", s.pkg, req.GetTok())
	}
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	ret, err := f(args)
	if err != nil {
		return nil, err
	}
	out, err := marshal(ret)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: out}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func hexString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomPassword makes random's RandomPassword result: length characters
// from the classes the inputs allow (upper, lower, numeric default on;
// special on unless false, from overrideSpecial when set), at least the
// min* of each.
func randomPassword(in resource.PropertyMap) (resource.PropertyMap, error) {
	length := int(number(in, "length", 0))
	if length < 1 {
		return nil, fmt.Errorf("randomPassword: length %d", length)
	}
	special := "!@#$%&*()-_=+[]{}<>:?"
	if v := in["overrideSpecial"]; v.IsString() {
		special = v.StringValue()
	}
	classes := []struct {
		key, chars, min string
	}{
		{"upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "minUpper"},
		{"lower", "abcdefghijklmnopqrstuvwxyz", "minLower"},
		{"numeric", "0123456789", "minNumeric"},
		{"special", special, "minSpecial"},
	}
	var all strings.Builder
	var result []byte
	for _, c := range classes {
		if v := in[resource.PropertyKey(c.key)]; v.IsBool() && !v.BoolValue() {
			continue
		}
		all.WriteString(c.chars)
		for range int(number(in, c.min, 0)) {
			result = append(result, pick(c.chars))
		}
	}
	for len(result) < length {
		result = append(result, pick(all.String()))
	}
	// Shuffle, so the minimums are not always in front.
	for i := len(result) - 1; i > 0; i-- {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		result[i], result[j.Int64()] = result[j.Int64()], result[i]
	}
	return resource.PropertyMap{"result": resource.MakeSecret(resource.NewStringProperty(string(result[:length])))}, nil
}

// randomBytes makes random's RandomBytes result: length random bytes,
// as standard base64 and as hex, both secret.
func randomBytes(in resource.PropertyMap) (resource.PropertyMap, error) {
	length := int(number(in, "length", 0))
	if length < 1 {
		return nil, fmt.Errorf("randomBytes: length %d", length)
	}
	b := make([]byte, length)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return resource.PropertyMap{
		"base64": resource.MakeSecret(resource.NewStringProperty(base64.StdEncoding.EncodeToString(b))),
		"hex":    resource.MakeSecret(resource.NewStringProperty(hex.EncodeToString(b))),
	}, nil
}

func number(m resource.PropertyMap, key string, def float64) float64 {
	if v := m[resource.PropertyKey(key)]; v.IsNumber() {
		return v.NumberValue()
	}
	return def
}

func pick(chars string) byte {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
	return chars[n.Int64()]
}
