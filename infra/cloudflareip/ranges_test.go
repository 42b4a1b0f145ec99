package cloudflareip

import (
	"net/netip"
	"testing"
)

func TestRangesAreCanonicalPrefixes(t *testing.T) {
	seen := map[netip.Prefix]bool{}
	for _, r := range Ranges {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			t.Fatalf("%q: %v", r, err)
		}
		if p != p.Masked() || seen[p] {
			t.Errorf("%q has host bits or is listed twice", r)
		}
		seen[p] = true
	}
	if len(Ranges) < 20 {
		t.Errorf("%d ranges; Cloudflare publishes 15 IPv4 and 7 IPv6", len(Ranges))
	}
}
