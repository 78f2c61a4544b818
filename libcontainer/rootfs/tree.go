package rootfs

import (
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// tree is the container root, opened once, through which every path of
// the container is resolved. Lookups never leave it: symlinks and ".." are
// interpreted as if the root were "/".
type tree struct {
	root *os.File // O_PATH handle of the root directory
	// link is the kernel's name of root as this process sees it (its
	// /proc/self/fd link): the host path before pivot_root, "/" after. It
	// turns a resolved handle back into a canonical in-root path.
	link string
	// procOK records that /proc was checked (see needProcfs).
	procOK bool
}

// openTree opens path as the container root.
func openTree(path string) (*tree, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, wire.Failed(wire.StepRfOpenRootPath, err, path)
	}
	root := os.NewFile(uintptr(fd), path)
	if path == "/" {
		// The process root: its name is known without asking /proc.
		return &tree{root: root, link: "/"}, nil
	}
	link, err := readlinkFd(root)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("read the name of root %q: %w", path, err)
	}
	return &tree{root: root, link: link}, nil
}

func (t *tree) close() { t.root.Close() }

// procFd is the magic-link name of an open file, which mount(2) and chmod(2)
// follow to exactly that file, whatever happens to its path meanwhile.
func procFd(f *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
}

// open resolves an existing path inside the root and returns an O_PATH
// handle of it. The final symlink, if any, is followed (inside the root).
// openat2(RESOLVE_IN_ROOT) does it in one call; pathrs-lite's resolver is
// the fallback for kernels without openat2 (before 5.6).
func (t *tree) open(path string) (*os.File, error) {
	if !noOpenat2.Load() {
		h, err := openat2InRoot(t.root, path)
		if !errors.Is(err, unix.ENOSYS) {
			return h, err
		}
		noOpenat2.Store(true)
	}
	return pathrs.OpenatInRoot(t.root, path)
}

// noOpenat2 records that the kernel has no openat2(2).
var noOpenat2 atomic.Bool

func openat2InRoot(root *os.File, path string) (*os.File, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for range 32 {
		fd, err := unix.Openat2(int(root.Fd()), path, &how)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), path), nil
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			// EAGAIN: a rename or mount raced with ".." resolution; the
			// kernel asks to try again rather than risk a wrong answer.
			continue
		default:
			return nil, &os.PathError{Op: "openat2 in root", Path: path, Err: err}
		}
	}
	return nil, &os.PathError{Op: "openat2 in root", Path: path, Err: unix.EAGAIN}
}

// mkdirAll returns a handle of the directory path, creating it and its
// parents inside the root as needed.
func (t *tree) mkdirAll(path string) (*os.File, error) {
	// Most destinations exist already; one lookup is much cheaper than
	// MkdirAllHandle's walk.
	if h, err := t.open(path); err == nil {
		typ, err := fileType(h)
		if err == nil && typ == unix.S_IFDIR {
			return h, nil
		}
		h.Close()
		// What is there is no directory: say so as mkdir_all in
		// crootfs.c does (MkdirAllHandle's text names the host path).
		if err == nil {
			return nil, wire.Failed(wire.StepRfPath, unix.ENOTDIR, filepath.Clean("/"+path))
		}
	}
	dir, err := pathrs.MkdirAllHandle(t.root, path, 0o755)
	if err == nil {
		return dir, nil
	}
	if p := t.nonDirPrefix(path); p != "" {
		return nil, wire.Failed(wire.StepRfPath, unix.ENOTDIR, p)
	}
	// MkdirAllHandle refuses to walk through a dangling symlink (it will
	// not create what a symlink points to). Spell the path the way the
	// root would resolve it and try once more: the spelling is only a
	// hint, the creation and lookup are again confined to the root.
	hint, herr := t.canonical(path)
	if herr != nil || hint == filepath.Clean("/"+path) {
		return nil, err
	}
	return pathrs.MkdirAllHandle(t.root, hint, 0o755)
}

// nonDirPrefix is the first parent of path, resolved in the root, that
// exists and is no directory, or "": the component open_dir_step in
// crootfs.c names when it cannot go on (MkdirAllHandle's own error names
// the host path).
func (t *tree) nonDirPrefix(path string) string {
	clean := filepath.Clean("/" + path)
	for i := 1; i < len(clean); i++ {
		if clean[i] != '/' {
			continue
		}
		h, err := t.open(clean[:i])
		if err != nil {
			return ""
		}
		typ, err := fileType(h)
		h.Close()
		if err == nil && typ != unix.S_IFDIR {
			return clean[:i]
		}
	}
	return ""
}

// mkfile returns a handle of path, creating an empty regular file (and its
// parent directories) inside the root if nothing is there yet.
func (t *tree) mkfile(path string) (*os.File, error) {
	h, err := t.open(path)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return h, err
	}
	hint, err := t.canonical(path)
	if err != nil {
		return nil, err
	}
	if hint == "/" {
		return nil, wire.Failed(wire.StepRfCannotCreateFileAt, nil)
	}
	dir, err := t.mkdirAll(filepath.Dir(hint))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	return createFileAt(dir, filepath.Base(hint), hint)
}

