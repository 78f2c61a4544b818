package rootfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// A container with a user namespace builds its root as the namespace's
// root, which the host's permissions see as an unprivileged uid: a bind
// source below a directory only the host's root may enter (a volume under
// /var/lib/..., mode 0700) cannot even be looked up from there. So, as
// runc does, such sources are opened from the host side: the nsenter stage
// still holds the host's root before it enters the user namespace, and
// clones each source into a detached mount (open_tree OPEN_TREE_CLONE) that
// the builder then attaches with move_mount. Go decides which mounts
// (HostSources), the C stage opens them in that order, and the builders
// find them by their slot.

// HostSource is a bind source to open from the host side.
type HostSource struct {
	Index     int    // in Plan.Mounts
	Path      string // absolute host path
	Recursive bool   // rbind: clone the submounts too
}

// HostSources lists, in slot order, the bind sources of p to open from the
// host side: none without a user namespace or for a rootless caller
// (which could not clone them), and none inside the rootfs
// (those are the image's, resolved in the root).
func HostSources(p *Plan, bundle string) []HostSource {
	if !p.InUserNS || p.Rootless {
		return nil
	}
	var out []HostSource
	for i := range p.Mounts {
		m := &p.Mounts[i]
		o, err := ParseOptions(m.Options)
		if err != nil || o.Flags&unix.MS_REMOUNT != 0 || (m.Type != "bind" && o.Flags&unix.MS_BIND == 0) || m.Source == "" {
			continue
		}
		src := bindSource(m.Source, bundle)
		if src == p.Root || strings.HasPrefix(src, p.Root+"/") {
			continue
		}
		out = append(out, HostSource{Index: i, Path: src, Recursive: o.Flags&unix.MS_REC != 0})
	}
	return out
}

// hostSourceSlot is mount i's slot in HostSources plus one, 0 for none:
// what a bind record of the C program carries.
func hostSourceSlot(srcs []HostSource, i int) uint32 {
	for k, s := range srcs {
		if s.Index == i {
			return uint32(k + 1)
		}
	}
	return 0
}
