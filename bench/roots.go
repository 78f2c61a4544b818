package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// makeRoots makes the directory that holds every runtime's --root. It lives
// in /run, where every engine keeps its runtime roots (/run/containerd,
// /run/docker, /run/crun) because /run is a tmpfs on a usual host. Where it
// is not (on the development VM it is the ext4 root), a tmpfs is mounted on
// the directory, so that no runtime's state writes are timed against a
// disk: berth fsyncs state.json as DESIGN.md asks, which costs 0.5-1.3 ms
// on disk and nothing on a tmpfs. The note says which it was.
func makeRoots() (dir string, mounted bool, note string, err error) {
	dir, err = os.MkdirTemp("/run", "berth-bench-")
	if err != nil {
		return "", false, "", err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		return dir, false, "--root of each runtime in /run, a tmpfs", nil
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		os.Remove(dir)
		return "", false, "", fmt.Errorf("mount a tmpfs for the runtime roots on %s: %w", dir, err)
	}
	return dir, true, "--root of each runtime on a tmpfs the bench mounted in /run (/run itself is not a tmpfs on this host)", nil
}

// removeRoots undoes makeRoots.
func removeRoots(dir string, mounted bool) error {
	if mounted {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
	}
	return os.RemoveAll(dir)
}
