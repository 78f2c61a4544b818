// Package procfs writes procfs files (LSM labels, sysctls, oom_score_adj)
// without trusting the path that leads to them.
//
// A container can shape the /proc the runtime sees: a rootfs whose /proc is
// a plain directory of look-alike files, or a mount over /proc/self/attr or
// /proc/sys/... that turns a label or sysctl write into a write to some
// other file (CVE-2019-16884, CVE-2025-52881). So the runtime never writes
// through a path of /proc. It opens a procfs instance once, checks it is
// one (fstatfs says procfs, the handle is the filesystem's root inode), and
// opens every file below it with openat2 refusing symlinks, magic links,
// ".." escapes and mount crossings: a file that something was mounted on,
// or that sits below such a mount, cannot be opened at all.
package procfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procRootIno is the inode number of every procfs instance's root.
const procRootIno = 1

// Handle is a verified procfs root.
type Handle struct {
	root *os.File
}

// Open returns a procfs handle nothing in any mount namespace can tamper
// with: a fresh, detached procfs instance when the kernel and our
// privileges allow it (fsopen, Linux 5.2), else a detached copy of the
// /proc mount without whatever is mounted below it (open_tree), else /proc
// itself, checked like the others.
func Open() (*Handle, error) {
	h, err := openFresh()
	if err == nil {
		return h, nil
	}
	if h, err2 := openClone("/proc"); err2 == nil {
		return h, nil
	}
	h, err3 := OpenMounted("/proc")
	if err3 != nil {
		return nil, fmt.Errorf("open a procfs instance: %v; /proc: %w", err, err3)
	}
	return h, nil
}

// openFresh mounts a new procfs instance of our pid namespace, attached
// nowhere: only this fd reaches it.
func openFresh() (*Handle, error) {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen proc: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigCreate(fs); err != nil {
		return nil, fmt.Errorf("create procfs: %w", err)
	}
	attrs := unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
	fd, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return nil, fmt.Errorf("fsmount procfs: %w", err)
	}
	return verified(fd, "procfs")
}

// openClone returns a detached copy of the mount at path, without its
// submounts (no AT_RECURSIVE).
func openClone(path string) (*Handle, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open_tree %s: %w", path, err)
	}
	return verified(fd, path)
}

// OpenMounted returns a handle of the procfs mounted at path, after
// checking that path is the root of a procfs and not a look-alike or a
// subdirectory of one. Mounts below it are not removed, only refused when
// a lookup would cross them.
func OpenMounted(path string) (*Handle, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return verified(fd, path)
}

// verified wraps fd after checking it is the root of a procfs.
func verified(fd int, name string) (*Handle, error) {
	f := os.NewFile(uintptr(fd), name)
	if err := checkRoot(fd); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Handle{root: f}, nil
}

func checkRoot(fd int) error {
	if err := checkOnProcfs(fd); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Ino != procRootIno {
		return fmt.Errorf("not the root of a procfs (inode %d)", st.Ino)
	}
	return nil
}

// checkOnProcfs refuses an fd whose file is not on a procfs.
func checkOnProcfs(fd int) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return err
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("not a procfs (filesystem type %#x)", st.Type)
	}
	return nil
}

// Close releases the handle (and with it a detached instance).
func (h *Handle) Close() error { return h.root.Close() }

// WriteFile writes data to the procfs file name (relative to the procfs
// root, e.g. "sys/net/ipv4/ip_forward" or "thread-self/attr/exec") in one
// write, as procfs files expect.
func (h *Handle) WriteFile(name string, data []byte) error {
	f, err := h.OpenFile(name, unix.O_WRONLY)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write /proc/%s: %w", name, unwrapPath(err))
	}
	return nil
}

// OpenFile opens the procfs file name with flags. A leading "self" or
// "thread-self" is resolved by reading that link of this procfs (so it
// names the calling process or thread in the instance's pid namespace);
// nothing else may be a symlink, and the lookup may not cross a mount.
func (h *Handle) OpenFile(name string, flags int) (*os.File, error) {
	path, err := h.resolveSelf(name)
	if err != nil {
		return nil, err
	}
	fd, err := openBeneath(int(h.root.Fd()), path, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW)
	if err != nil {
		return nil, fmt.Errorf("open /proc/%s: %w", name, err)
	}
	if err := checkOnProcfs(fd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open /proc/%s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), "/proc/"+name), nil
}

// resolveSelf replaces a leading "self" or "thread-self" by what the link
// says: "<pid>" or "<pid>/task/<tid>".
func (h *Handle) resolveSelf(name string) (string, error) {
	first, rest, _ := strings.Cut(name, "/")
	if first != "self" && first != "thread-self" {
		return name, nil
	}
	buf := make([]byte, 64)
	n, err := unix.Readlinkat(int(h.root.Fd()), first, buf)
	if err != nil {
		return "", fmt.Errorf("readlink /proc/%s: %w", first, err)
	}
	target := string(buf[:n])
	if !pidPath(target) {
		return "", fmt.Errorf("/proc/%s points to %q, not to a process", first, target)
	}
	if rest == "" {
		return target, nil
	}
	return target + "/" + rest, nil
}

// pidPath accepts "<pid>" and "<pid>/task/<tid>".
func pidPath(s string) bool {
	parts := strings.Split(s, "/")
	switch {
	case len(parts) == 1:
		return isNumber(parts[0])
	case len(parts) == 3:
		return isNumber(parts[0]) && parts[1] == "task" && isNumber(parts[2])
	}
	return false
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil && s != "" && s[0] != '+'
}

// unwrapPath drops os.PathError's repetition of the file name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
