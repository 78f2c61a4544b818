package network

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestClaimAlias(t *testing.T) {
	for _, v := range []*Veth{
		{Bridge: "br0", Addr: netip.MustParsePrefix("10.0.0.2/24")},
		{Bridge: "br0", Addr6: netip.MustParsePrefix("fd00::2/64")},
		{Bridge: "berth0", Addr: netip.MustParsePrefix("10.0.0.2/24"), Addr6: netip.MustParsePrefix("fd00::2/64")},
	} {
		alias := claimAlias(v)
		bridge, addrs, ok := parseClaim(alias)
		var want []netip.Addr
		for _, p := range []netip.Prefix{v.Addr, v.Addr6} {
			if p.IsValid() {
				want = append(want, p.Addr())
			}
		}
		if !ok || bridge != v.Bridge || !reflect.DeepEqual(addrs, want) {
			t.Errorf("parseClaim(%q) = %q %v %v, want %q %v", alias, bridge, addrs, ok, v.Bridge, want)
		}
	}
	for _, alias := range []string{"", "berth-net", "berth-net-bridge", "someone else's alias"} {
		if _, _, ok := parseClaim(alias); ok {
			t.Errorf("parseClaim(%q) took a foreign alias for a claim", alias)
		}
	}
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.2/24":   "10.0.0.255",
		"10.0.0.2/20":   "10.0.15.255",
		"10.1.2.3/8":    "10.255.255.255",
		"10.0.0.2/30":   "10.0.0.3",
		"fd00::2/120":   "fd00::ff",
		"192.168.1.1/1": "255.255.255.255",
	} {
		if got := lastAddr(netip.MustParsePrefix(in)).String(); got != want {
			t.Errorf("lastAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
