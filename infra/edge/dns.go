package edge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DNSType is the type token of the DNS component.
const DNSType = "camps:edge:DNS"

// DNS is a stack's records in a Cloudflare zone, and, for the one stack
// that owns them, the zone's security settings and CAA records.
type DNS struct {
	pulumi.ResourceState

	// ZoneID is the Cloudflare zone's id.
	ZoneID pulumi.StringOutput `pulumi:"zoneId"`
}

// Record is one DNS record.
type Record struct {
	// Name is the full host name, e.g. www.camps.ch.
	Name string
	// Type is A, AAAA, CNAME, TXT, ...
	Type string
	// Content is the record's value, e.g. the ingress address.
	Content pulumi.StringInput
	// Proxied sends the traffic through Cloudflare (A, AAAA, CNAME only).
	Proxied bool
}

// Proxiable are the record types Cloudflare can proxy.
var Proxiable = map[string]bool{"A": true, "AAAA": true, "CNAME": true}

// CAAIssuer is the only certificate authority the CAA records allow.
const CAAIssuer = "letsencrypt.org"

// DNSArgs configure the records of a stack.
type DNSArgs struct {
	// Zone is the Cloudflare zone's name, e.g. camps.ch.
	Zone string
	// APIToken is Pulumi's Cloudflare token (secret); nil means the
	// provider reads CLOUDFLARE_API_TOKEN.
	APIToken pulumi.StringInput
	// Records are the stack's records.
	Records []Record
	// ZoneSettings applies the zone's security settings (SSL full strict,
	// always HTTPS, TLS 1.2 minimum, TLS 1.3, HSTS) and its CAA records.
	// Exactly one stack of the zone may set it.
	ZoneSettings bool
	// Owner names the stack in the records' comments.
	Owner string
}

func (a *DNSArgs) validate() error {
	if a == nil || a.Zone == "" {
		return errors.New("a zone name is required")
	}
	seen := map[string]bool{}
	for _, r := range a.Records {
		key := r.Type + " " + strings.ToLower(r.Name)
		switch {
		case r.Name != a.Zone && !strings.HasSuffix(r.Name, "."+a.Zone):
			return fmt.Errorf("record %s is outside zone %s", r.Name, a.Zone)
		case seen[key]:
			return fmt.Errorf("record %s is declared twice", key)
		case r.Proxied && !Proxiable[r.Type]:
			return fmt.Errorf("record %s: Cloudflare cannot proxy %s records", r.Name, r.Type)
		case r.Content == nil:
			return fmt.Errorf("record %s has no content", key)
		}
		seen[key] = true
	}
	return nil
}

// resourceName turns a host name into a resource name suffix, unique per
// type and name: dots become underscores, which host names never contain.
func resourceName(typ, host string) string {
	return strings.ToLower(typ) + "-" + strings.ReplaceAll(host, ".", "_")
}

// NewDNS looks the zone up by name with an explicit Cloudflare provider
// and creates the records; with ZoneSettings, also the zone's settings and
// the CAA records that allow only Let's Encrypt to issue.
func NewDNS(ctx *pulumi.Context, name string, args *DNSArgs, opts ...pulumi.ResourceOption) (*DNS, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("dns %q: %w", name, err)
	}
	c := &DNS{}
	if err := ctx.RegisterComponentResource(DNSType, name, c, opts...); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("dns %q: %w", name, err) }
	pargs := &cloudflare.ProviderArgs{}
	if args.APIToken != nil {
		pargs.ApiToken = pulumi.ToSecret(args.APIToken.ToStringOutput()).(pulumi.StringOutput)
	}
	provider, err := cloudflare.NewProvider(ctx, name, pargs, pulumi.Parent(c))
	if err != nil {
		return nil, wrap(fmt.Errorf("cloudflare provider: %w", err))
	}
	zone := cloudflare.LookupZoneOutput(ctx, cloudflare.LookupZoneOutputArgs{Name: pulumi.String(args.Zone)}, pulumi.Provider(provider))
	c.ZoneID = zone.Id()
	child := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(provider)}
	comment := pulumi.String("managed by camps-infra, stack " + args.Owner)

	for _, r := range args.Records {
		if _, err := cloudflare.NewRecord(ctx, name+"-"+resourceName(r.Type, r.Name), &cloudflare.RecordArgs{
			ZoneId:  c.ZoneID,
			Name:    pulumi.String(r.Name),
			Type:    pulumi.String(r.Type),
			Content: r.Content,
			Proxied: pulumi.Bool(r.Proxied),
			Ttl:     pulumi.Int(1), // automatic
			Comment: comment,
		}, child...); err != nil {
			return nil, wrap(fmt.Errorf("record %s: %w", r.Name, err))
		}
	}
	if args.ZoneSettings {
		for _, tag := range []string{"issue", "issuewild"} {
			if _, err := cloudflare.NewRecord(ctx, name+"-caa-"+tag, &cloudflare.RecordArgs{
				ZoneId:  c.ZoneID,
				Name:    pulumi.String(args.Zone),
				Type:    pulumi.String("CAA"),
				Data:    &cloudflare.RecordDataArgs{Flags: pulumi.String("0"), Tag: pulumi.String(tag), Value: pulumi.String(CAAIssuer)},
				Ttl:     pulumi.Int(1),
				Comment: comment,
			}, child...); err != nil {
				return nil, wrap(fmt.Errorf("CAA %s: %w", tag, err))
			}
		}
		if _, err := cloudflare.NewZoneSettingsOverride(ctx, name+"-zone-settings", &cloudflare.ZoneSettingsOverrideArgs{
			ZoneId: c.ZoneID,
			Settings: &cloudflare.ZoneSettingsOverrideSettingsArgs{
				Ssl:                    pulumi.String("strict"),
				AlwaysUseHttps:         pulumi.String("on"),
				MinTlsVersion:          pulumi.String("1.2"),
				Tls13:                  pulumi.String("on"),
				AutomaticHttpsRewrites: pulumi.String("on"),
				// HSTS for a year on every subdomain; no preload, which is
				// hard to undo.
				SecurityHeader: &cloudflare.ZoneSettingsOverrideSettingsSecurityHeaderArgs{
					Enabled:           pulumi.Bool(true),
					MaxAge:            pulumi.Int(31536000),
					IncludeSubdomains: pulumi.Bool(true),
					Nosniff:           pulumi.Bool(true),
					Preload:           pulumi.Bool(false),
				},
			},
		}, child...); err != nil {
			return nil, wrap(fmt.Errorf("zone settings: %w", err))
		}
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"zoneId": c.ZoneID})
}
