package rootfs

import (
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// pivotRoot makes root the process's "/" with pivot_root(".", "."), which
// stacks the old root on top of the new one instead of needing a directory
// to put it in, then detaches the old root so no host path stays reachable.
func pivotRoot(root string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return wire.Failed(wire.StepRfOpenOldRoot, err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return wire.Failed(wire.StepOpenNewRoot, err, root)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return wire.Failed(wire.StepRfChdirNewRoot, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return wire.Failed(wire.StepRfPivotRoot, err)
	}
	// The old root now sits on top of the new one; step into it so that
	// "." names it and not the new root below.
	if err := unix.Fchdir(oldRoot); err != nil {
		return wire.Failed(wire.StepRfChdirOldRoot, err)
	}
	// Unmounting a shared or master mount would propagate the unmount to
	// the host's peers; as a slave nothing leaves this namespace.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return wire.Failed(wire.StepRfMakeOldRootRslave, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return wire.Failed(wire.StepRfDetachOldRoot, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return wire.Failed(wire.StepRfChdirSlash, err)
	}
	return nil
}

// moveRoot is the NoPivot alternative for roots pivot_root cannot handle
// (e.g. the initramfs): move the root mount over "/" and chroot into it.
// The host's mounts stay underneath, reachable only by escaping the chroot,
// which is why pivot_root is the default. The host's procfs and sysfs
// mounts go first (hideHostPseudoFS).
func moveRoot(root string) error {
	if err := hideHostPseudoFS(root); err != nil {
		return err
	}
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("chdir to the new root %q: %w", root, err)
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move the new root to /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return wire.Failed(wire.StepRfChdirSlash, err)
	}
	return nil
}

// hideHostPseudoFS removes from this mount namespace every whole procfs and
// sysfs mount outside root, as runc does before its MS_MOVE. The kernel lets
// a process in a user namespace mount a fresh procfs or sysfs only if one is
// already fully visible in its mount namespace ("mount too revealing"). A
// root moved over "/" does not count as a chroot, so a process in the
// container may make a user namespace of its own; that namespace's copy of
// the mount table locks the container's masks, so its /proc does not pass
// the check, but the host's /proc and /sys, left below the moved root,
// would: the process could mount a procfs without masks, or a writable
// sysfs. pivot_root takes them away; here they are removed by hand.
//
// Each mount is made a slave first, so that the unmount does not propagate
// to the host. One inherited from the host into a user namespace's mount
// namespace is locked and cannot be unmounted (EINVAL, or EPERM); it is
// covered with an empty read-only tmpfs instead. That cover is not locked
// here, but any nested namespace's copy locks it, and a locked mount on a
// non-empty directory makes the mount under it fail the check. (In the
// container's own user namespace a process with CAP_SYS_ADMIN passes the
// check through the container's /proc anyway, with or without pivot_root.)
func hideHostPseudoFS(root string) error {
	root = filepath.Clean(root)
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		inRoot := m.Mountpoint == root || strings.HasPrefix(m.Mountpoint, root+"/")
		return m.Root != "/" || (m.FSType != "proc" && m.FSType != "sysfs") || inRoot, false
	})
	if err != nil {
		return fmt.Errorf("no pivot_root: read the mount table: %w", err)
	}
	for _, m := range mounts {
		p := m.Mountpoint
		if err := unix.Mount("", p, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // under a mount detached before it
			}
			if errors.Is(err, unix.EACCES) {
				// In a user namespace the init is an unprivileged
				// uid on the host and may not reach every mount point
				// (one in a root-only directory). Left in place, the
				// mount would still count for the kernel's check, so
				// this is an error, as it is in runc.
				return fmt.Errorf("no pivot_root: cannot reach the host's %s at %s to detach it (use pivot_root): %w", m.FSType, p, err)
			}
			return fmt.Errorf("no pivot_root: make the host's %s at %s a slave: %w", m.FSType, p, err)
		}
		err := unix.Unmount(p, unix.MNT_DETACH)
		if err == nil {
			continue
		}
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("no pivot_root: detach the host's %s at %s: %w", m.FSType, p, err)
		}
		const flags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
		if err := unix.Mount("tmpfs", p, "tmpfs", flags, "size=4k,mode=0"); err != nil {
			return fmt.Errorf("no pivot_root: cover the host's %s at %s: %w", m.FSType, p, err)
		}
	}
	return nil
}
