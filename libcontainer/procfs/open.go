package procfs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// resolveStrict keeps a lookup inside the procfs root and on its mount:
// no "..", no symlinks of any kind, no mount crossings.
const resolveStrict = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS |
	unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// openBeneath opens path below dir with the strict rules, with openat2
// where the kernel has it (Linux 5.6) and a component-wise walk otherwise.
func openBeneath(dir int, path string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags), Resolve: resolveStrict}
	for range 16 {
		fd, err := unix.Openat2(dir, path, &how)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.ENOSYS):
			return walkBeneath(dir, path, flags)
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue // a concurrent rename or mount; the kernel asks to retry
		case errors.Is(err, unix.EXDEV):
			return -1, fmt.Errorf("something is mounted on the path: %w", err)
		case errors.Is(err, unix.ELOOP):
			return -1, fmt.Errorf("a symlink is on the path: %w", err)
		default:
			return -1, err
		}
	}
	return -1, unix.EAGAIN
}

// walkBeneath is openBeneath without openat2: one component at a time,
// never following a symlink, and checking that each directory is on the
// same mount as dir.
func walkBeneath(dir int, path string, flags int) (int, error) {
	want, err := mountID(dir)
	if err != nil {
		return -1, err
	}
	parts := strings.Split(path, "/")
	cur := dir
	defer func() {
		if cur != dir {
			unix.Close(cur)
		}
	}()
	for i, part := range parts {
		if part == "" || part == "." || part == ".." {
			return -1, fmt.Errorf("path %q: component %q is not allowed", path, part)
		}
		last := i == len(parts)-1
		f := unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if last {
			f = flags | unix.O_NOFOLLOW | unix.O_CLOEXEC
		}
		next, err := unix.Openat(cur, part, f, 0)
		if err != nil {
			return -1, err
		}
		if id, err := mountID(next); err != nil || id != want {
			unix.Close(next)
			return -1, fmt.Errorf("something is mounted on the path: %w", unix.EXDEV)
		}
		if cur != dir {
			unix.Close(cur)
		}
		cur = next
	}
	fd := cur
	cur = dir // handed to the caller, not closed by the defer
	return fd, nil
}

// mountID is the id of the mount fd's file is on.
func mountID(fd int) (uint64, error) {
	var stx unix.Statx_t
	err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &stx)
	if err != nil {
		return 0, err
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return 0, fmt.Errorf("the kernel reports no mount id")
	}
	return stx.Mnt_id, nil
}
