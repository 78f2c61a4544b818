package network

import (
	"errors"
	"fmt"
	"net"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// settableAddrFlags are the IFA_F_* flags an address can be added with;
// the others (permanent, tentative...) are the kernel's to set.
const settableAddrFlags = unix.IFA_F_NODAD | unix.IFA_F_HOMEADDRESS | unix.IFA_F_MANAGETEMPADDR |
	unix.IFA_F_NOPREFIXROUTE | unix.IFA_F_MCAUTOJOIN

// readDevice finds host device name in the host namespace and records what
// it must get back: the permanent global addresses (the ones the runtime
// spec says a move keeps) and whether it was up.
func readDevice(host *nsHandle, name string, d specs.LinuxNetDevice) (Device, error) {
	link, err := host.LinkByName(name)
	if notFound(err) {
		return Device{}, badDevice(name, "no such network device in berth's network namespace")
	}
	if err != nil {
		return Device{}, badDevice(name, "%v", err)
	}
	addrs, err := host.addrs(link)
	if err != nil {
		return Device{}, badDevice(name, "list addresses: %v", err)
	}
	dev := Device{HostName: name, Name: TargetName(name, d), Up: link.Attrs().Flags&net.FlagUp != 0}
	for _, a := range addrs {
		if a.Scope == unix.RT_SCOPE_UNIVERSE && a.Flags&unix.IFA_F_PERMANENT != 0 {
			dev.Addrs = append(dev.Addrs, Address{CIDR: a.IPNet.String(), Flags: a.Flags & settableAddrFlags})
		}
	}
	return dev, nil
}

// moveIn moves dev into the container's namespace, names it, gives it its
// addresses back and brings it up. dev.Index is set as soon as it moved.
func moveIn(host, ctr *nsHandle, dev *Device) error {
	link, err := host.LinkByName(dev.HostName)
	if err != nil {
		return badDevice(dev.HostName, "%v", err)
	}
	if err := host.LinkSetNsFd(link, ctr.fd()); err != nil {
		return badDevice(dev.HostName, "cannot move it into the container: %s", moveError(err))
	}
	in, err := ctr.LinkByName(dev.HostName)
	if err != nil {
		return badDevice(dev.HostName, "moved, then lost: %v", err)
	}
	dev.Index = in.Attrs().Index
	if dev.Name != dev.HostName {
		if err := ctr.LinkSetName(in, dev.Name); err != nil {
			if errors.Is(err, unix.EEXIST) {
				return badDeviceName(dev.HostName, dev.Name, "a device with that name already exists in the container's network namespace")
			}
			return badDeviceName(dev.HostName, dev.Name, "rename: %v", err)
		}
		if in, err = ctr.LinkByIndex(dev.Index); err != nil {
			return badDevice(dev.HostName, "renamed, then lost: %v", err)
		}
		dev.Name = in.Attrs().Name // what the kernel made of a %d template
	}
	if err := addAddrs(ctr, in, dev.Addrs); err != nil {
		return badDevice(dev.HostName, "%v", err)
	}
	if err := ctr.LinkSetUp(in); err != nil {
		return badDevice(dev.HostName, "bring it up: %v", err)
	}
	return nil
}

// moveError explains why the kernel refused a move.
func moveError(err error) string {
	switch {
	case errors.Is(err, unix.EEXIST):
		return "a device with its name already exists there"
	case errors.Is(err, unix.EINVAL):
		return "the kernel keeps this kind of device in its namespace (loopback, bridges and other namespace-local devices cannot move)"
	}
	return err.Error()
}

// addAddrs adds addresses to link; ones already there are fine.
func addAddrs(h *nsHandle, link netlink.Link, addrs []Address) error {
	for _, a := range addrs {
		addr, err := netlink.ParseAddr(a.CIDR)
		if err != nil {
			return fmt.Errorf("address %s: %w", a.CIDR, err)
		}
		addr.Flags = a.Flags
		if err := h.AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add address %s: %w", a.CIDR, err)
		}
	}
	return nil
}

// moveOut gives dev back to the host namespace under its host name, with
// the addresses and up state it had there.
func moveOut(host, ctr *nsHandle, dev *Device) error {
	link := findMoved(ctr, dev)
	if link == nil {
		if _, err := host.LinkByName(dev.HostName); err == nil {
			return nil // never moved: a create failed or was killed first
		}
		return fmt.Errorf("device %s: no longer in the container's network namespace", dev.HostName)
	}
	if link.Attrs().Name != dev.HostName {
		// Named as on the host before it leaves, so that it never shows
		// up there under the container's name; a clash inside is retried
		// on the host side below.
		if err := ctr.LinkSetName(link, dev.HostName); err == nil {
			link.Attrs().Name = dev.HostName
		}
	}
	if err := ctr.LinkSetNsFd(link, host.fd()); err != nil {
		return fmt.Errorf("device %s: move back to the host: %s", dev.HostName, moveError(err))
	}
	out, err := host.LinkByName(link.Attrs().Name)
	if err != nil {
		return fmt.Errorf("device %s: moved back, then lost: %w", dev.HostName, err)
	}
	if out.Attrs().Name != dev.HostName {
		if err := host.LinkSetName(out, dev.HostName); err != nil {
			return fmt.Errorf("device %s: back on the host as %s: rename: %w", dev.HostName, out.Attrs().Name, err)
		}
	}
	if err := addAddrs(host, out, dev.Addrs); err != nil {
		return fmt.Errorf("device %s: %w", dev.HostName, err)
	}
	if dev.Up {
		if err := host.LinkSetUp(out); err != nil {
			return fmt.Errorf("device %s: bring it up: %w", dev.HostName, err)
		}
	}
	return nil
}

// findMoved finds dev in the container: by the index it got there (the
// container may have renamed it), else by its names, for a create killed
// before it could record the index.
func findMoved(ctr *nsHandle, dev *Device) netlink.Link {
	if dev.Index > 0 {
		if l, err := ctr.LinkByIndex(dev.Index); err == nil {
			return l
		}
	}
	for _, name := range []string{dev.Name, dev.HostName} {
		if IsTemplate(name) {
			continue
		}
		if l, err := ctr.LinkByName(name); err == nil {
			return l
		}
	}
	return nil
}
