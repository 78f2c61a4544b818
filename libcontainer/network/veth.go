package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// setupVeth gives the container its eth0: a veth pair made with its peer
// already in the container (so the name eth0 never exists on the host),
// the host end a port of v's bridge, and inside the addresses and default
// routes. Addresses were checked free by Setup; they are checked again
// once our claim is visible, so that of two creates racing for one
// address at least the later one fails.
func setupVeth(host, ctr *nsHandle, v *Veth, hostName string) error {
	br, err := ensureBridge(host, v)
	if err != nil {
		return err
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.MTU = hostName, v.MTU
	pair := netlink.NewVeth(attrs)
	pair.PeerName = ContainerVethName
	pair.PeerNamespace = netlink.NsFd(ctr.fd())
	if err := host.LinkAdd(pair); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("network: host veth %s exists already (left by a container of the same id and root? delete it with berth delete --force)", hostName)
		}
		return fmt.Errorf("network: create veth %s: %w", hostName, err)
	}
	hv, err := host.LinkByName(hostName)
	if err != nil {
		return fmt.Errorf("network: veth %s: %w", hostName, err)
	}
	if err := host.LinkSetAlias(hv, claimAlias(v)); err != nil {
		return fmt.Errorf("network: veth %s: set alias: %w", hostName, err)
	}
	if err := checkClaims(host, v, hostName); err != nil {
		return err
	}
	if err := host.LinkSetMaster(hv, br); err != nil {
		return fmt.Errorf("network: put veth %s on bridge %s: %w", hostName, v.Bridge, err)
	}
	if err := host.LinkSetUp(hv); err != nil {
		return fmt.Errorf("network: bring veth %s up: %w", hostName, err)
	}
	return configureEth0(ctr, v)
}

// configureEth0 sets the container end's addresses, brings it up and adds
// the default routes through the gateways.
func configureEth0(ctr *nsHandle, v *Veth) error {
	eth0, err := ctr.LinkByName(ContainerVethName)
	if err != nil {
		return fmt.Errorf("network: container %s: %w", ContainerVethName, err)
	}
	for _, p := range []netip.Prefix{v.Addr, v.Addr6} {
		if !p.IsValid() {
			continue
		}
		addr, err := netlink.ParseAddr(p.String())
		if err != nil {
			return err
		}
		if p.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD // the claim check stands in for DAD
		}
		if err := ctr.AddrAdd(eth0, addr); err != nil {
			return fmt.Errorf("network: container %s: add address %s: %w", ContainerVethName, p, err)
		}
	}
	if err := ctr.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("network: container %s: bring up: %w", ContainerVethName, err)
	}
	for _, r := range []struct {
		gw  netip.Addr
		any string
	}{{v.Gateway, "0.0.0.0/0"}, {v.Gateway6, "::/0"}} {
		if !r.gw.IsValid() {
			continue
		}
		_, dst, _ := net.ParseCIDR(r.any)
		route := &netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: dst, Gw: r.gw.AsSlice()}
		if err := ctr.RouteAdd(route); err != nil {
			return fmt.Errorf("network: container default route via %s: %w", r.gw, err)
		}
	}
	return nil
}

// removeVeth deletes the host end of a container's veth (which takes the
// container end along), if it still exists: the kernel also destroys the
// pair with the container's namespace, but only some time after the last
// process has gone.
func removeVeth(host *nsHandle, name string) error {
	if !strings.HasPrefix(name, hostVethPrefix) || CheckName(name) != nil {
		return fmt.Errorf("host veth %q is not a name berth gives: left alone", name)
	}
	link, err := host.LinkByName(name)
	if notFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("veth %s: %w", name, err)
	}
	if link.Type() != "veth" {
		return fmt.Errorf("%s is a %s device, not berth's veth: left alone", name, link.Type())
	}
	if err := host.LinkDel(link); err != nil && !notFound(err) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete veth %s: %w", name, err)
	}
	return nil
}
