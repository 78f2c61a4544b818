package network

import (
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// hostNSPath is the network namespace berth itself runs in.
const hostNSPath = "/proc/self/ns/net"

// nsHandle is a netlink handle working in one network namespace, with an
// open fd of that namespace: moving a device there needs the fd.
type nsHandle struct {
	*netlink.Handle
	ns netns.NsHandle
}

// openNS opens the network namespace at path (a /proc/<pid>/ns/net file or
// a bind mount of one).
func openNS(path string) (*nsHandle, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", path, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink in %s: %w", path, err)
	}
	return &nsHandle{Handle: h, ns: ns}, nil
}

func (h *nsHandle) fd() int { return int(h.ns) }

func (h *nsHandle) Close() {
	h.Handle.Close()
	h.ns.Close()
}

// notFound reports whether err says a link does not exist.
func notFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

// links lists every link; a dump that the kernel interrupted because the
// list changed meanwhile is retried.
func (h *nsHandle) links() ([]netlink.Link, error) {
	return retryDump(h.LinkList)
}

// addrs lists the addresses of link (every link when nil).
func (h *nsHandle) addrs(link netlink.Link) ([]netlink.Addr, error) {
	return retryDump(func() ([]netlink.Addr, error) { return h.AddrList(link, netlink.FAMILY_ALL) })
}

func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var err error
	for i := 0; i < 10; i++ {
		var out []T
		if out, err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
		time.Sleep(time.Millisecond)
	}
	return nil, err
}
