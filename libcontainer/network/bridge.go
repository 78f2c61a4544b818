package network

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ensureBridge returns v's bridge, creating it when absent. A bridge berth
// made (now or for an earlier container) gets v's gateways as its own
// addresses, so that the container reaches its gateway; a bridge someone
// else made is used as it is, since its gateway may be a router beyond it.
func ensureBridge(host *nsHandle, v *Veth) (netlink.Link, error) {
	br, err := host.LinkByName(v.Bridge)
	managed := false
	if notFound(err) {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU, attrs.Alias = v.Bridge, v.MTU, bridgeAlias
		err = host.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
		if err != nil && !errors.Is(err, unix.EEXIST) { // EEXIST: a concurrent create made it
			return nil, fmt.Errorf("network: create bridge %s: %w", v.Bridge, err)
		}
		managed = true
		br, err = host.LinkByName(v.Bridge)
	}
	if err != nil {
		return nil, fmt.Errorf("network: bridge %s: %w", v.Bridge, err)
	}
	if br.Type() != "bridge" {
		return nil, badAnnotation(KeyBridge, v.Bridge, "exists and is a %s device, not a bridge", br.Type())
	}
	if managed && br.Attrs().Alias != bridgeAlias {
		// The kernel ignores an alias given at creation.
		if err := host.LinkSetAlias(br, bridgeAlias); err != nil {
			return nil, fmt.Errorf("network: bridge %s: set alias: %w", v.Bridge, err)
		}
	}
	if managed || br.Attrs().Alias == bridgeAlias {
		if err := addGateways(host, br, v); err != nil {
			return nil, err
		}
	}
	if err := host.LinkSetUp(br); err != nil {
		return nil, fmt.Errorf("network: bring bridge %s up: %w", v.Bridge, err)
	}
	return br, nil
}

// addGateways gives the bridge v's gateway addresses (with the subnet's
// prefix) that it does not have yet. A gateway some other host interface
// holds is refused: the bridge taking it too would make it ambiguous.
func addGateways(host *nsHandle, br netlink.Link, v *Veth) error {
	all, err := host.addrs(nil)
	if err != nil {
		return fmt.Errorf("network: list host addresses: %w", err)
	}
	for _, gw := range []struct {
		key    string
		prefix netip.Prefix
	}{
		{KeyGateway, netip.PrefixFrom(v.Gateway, v.Addr.Bits())},
		{KeyGateway6, netip.PrefixFrom(v.Gateway6, v.Addr6.Bits())},
	} {
		if !gw.prefix.Addr().IsValid() {
			continue
		}
		if idx, ok := addrIndex(all, gw.prefix.Addr()); ok {
			if idx == br.Attrs().Index {
				continue
			}
			other := fmt.Sprint(idx)
			if l, err := host.LinkByIndex(idx); err == nil {
				other = l.Attrs().Name
			}
			return badAnnotation(gw.key, gw.prefix.Addr().String(), "already assigned to host interface %q, not to bridge %q", other, v.Bridge)
		}
		addr, err := netlink.ParseAddr(gw.prefix.String())
		if err != nil {
			return err
		}
		if gw.prefix.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD // usable at once, not after DAD
		}
		if err := host.AddrAdd(br, addr); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("network: bridge %s: add gateway %s: %w", v.Bridge, gw.prefix, err)
		}
	}
	return nil
}

// addrIndex returns the index of the link holding ip, if one does.
func addrIndex(addrs []netlink.Addr, ip netip.Addr) (int, bool) {
	for _, a := range addrs {
		if got, ok := netip.AddrFromSlice(a.IP); ok && got.Unmap() == ip {
			return a.LinkIndex, true
		}
	}
	return 0, false
}
