package rootfs

import (
	"fmt"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// rootPropagation returns the flags linux.rootfsPropagation asks for.
// The default, rslave, keeps host mounts flowing in while nothing the
// container mounts can flow back out to the host.
func rootPropagation(s string) (uintptr, error) {
	if s == "" {
		return unix.MS_SLAVE | unix.MS_REC, nil
	}
	if f, ok := propagationOptions[s]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("linux.rootfsPropagation %q: unknown propagation", s)
}

// propagationName spells propagation flags for messages.
func propagationName(f uintptr) string {
	for name, v := range propagationOptions {
		if v == f {
			return name
		}
	}
	return fmt.Sprintf("%#x", f)
}

// setHostRootPropagation applies the rootfs propagation to every mount of
// the new namespace, which starts as a copy of the host's with the same
// peer groups: until this is done, a mount made here may appear on the
// host.
//
// An unbindable / would make the bind of the rootfs on itself fail, so
// unbindable starts out as private and becomes unbindable in Finish.
func setHostRootPropagation(flags uintptr) error {
	if flags&unix.MS_UNBINDABLE != 0 {
		flags = flags&^unix.MS_UNBINDABLE | unix.MS_PRIVATE
	}
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("set the propagation of / to %s: %w", propagationName(flags), err)
	}
	return nil
}

// mayLeaveShared reports whether a mount of the new namespace may still be
// shared after setHostRootPropagation(flags). A recursive slave, private or
// unbindable change leaves none, and then makeParentPrivate has nothing to
// do: skipping it saves reading the mount table (~0.5-1 ms of a container's
// start on the development VM).
func mayLeaveShared(flags uintptr) bool {
	return flags&unix.MS_REC == 0 || flags&unix.MS_SHARED != 0
}

// makeParentPrivate makes the mount holding the rootfs private if it is
// shared: pivot_root(2) and MS_MOVE refuse a new root whose parent mount is
// shared (as it stays with rootfsPropagation "shared" or "rshared").
func makeParentPrivate(root string) error {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(root))
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	var parent *mountinfo.Info
	for _, m := range mounts {
		if parent == nil || len(m.Mountpoint) > len(parent.Mountpoint) {
			parent = m
		}
	}
	if parent == nil || !strings.Contains(parent.Optional, "shared:") {
		return nil
	}
	if err := unix.Mount("", parent.Mountpoint, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the rootfs parent mount %q private: %w", parent.Mountpoint, err)
	}
	return nil
}

// finalPropagation applies, inside the new root, the propagation the spec
// asked for when it is not a slave kind (slave was already inherited from
// the host side in Prepare).
func finalPropagation(s string) error {
	flags, err := rootPropagation(s)
	if err != nil {
		return err
	}
	if flags&(unix.MS_SHARED|unix.MS_PRIVATE|unix.MS_UNBINDABLE) == 0 {
		return nil
	}
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("set the propagation of / to %s: %w", s, err)
	}
	return nil
}
