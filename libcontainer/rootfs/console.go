package rootfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// MountConsole bind-mounts the container's pty slave (an open fd) on
// /dev/console, as runc does for a container with a terminal. It runs inside
// the new root. /dev/console is created in-root if absent and must be a
// plain file or device: an image that makes it a symlink (to
// /proc/sys/kernel/core_pattern, say) would otherwise have the pty mounted
// over the symlink's target (CVE-2025-52565). A /dev that cannot hold the
// file (read-only, no /proc to mount through) is left alone: the console
// then only exists as the process's stdio.
func MountConsole(slave int) error {
	t, err := openTree("/")
	if err != nil {
		return err
	}
	defer t.close()
	if t.needProcfs() != nil {
		return nil
	}
	dev, err := t.open("/dev")
	if err != nil {
		return nil
	}
	defer dev.Close()
	if typ, err := fileType(dev); err != nil || typ != unix.S_IFDIR {
		return nil
	}
	if err := checkDestination(t, dev); err != nil {
		return fmt.Errorf("/dev/console: %w", err)
	}
	dst, err := createFileAt(dev, "console", "/dev/console")
	if errors.Is(err, unix.EROFS) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("/dev/console: %w", err)
	}
	defer dst.Close()
	src := "/proc/self/fd/" + fmt.Sprint(slave)
	if err := unix.Mount(src, procFd(dst), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind the pty on /dev/console: %w", err)
	}
	return nil
}
