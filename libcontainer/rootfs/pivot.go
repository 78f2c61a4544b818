package rootfs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// pivotRoot makes root the process's "/" with pivot_root(".", "."), which
// stacks the old root on top of the new one instead of needing a directory
// to put it in, then detaches the old root so no host path stays reachable.
func pivotRoot(root string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the old root: %w", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the new root %q: %w", root, err)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return fmt.Errorf("chdir to the new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	// The old root now sits on top of the new one; step into it so that
	// "." names it and not the new root below.
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir to the old root: %w", err)
	}
	// Unmounting a shared or master mount would propagate the unmount to
	// the host's peers; as a slave nothing leaves this namespace.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make the old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRoot is the NoPivot alternative for roots pivot_root cannot handle
// (e.g. the initramfs): move the root mount over "/" and chroot into it.
// The host's mounts stay underneath, reachable only by escaping the chroot,
// which is why pivot_root is the default.
func moveRoot(root string) error {
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
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}
