package network

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// pin bind-mounts the namespace file nsPath onto target (created here) so
// that the namespace lives on after its last process: moved devices stay
// in it until delete gives them back.
func pin(nsPath, target string) error {
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_RDONLY|unix.O_CLOEXEC, 0o400)
	if err != nil {
		return fmt.Errorf("pin network namespace: %w", err)
	}
	f.Close()
	if err := unix.Mount(nsPath, target, "", unix.MS_BIND, ""); err != nil {
		os.Remove(target)
		return fmt.Errorf("pin network namespace %s on %s: %w", nsPath, target, err)
	}
	return nil
}

// pinned reports whether target is a pinned namespace (a bind mount of an
// nsfs file, not the empty file a killed create may leave).
func pinned(target string) bool {
	var st unix.Statfs_t
	return unix.Statfs(target, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// unpin undoes pin; a target never made or already gone is fine.
func unpin(target string) error {
	err := unix.Unmount(target, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unpin %s: %w", target, err)
	}
	if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unpin %s: %w", target, err)
	}
	return nil
}
