package edge

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"gitlab.com/camps-ch/infra/infra/openstackcloud"
	"gitlab.com/camps-ch/infra/internal/recorder"
)

func TestDNSArgsValidation(t *testing.T) {
	ip := pulumi.String("203.0.113.1")
	tests := []struct {
		name string
		args *DNSArgs
		want string
	}{
		{"no zone", &DNSArgs{}, "a zone name is required"},
		{"outside the zone", &DNSArgs{Zone: "camps.ch", Records: []Record{{Name: "camps.io", Type: "A", Content: ip}}}, "outside zone camps.ch"},
		{"look-alike suffix", &DNSArgs{Zone: "camps.ch", Records: []Record{{Name: "notcamps.ch", Type: "A", Content: ip}}}, "outside zone"},
		{"twice", &DNSArgs{Zone: "camps.ch", Records: []Record{{Name: "camps.ch", Type: "A", Content: ip}, {Name: "camps.ch", Type: "A", Content: ip}}}, "declared twice"},
		{"proxied TXT", &DNSArgs{Zone: "camps.ch", Records: []Record{{Name: "camps.ch", Type: "TXT", Content: pulumi.String("x"), Proxied: true}}}, "cannot proxy TXT"},
		{"no content", &DNSArgs{Zone: "camps.ch", Records: []Record{{Name: "camps.ch", Type: "A"}}}, "has no content"},
	}
	for _, tt := range tests {
		rec := recorder.New("p", "s", nil)
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			_, err := NewDNS(ctx, "dns", tt.args)
			return err
		}, pulumi.WithMocks("p", "s", rec))
		if err == nil || !strings.Contains(err.Error(), tt.want) || rec.Len() != 0 {
			t.Errorf("%s: err = %v (%d resources), want %q and none", tt.name, err, rec.Len(), tt.want)
		}
	}
}

func TestFloatingIPIsProtectedOnItsOwnProvider(t *testing.T) {
	rec := recorder.New("p", "s", nil)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewFloatingIP(ctx, "ip", &FloatingIPArgs{OpenStack: openstackcloud.Args{
			ApplicationCredentialID: "ac", ApplicationCredentialSecret: pulumi.String("s3cr3t"),
		}})
		return err
	}, pulumi.WithMocks("p", "s", rec))
	if err != nil {
		t.Fatal(err)
	}
	fip, _ := rec.Find("openstack:networking/floatingIp:FloatingIp", "ip")
	prov, _ := rec.Find("pulumi:providers:openstack", "ip")
	if !fip.Protect || fip.String("pool") != DefaultPool || fip.ProviderURN() != prov.URN {
		t.Errorf("floating ip = %+v", fip)
	}
	if !prov.IsSecret("applicationCredentialSecret") {
		t.Error("the application credential secret is in plain text")
	}
	err = (&FloatingIPArgs{OpenStack: openstackcloud.Args{ApplicationCredentialID: "ac"}}).validate()
	if err == nil || !strings.Contains(err.Error(), "needs its secret") {
		t.Errorf("err = %v", err)
	}
}
