// Package seal gives the container's init a read-only handle of berth's own
// binary to run. The init must never execute a writable host file: a
// process in the container could reopen /proc/<pid>/exe for writing and
// replace berth on the host (CVE-2019-5736).
//
// Exe opens the binary through a private overlayfs mount with lower layers
// only (the binary's directory over an empty tmpfs), detached from every
// mount table: no copy, the page cache shared, and a write through any
// reopening of it fails with EROFS. Unlike a read-only bind mount or an
// open_tree clone with MOUNT_ATTR_RDONLY, an overlay without an upper layer
// cannot be made writable: whoever holds a detached mount can clear that
// flag with mount_setattr, even from a fresh user namespace of its own
// (tried on this project's development kernel), after which the file opens
// for writing. Hosts without overlayfs or the new mount API get a sealed
// memfd copy (Memfd).
package seal

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exe returns the read-only handle of exe the init runs: the overlay view,
// or the sealed copy where the overlay cannot be made.
func Exe(exe string) (*os.File, error) {
	if f, err := Overlay(exe); err == nil {
		return f, nil
	}
	return Memfd(exe)
}

// Overlay opens exe ("/proc/self/exe" for berth itself) through a
// detached, lower-only overlayfs mount.
func Overlay(exe string) (*os.File, error) {
	want, err := os.Stat(exe)
	if err != nil {
		return nil, err
	}
	path := exe
	if exe == "/proc/self/exe" {
		if path, err = os.Readlink(exe); err != nil {
			return nil, err
		}
	}
	mnt, err := lowerOnlyOverlay(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, filepath.Base(path), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s through the overlay: %w", filepath.Base(path), err)
	}
	f := os.NewFile(uintptr(fd), "berth-sealed")
	// The path may have been replaced since exe was opened: run only the
	// very file asked for.
	if got, err := f.Stat(); err != nil || !sameFile(got, want) {
		f.Close()
		return nil, fmt.Errorf("%s changed while being sealed", exe)
	}
	return f, nil
}

// lowerOnlyOverlay mounts dir over an empty tmpfs as a read-only overlay
// with no upper layer (overlayfs then wants two lower ones), detached, and
// returns the mount's fd.
func lowerOnlyOverlay(dir string) (int, error) {
	empty, err := detachedMount("tmpfs", "")
	if err != nil {
		return -1, err
	}
	defer unix.Close(empty)
	// ':' separates the layers, so one in a path is escaped.
	lower := escapeLower(dir) + ":/proc/self/fd/" + strconv.Itoa(empty)
	return detachedMount("overlay", lower)
}

// detachedMount makes a read-only, nodev, nosuid mount of fstype that is
// in no mount table (fsopen, fsmount) and returns its fd.
func detachedMount(fstype, lowerdir string) (int, error) {
	fs, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	defer unix.Close(fs)
	if lowerdir != "" {
		if err := unix.FsconfigSetString(fs, "lowerdir", lowerdir); err != nil {
			return -1, fmt.Errorf("%s lowerdir %s: %w", fstype, lowerdir, err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("%s: create: %w", fstype, err)
	}
	attrs := unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return -1, fmt.Errorf("fsmount %s: %w", fstype, err)
	}
	return mnt, nil
}

func escapeLower(path string) string {
	return strings.NewReplacer(`\`, `\\`, ":", `\:`).Replace(path)
}

// sameFile compares inode, size and modification time: overlayfs reports
// the lower file's inode number but its own device.
func sameFile(a, b os.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Ino == sb.Ino && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// Memfd returns a sealed, read-only in-memory copy of exe: the seals (no
// write, grow, shrink or re-seal) make even an exe reopened through /proc
// unwritable.
func Memfd(exe string) (*os.File, error) {
	src, err := os.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", exe, err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("berth", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "berth-sealed")
	// io.Copy copies in the kernel (copy_file_range, sendfile).
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy %s into memfd: %w", exe, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return f, nil
}
