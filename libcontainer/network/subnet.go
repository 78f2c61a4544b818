package network

import (
	"net/netip"
)

// familyName is how messages name an address family.
func familyName(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}

// parseFamily reads one family's address and gateway annotations. The
// gateway defaults to the first address of the subnet, as most bridge
// setups (podman, docker) use.
func parseFamily(ann map[string]string, addrKey, gwKey string, v6 bool) (netip.Prefix, netip.Addr, error) {
	raw, ok := ann[addrKey]
	if !ok {
		if gw, ok := ann[gwKey]; ok {
			return netip.Prefix{}, netip.Addr{}, badAnnotation(gwKey, gw, "needs %s (the container's address in the gateway's subnet)", addrKey)
		}
		return netip.Prefix{}, netip.Addr{}, nil
	}
	addr, err := parseAddress(addrKey, raw, v6)
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, err
	}
	gwRaw, ok := ann[gwKey]
	if !ok {
		gw := addr.Masked().Addr().Next()
		if gw == addr.Addr() {
			return netip.Prefix{}, netip.Addr{}, badAnnotation(addrKey, raw,
				"is the subnet's first address, which is the default gateway (pick another address or set %s)", gwKey)
		}
		return addr, gw, nil
	}
	gw, err := parseGateway(gwKey, gwRaw, addr, v6)
	return addr, gw, err
}

// parseAddress parses "IP/prefix" and checks it can be a host's address
// with room for a gateway in its subnet.
func parseAddress(key, raw string, v6 bool) (netip.Prefix, error) {
	example := map[bool]string{false: "10.88.0.2/24", true: "fd00:88::2/64"}[v6]
	p, err := netip.ParsePrefix(raw)
	if err != nil {
		return p, badAnnotation(key, raw, "not an %s address with a prefix length (want e.g. %s)", familyName(v6), example)
	}
	if p.Addr().Is6() != v6 || p.Addr().Is4In6() {
		other := map[bool]string{false: KeyAddress, true: KeyAddress6}[!v6]
		return p, badAnnotation(key, raw, "is not an %s address (put it in %s)", familyName(v6), other)
	}
	if msg := hostProblem(p.Addr()); msg != "" {
		return p, badAnnotation(key, raw, "%s", msg)
	}
	maxBits := p.Addr().BitLen() - 2 // network, gateway, container at least
	if p.Bits() < 1 || p.Bits() > maxBits {
		return p, badAnnotation(key, raw, "prefix length /%d leaves no room for a gateway and a container (want /1 to /%d)", p.Bits(), maxBits)
	}
	if msg := edgeProblem(p, p.Addr()); msg != "" {
		return p, badAnnotation(key, raw, "%s", msg)
	}
	return p, nil
}

// parseGateway parses a gateway and checks it is a host of addr's subnet
// other than addr itself.
func parseGateway(key, raw string, addr netip.Prefix, v6 bool) (netip.Addr, error) {
	gw, err := netip.ParseAddr(raw)
	if err != nil || gw.Zone() != "" {
		return gw, badAnnotation(key, raw, "not an %s address", familyName(v6))
	}
	if gw.Is6() != v6 || gw.Is4In6() {
		return gw, badAnnotation(key, raw, "is not an %s address", familyName(v6))
	}
	subnet := addr.Masked()
	switch {
	case !subnet.Contains(gw):
		return gw, badAnnotation(key, raw, "outside the subnet %s of the container's address %s", subnet, addr)
	case gw == addr.Addr():
		return gw, badAnnotation(key, raw, "is the container's own address")
	}
	if msg := edgeProblem(addr, gw); msg != "" {
		return gw, badAnnotation(key, raw, "%s", msg)
	}
	return gw, nil
}

// hostProblem says why ip cannot be a container's unicast address.
func hostProblem(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified():
		return "the unspecified address cannot be assigned"
	case ip.IsLoopback():
		return "a loopback address cannot be assigned to eth0"
	case ip.IsMulticast():
		return "a multicast address cannot be assigned"
	case ip.IsLinkLocalUnicast():
		return "a link-local address is not routable through a gateway"
	}
	return ""
}

// edgeProblem refuses the subnet's network address (the IPv6 subnet-router
// anycast address) and the IPv4 broadcast address.
func edgeProblem(subnet netip.Prefix, ip netip.Addr) string {
	if ip == subnet.Masked().Addr() {
		return "is the subnet's network address"
	}
	if ip.Is4() && ip == lastAddr(subnet) {
		return "is the subnet's broadcast address"
	}
	return ""
}

// lastAddr is the highest address of p's subnet.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := range b {
		hostBits := max(0, min(8, (i+1)*8-p.Bits()))
		b[i] |= byte(0xff >> (8 - hostBits))
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
