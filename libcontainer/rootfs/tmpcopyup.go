package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountTmpCopyUp mounts a tmpfs on dst and copies what dst held into it,
// so an image's /tmp or /run content survives a tmpfs mounted on top.
func (t *tree) mountTmpCopyUp(m *specs.Mount, o *Options, dst *os.File) error {
	// Keep a readable handle of the directory that is about to be covered.
	old, err := pathrs.Reopen(dst, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("tmpcopyup: open the old content: %w", err)
	}
	defer old.Close()
	// Copy while the mount is writable; the spec's per-mount flags (ro,
	// noexec...) are applied afterwards.
	flags := o.Flags &^ (perMountFlags | propagationFlags)
	if err := mountOn(dst, m.Source, m.Type, flags, o.Data); err != nil {
		return err
	}
	mnt, err := t.reopenMount(dst)
	if err != nil {
		return err
	}
	defer mnt.Close()
	dir, err := pathrs.Reopen(mnt, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("tmpcopyup: open the tmpfs: %w", err)
	}
	defer dir.Close()
	if err := copyTree(old, dir); err != nil {
		return fmt.Errorf("tmpcopyup: %w", err)
	}
	if o.Flags&perMountFlags != 0 {
		if err := bindRemount(mnt, o); err != nil {
			return err
		}
	}
	return applyAfterMount(mnt, o)
}

// copyTree copies the entries of the directory src into dst, recursively,
// keeping type, mode, owner and times. Everything goes through dirfds and
// O_NOFOLLOW, so a symlink in the image is copied as a symlink and never
// followed out of the tree.
func copyTree(src, dst *os.File) error {
	entries, err := src.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("read %q: %w", src.Name(), err)
	}
	for _, e := range entries {
		if err := copyEntry(src, dst, e.Name()); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(src, dst *os.File, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(int(src.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %q: %w", name, err)
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = copyDir(src, dst, name)
	case unix.S_IFREG:
		err = copyFile(src, dst, name, st.Mode&0o7777)
	case unix.S_IFLNK:
		err = copySymlink(src, dst, name)
	default:
		err = unix.Mknodat(int(dst.Fd()), name, st.Mode, int(st.Rdev))
	}
	if err != nil {
		return fmt.Errorf("copy %q: %w", name, err)
	}
	return copyAttrs(dst, name, &st)
}

func copyDir(src, dst *os.File, name string) error {
	if err := unix.Mkdirat(int(dst.Fd()), name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	from, err := openDirNoFollow(src, name)
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := openDirNoFollow(dst, name)
	if err != nil {
		return err
	}
	defer to.Close()
	return copyTree(from, to)
}

func openDirNoFollow(dir *os.File, name string) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), dir.Name()+"/"+name), nil
}

func copyFile(src, dst *os.File, name string, mode uint32) error {
	in, err := unix.Openat(int(src.Fd()), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	from := os.NewFile(uintptr(in), name)
	defer from.Close()
	out, err := unix.Openat(int(dst.Fd()), name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode&0o777)
	if err != nil {
		return err
	}
	to := os.NewFile(uintptr(out), name)
	if _, err := io.Copy(to, from); err != nil {
		to.Close()
		return err
	}
	return to.Close()
}

func copySymlink(src, dst *os.File, name string) error {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(src.Fd()), name, buf)
	if err != nil {
		return err
	}
	return unix.Symlinkat(string(buf[:n]), int(dst.Fd()), name)
}

// copyAttrs gives the copy its original owner, mode (after chown, which
// clears set-id bits) and times.
func copyAttrs(dir *os.File, name string, st *unix.Stat_t) error {
	fd := int(dir.Fd())
	if err := unix.Fchownat(fd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %q: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		// The entry was just created by us in a tmpfs nobody else sees.
		if err := unix.Fchmodat(fd, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod %q: %w", name, err)
		}
	}
	times := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(fd, name, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %q: %w", name, err)
	}
	return nil
}