// createFileAt creates an empty regular file name in dir if nothing is
// there, and returns an O_PATH handle of what is there, refusing symlinks.
func createFileAt(dir *os.File, name, display string) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o644)
	if err == nil {
		unix.Close(fd)
	} else if !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create %q: %w", display, err)
	}
	fd, err = unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", display, err)
	}
	h := os.NewFile(uintptr(fd), display)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		h.Close()
		return nil, fmt.Errorf("stat %q: %w", display, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		h.Close()
		return nil, fmt.Errorf("%q was replaced by a symlink", display)
	}
	return h, nil
}

// canonical spells path the way it resolves inside the root, following
// symlinks (even dangling ones) without ever leaving the root. It reads the
// filesystem by path, so its answer is only ever used as input to the
// in-root functions above, never to mount(2).
func (t *tree) canonical(path string) (string, error) {
	full, err := securejoin.SecureJoin(t.link, path)
	if err != nil {
		return "", err
	}
	return t.relative(full)
}

// relative turns a path as this process sees it into the in-root path.
func (t *tree) relative(full string) (string, error) {
	rel, err := filepath.Rel(t.link, full)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%q is outside the root %q", full, t.link)
	}
	return filepath.Clean("/" + rel), nil
}

// readlinkFd returns the kernel's name of an open file. It reads the same
// /proc/self/fd links mount(2) is given, so it needs /proc checked first
// (checkProcfs), and costs one system call.
func readlinkFd(f *os.File) (string, error) {
	link, err := os.Readlink(procFd(f))
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(link, "/") {
		// "anon_inode:...", or a file outside this process's root.
		return "", fmt.Errorf("%q has no path (%q)", f.Name(), link)
	}
	return link, nil
}

// pathOf returns the canonical in-root path of an open handle.
func (t *tree) pathOf(h *os.File) (string, error) {
	if err := t.needProcfs(); err != nil {
		return "", err
	}
	link, err := readlinkFd(h)
	if err != nil {
		return "", err
	}
	return t.relative(link)
}

// reopenMount returns a handle of the mount just made on top of covered.
// covered still refers to the directory under the new mount, and acting on
// it (remount, propagation) would act on the parent mount instead. The
// lookup goes through covered's canonical path, and the result must be the
// root of a mount other than covered's.
func (t *tree) reopenMount(covered *os.File) (*os.File, error) {
	path, err := t.pathOf(covered)
	if err != nil {
		return nil, fmt.Errorf("find the new mount: %w", err)
	}
	h, err := t.open(path)
	if err != nil {
		return nil, fmt.Errorf("find the new mount: %w", err)
	}
	oldID, _, err := mountIDOf(covered)
	if err == nil {
		var newID uint64
		var isRoot bool
		newID, isRoot, err = mountIDOf(h)
		if err == nil && (newID == oldID || !isRoot) {
			err = fmt.Errorf("%q is not the new mount", path)
		}
	}
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("find the new mount: %w", err)
	}
	return h, nil
}

// mountIDOf returns the id of the mount f is on and whether f is its root.
func mountIDOf(f *os.File) (uint64, bool, error) {
	var stx unix.Statx_t
	err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &stx)
	if err != nil {
		return 0, false, fmt.Errorf("statx %q: %w", f.Name(), err)
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 || stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return 0, false, fmt.Errorf("statx %q: the kernel reports no mount id", f.Name())
	}
	return stx.Mnt_id, stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

// fileType returns the S_IFMT bits of an open handle.
func fileType(f *os.File) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, fmt.Errorf("stat %q: %w", f.Name(), err)
	}
	return st.Mode & unix.S_IFMT, nil
}

// needProcfs checks /proc once per tree, before the first mount made
// through its magic links.
func (t *tree) needProcfs() error {
	if t.procOK {
		return nil
	}
	if err := checkProcfs(); err != nil {
		return fmt.Errorf("mounting through /proc/self/fd: %w", err)
	}
	t.procOK = true
	return nil
}

// checkProcfs makes sure /proc/self/fd is a real procfs with nothing
// mounted over any part of it, before its magic links are trusted to name
// the files mount(2) acts on.
func checkProcfs() error {
	var st unix.Statfs_t
	if err := unix.Statfs("/proc/self/fd", &st); err != nil {
		return wire.Failed(wire.StepRfProcSelfFd, err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("/proc/self/fd is not on procfs (type %#x)", st.Type)
	}
	var proc, fds unix.Statx_t
	flags := unix.AT_SYMLINK_NOFOLLOW
	if err := unix.Statx(unix.AT_FDCWD, "/proc", flags, unix.STATX_MNT_ID, &proc); err != nil {
		return fmt.Errorf("/proc: %w", err)
	}
	if err := unix.Statx(unix.AT_FDCWD, "/proc/self/fd", flags, unix.STATX_MNT_ID, &fds); err != nil {
		return wire.Failed(wire.StepRfProcSelfFd, err)
	}
	if proc.Mnt_id != fds.Mnt_id || proc.Attributes&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return wire.Failed(wire.StepRfProcSelfFdOvermounted, nil)
	}
	return nil
}
