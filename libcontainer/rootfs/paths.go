package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// absent reports whether a lookup error means the path is not there, in
// which case masking or protecting it has nothing to do.
func absent(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
}

// maskPaths hides each path: files get /dev/null bound over them,
// directories an empty read-only tmpfs.
func (t *tree) maskPaths(paths []string) error {
	var null *os.File
	defer func() {
		if null != nil {
			null.Close()
		}
	}()
	for i, p := range paths {
		err := t.maskPath(p, &null)
		if err != nil {
			return fmt.Errorf("maskedPaths[%d] %q: %w", i, p, err)
		}
	}
	return nil
}

func (t *tree) maskPath(path string, null **os.File) error {
	h, err := t.openPresent(path)
	if h == nil || err != nil {
		return err // absent paths are skipped, as the spec allows
	}
	defer h.Close()
	typ, err := fileType(h)
	if err != nil {
		return err
	}
	if typ == unix.S_IFDIR {
		if err := unix.Mount("tmpfs", procFd(h), "tmpfs", unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("mount tmpfs: %w", err)
		}
		return nil
	}
	if *null == nil {
		if *null, err = t.openNull(); err != nil {
			return err
		}
	}
	if err := unix.Mount(procFd(*null), procFd(h), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind /dev/null: %w", err)
	}
	return nil
}

// openNull opens the container's /dev/null and checks it is the null
// device: binding anything else over a masked path would expose it
// instead of hiding it (CVE-2025-31133).
func (t *tree) openNull() (*os.File, error) {
	h, err := t.open("/dev/null")
	if err != nil {
		return nil, fmt.Errorf("open /dev/null: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(h.Fd()), &st); err != nil {
		h.Close()
		return nil, fmt.Errorf("stat /dev/null: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		h.Close()
		return nil, fmt.Errorf("/dev/null in the container is not the null device")
	}
	return h, nil
}

// readonlyPaths makes each path a read-only bind of itself.
func (t *tree) readonlyPaths(paths []string) error {
	for i, p := range paths {
		if err := t.readonlyPath(p); err != nil {
			return fmt.Errorf("readonlyPaths[%d] %q: %w", i, p, err)
		}
	}
	return nil
}

func (t *tree) readonlyPath(path string) error {
	h, err := t.openPresent(path)
	if h == nil || err != nil {
		return err // absent paths are skipped, as the spec allows
	}
	defer h.Close()
	if err := unix.Mount(procFd(h), procFd(h), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind on itself: %w", err)
	}
	mnt, err := t.reopenMount(h)
	if err != nil {
		return err
	}
	defer mnt.Close()
	return bindRemount(mnt, &Options{Flags: unix.MS_RDONLY})
}

// openPresent opens path in the root for masking or making read-only, which
// go through /proc/self/fd: nil without error when path does not exist.
func (t *tree) openPresent(path string) (*os.File, error) {
	h, err := t.open(path)
	if absent(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if err := t.needProcfs(); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}
