package rootfs

import (
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// absent reports whether a lookup error means the path is not there, in
// which case masking or protecting it has nothing to do.
func absent(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
}

// maskPaths hides each path: files get /dev/null bound over them,
// directories an empty read-only tmpfs. As with runc, a path listed twice
// is masked once, and every directory gets the same tmpfs: the first is
// mounted, the others are binds of it, so masking many directories costs
// one filesystem, not one each.
func (t *tree) maskPaths(paths []string) error {
	var m masker
	defer m.close()
	for _, i := range uniqueMasks(paths) {
		if err := t.maskPath(paths[i], &m); err != nil {
			return fmt.Errorf("maskedPaths[%d] %q: %w", i, paths[i], err)
		}
	}
	return nil
}

// uniqueMasks returns the indices of paths without the repeats of a path
// (compared lexically, as runc does).
func uniqueMasks(paths []string) []int {
	seen := make(map[string]bool, len(paths))
	out := make([]int, 0, len(paths))
	for i, p := range paths {
		clean := filepath.Clean("/" + p)
		if !seen[clean] {
			seen[clean] = true
			out = append(out, i)
		}
	}
	return out
}

// masker holds what masking reuses from one path to the next.
type masker struct {
	null *os.File // the container's /dev/null, checked
	// first is the directory the mask tmpfs was mounted on, and shared
	// that tmpfs, looked up again only when a second directory needs it.
	first, shared *os.File
}

func (m *masker) close() {
	for _, f := range []*os.File{m.null, m.first, m.shared} {
		if f != nil {
			f.Close()
		}
	}
}

// maskTmpfsData keeps the mask tmpfs as small as the kernel allows: it is
// read-only and empty. Some kernels (Ubuntu's 5.4) refuse fewer than 2
// inodes; maskTmpfsData2 is for them.
const (
	maskTmpfsData  = "nr_blocks=1,nr_inodes=1"
	maskTmpfsData2 = "nr_blocks=1,nr_inodes=2"
)

func (t *tree) maskPath(path string, m *masker) error {
	h, err := t.openPresent(path)
	if h == nil || err != nil {
		return err // absent paths are skipped, as the spec allows
	}
	keep := false
	defer func() {
		if !keep {
			h.Close()
		}
	}()
	typ, err := fileType(h)
	if err != nil {
		return err
	}
	if typ != unix.S_IFDIR {
		if m.null == nil {
			if m.null, err = t.openNull(); err != nil {
				return err
			}
		}
		if err := unix.Mount(procFd(m.null), procFd(h), "", unix.MS_BIND, ""); err != nil {
			return wire.Failed(wire.StepRfBindDevNull, err)
		}
		return nil
	}
	if m.first == nil {
		err := unix.Mount("tmpfs", procFd(h), "tmpfs", unix.MS_RDONLY, maskTmpfsData)
		if errors.Is(err, unix.EINVAL) {
			err = unix.Mount("tmpfs", procFd(h), "tmpfs", unix.MS_RDONLY, maskTmpfsData2)
		}
		if err != nil {
			return wire.Failed(wire.StepRfMountTmpfs, err)
		}
		m.first, keep = h, true
		return nil
	}
	if m.shared == nil {
		if m.shared, err = t.reopenMount(m.first); err != nil {
			return fmt.Errorf("the mask tmpfs: %w", err)
		}
	}
	// A bind keeps the tmpfs's read-only flag.
	if err := unix.Mount(procFd(m.shared), procFd(h), "", unix.MS_BIND, ""); err != nil {
		return wire.Failed(wire.StepRfBindMaskTmpfs, err)
	}
	return nil
}

// openNull opens the container's /dev/null and checks it is the null
// device: binding anything else over a masked path would expose it
// instead of hiding it (CVE-2025-31133).
func (t *tree) openNull() (*os.File, error) {
	h, err := t.open("/dev/null")
	if err != nil {
		return nil, wire.Failed(wire.StepRfOpenDevNull, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(h.Fd()), &st); err != nil {
		h.Close()
		return nil, wire.Failed(wire.StepRfStatDevNull, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		h.Close()
		return nil, wire.Failed(wire.StepRfDevNullContainerNot, nil)
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
		return wire.Failed(wire.StepRfBindItself, err)
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
