package network

import (
	"fmt"
	"net/netip"
	"strings"
)

// The host ends of berth's veths carry an alias naming their bridge and
// the container's addresses: the kernel keeps these claims for exactly as
// long as the veth lives, for every state root and with no file to leak,
// and a create reads them to refuse an address another container uses.
// Bridges berth made carry bridgeAlias.
const (
	vethAliasPrefix = "berth-net "
	bridgeAlias     = "berth-net-bridge"
)

// claimAlias is the alias of v's host veth: "berth-net <bridge> <ip>...".
func claimAlias(v *Veth) string {
	parts := []string{strings.TrimSpace(vethAliasPrefix), v.Bridge}
	for _, p := range []netip.Prefix{v.Addr, v.Addr6} {
		if p.IsValid() {
			parts = append(parts, p.Addr().String())
		}
	}
	return strings.Join(parts, " ")
}

// parseClaim reads an alias written by claimAlias; ok is false for any
// other alias.
func parseClaim(alias string) (bridge string, addrs []netip.Addr, ok bool) {
	rest, found := strings.CutPrefix(alias, vethAliasPrefix)
	if !found {
		return "", nil, false
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", nil, false
	}
	for _, f := range fields[1:] {
		if a, err := netip.ParseAddr(f); err == nil {
			addrs = append(addrs, a)
		}
	}
	return fields[0], addrs, true
}

// addrKeys pairs each address of v with the annotation that set it.
func addrKeys(v *Veth) map[netip.Addr]string {
	m := map[netip.Addr]string{}
	if v.Addr.IsValid() {
		m[v.Addr.Addr()] = KeyAddress
	}
	if v.Addr6.IsValid() {
		m[v.Addr6.Addr()] = KeyAddress6
	}
	return m
}

func prefixOf(v *Veth, key string) netip.Prefix {
	if key == KeyAddress6 {
		return v.Addr6
	}
	return v.Addr
}

// checkClaims refuses v's addresses when another container's veth on the
// same bridge claims one, or a host interface has one. self is the name of
// our own veth, once it exists.
func checkClaims(host *nsHandle, v *Veth, self string) error {
	mine := addrKeys(v)
	links, err := host.links()
	if err != nil {
		return fmt.Errorf("network: list host interfaces: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		a := l.Attrs()
		names[a.Index] = a.Name
		bridge, addrs, ok := parseClaim(a.Alias)
		if !ok || a.Name == self || bridge != v.Bridge {
			continue
		}
		for _, ip := range addrs {
			if key, clash := mine[ip]; clash {
				return badAnnotation(key, prefixOf(v, key).String(),
					"already used by another container on bridge %q (its host veth is %s)", v.Bridge, a.Name)
			}
		}
	}
	addrs, err := host.addrs(nil)
	if err != nil {
		return fmt.Errorf("network: list host addresses: %w", err)
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		if key, clash := mine[ip.Unmap()]; clash {
			return badAnnotation(key, prefixOf(v, key).String(), "already assigned to host interface %q", names[a.LinkIndex])
		}
	}
	return nil
}
