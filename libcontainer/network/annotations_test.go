package network

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseVeth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ann     map[string]string
		want    string // "" for no veth, else "bridge addr gw addr6 gw6 mtu"
		wantErr string
	}{
		{name: "none", ann: map[string]string{"org.example": "x"}},
		{name: "ipv4 defaults", ann: map[string]string{KeyAddress: "10.88.0.2/24"},
			want: "berth0 10.88.0.2/24 10.88.0.1 invalid Prefix invalid IP 0"},
		{name: "everything", ann: map[string]string{KeyAddress: "10.88.0.2/16", KeyGateway: "10.88.255.254",
			KeyAddress6: "fd00::2/64", KeyGateway6: "fd00::ff", KeyBridge: "br1", KeyMTU: "1400"},
			want: "br1 10.88.0.2/16 10.88.255.254 fd00::2/64 fd00::ff 1400"},
		{name: "ipv6 only", ann: map[string]string{KeyAddress6: "fd00:1::9/120"},
			want: "berth0 invalid Prefix invalid IP fd00:1::9/120 fd00:1::1 0"},
		{name: "not a cidr", ann: map[string]string{KeyAddress: "10.88.0.300/24"}, wantErr: `annotations["run.berth.network.address"] "10.88.0.300/24": not an IPv4 address`},
		{name: "no prefix", ann: map[string]string{KeyAddress: "10.88.0.2"}, wantErr: "prefix length"},
		{name: "v6 in address", ann: map[string]string{KeyAddress: "fd00::2/64"}, wantErr: "put it in run.berth.network.address6"},
		{name: "v4 in address6", ann: map[string]string{KeyAddress6: "10.0.0.2/8"}, wantErr: "put it in run.berth.network.address"},
		{name: "slash 31", ann: map[string]string{KeyAddress: "10.0.0.2/31"}, wantErr: "/31 leaves no room"},
		{name: "slash 0", ann: map[string]string{KeyAddress: "10.0.0.2/0"}, wantErr: "/0 leaves no room"},
		{name: "network address", ann: map[string]string{KeyAddress: "10.0.0.0/24"}, wantErr: "network address"},
		{name: "broadcast", ann: map[string]string{KeyAddress: "10.0.0.255/24"}, wantErr: "broadcast address"},
		{name: "v6 subnet-router anycast", ann: map[string]string{KeyAddress6: "fd00::/64"}, wantErr: "network address"},
		{name: "loopback", ann: map[string]string{KeyAddress: "127.0.0.2/8"}, wantErr: "loopback"},
		{name: "multicast", ann: map[string]string{KeyAddress: "224.0.0.5/24"}, wantErr: "multicast"},
		{name: "link-local v6", ann: map[string]string{KeyAddress6: "fe80::2/64"}, wantErr: "link-local"},
		{name: "default gateway taken", ann: map[string]string{KeyAddress: "10.0.0.1/24"}, wantErr: "is the subnet's first address"},
		{name: "gateway outside", ann: map[string]string{KeyAddress: "10.0.0.2/24", KeyGateway: "10.0.1.1"},
			wantErr: `annotations["run.berth.network.gateway"] "10.0.1.1": outside the subnet 10.0.0.0/24`},
		{name: "gateway is self", ann: map[string]string{KeyAddress: "10.0.0.2/24", KeyGateway: "10.0.0.2"}, wantErr: "own address"},
		{name: "gateway broadcast", ann: map[string]string{KeyAddress: "10.0.0.2/24", KeyGateway: "10.0.0.255"}, wantErr: "broadcast"},
		{name: "gateway wrong family", ann: map[string]string{KeyAddress: "10.0.0.2/24", KeyGateway: "fd00::1"}, wantErr: "not an IPv4 address"},
		{name: "gateway6 outside", ann: map[string]string{KeyAddress6: "fd00::2/64", KeyGateway6: "fd01::1"}, wantErr: "outside the subnet fd00::/64"},
		{name: "gateway alone", ann: map[string]string{KeyGateway: "10.0.0.1"}, wantErr: "needs run.berth.network.address"},
		{name: "bridge alone", ann: map[string]string{KeyBridge: "br0"}, wantErr: `annotations["run.berth.network.bridge"] "br0": needs`},
		{name: "bad bridge", ann: map[string]string{KeyAddress: "10.0.0.2/24", KeyBridge: "br/0"}, wantErr: "not a bridge name"},
		{name: "bridge template", ann: map[string]string{KeyAddress: "10.0.0.2/24", KeyBridge: "br%d"}, wantErr: "not a bridge name"},
		{name: "mtu not a number", ann: map[string]string{KeyAddress: "10.0.0.2/24", KeyMTU: "big"}, wantErr: "whole number"},
		{name: "mtu too small", ann: map[string]string{KeyAddress: "10.0.0.2/24", KeyMTU: "67"}, wantErr: "want 68 to 65535"},
		{name: "mtu too small for v6", ann: map[string]string{KeyAddress6: "fd00::2/64", KeyMTU: "1279"}, wantErr: "want 1280 to 65535"},
		{name: "unknown key", ann: map[string]string{KeyAddress: "10.0.0.2/24", AnnotationPrefix + "dns": "1.1.1.1"}, wantErr: `annotations["run.berth.network.dns"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseVeth(tc.ann)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if v != nil {
				got = fmt.Sprintf("%s %s %s %s %s %d", v.Bridge, v.Addr, v.Gateway, v.Addr6, v.Gateway6, v.MTU)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
