package libcontainer

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// sealedExe returns a read-only handle of exe for the init to run. The init
// must never execute a writable host file: a process in the container could
// reopen /proc/<pid>/exe for writing and replace berth on the host
// (CVE-2019-5736).
//
// The handle is exe seen through a private overlayfs mount that has lower
// layers only (exe's directory over an empty tmpfs), detached from every
// mount table: no copy, shared page cache, and a write through any
// reopening of it fails with EROFS. Unlike a read-only bind mount or
// open_tree clone, an overlay without an upper layer cannot be made
// writable: mount_setattr clearing MOUNT_ATTR_RDONLY on a detached clone
// works from any user namespace (tested), so that is not a seal. Hosts
// without overlayfs or the new mount API get a sealed memfd copy.
func sealedExe(exe string) (*os.File, error) {
	f, err := overlayExe(exe)
	if err == nil {
		return f, nil
	}
	return sealedCopy(exe)
}

// overlayExe opens exe through a detached, lower-only overlayfs mount.
func overlayExe(exe string) (*os.File, error) {
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
	empty, err := detachedMount("tmpfs", nil, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(empty)
	// Overlayfs wants two lower layers when it has no upper one.
	layers := []string{filepath.Dir(path), "/proc/self/fd/" + strconv.Itoa(empty)}
	mnt, err := detachedMount("overlay", layers, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, err
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, filepath.Base(path), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
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

// detachedMount makes a mount of fstype that is in no mount table (fsopen,
// fsmount), with lowerdir+ layers for overlayfs, and returns its fd.
func detachedMount(fstype string, lowers []string, attrs int) (int, error) {
	fs, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	defer unix.Close(fs)
	for _, l := range lowers {
		if err := unix.FsconfigSetString(fs, "lowerdir+", l); err != nil {
			return -1, fmt.Errorf("%s lowerdir+ %s: %w", fstype, l, err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("%s: create: %w", fstype, err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return -1, fmt.Errorf("fsmount %s: %w", fstype, err)
	}
	return mnt, nil
}

// sameFile compares inode, size and modification time: overlayfs reports
// the lower file's inode number but its own device.
func sameFile(a, b os.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Ino == sb.Ino && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// sealedCopy returns a sealed, read-only in-memory copy of exe: seals make
// it immutable, so even an exe reopened through /proc is unwritable.
func sealedCopy(exe string) (*os.File, error) {
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
	if err := copyAll(f, src); err != nil {
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

// copyAll copies in the kernel where it can (copy_file_range, sendfile).
func copyAll(dst *os.File, src *os.File) error {
	_, err := io.Copy(dst, src)
	return err
}

// initCmd returns `berth init` run from a sealed copy of the runtime's
// binary, with stdio and the preserved fds 3..3+n-1, then the sync socket.
// The child execs /proc/self/fd/N of our fd table, so the returned sealed
// file must stay open until Start and be closed by the caller after it.
func (rt *Runtime) initCmd(stdin, stdout, stderr, syncEnd *os.File, preserveFDs int) (*exec.Cmd, *os.File, error) {
	exe := rt.Exe
	if exe == "" {
		exe = "/proc/self/exe"
	}
	sealed, err := sealedExe(exe)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command("/proc/self/fd/"+strconv.Itoa(int(sealed.Fd())), "init")
	cmd.Args[0] = exe
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	for i := 0; i < preserveFDs; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(3+i), "preserved"))
	}
	cmd.Env = []string{"_BERTH_INITPIPE=" + strconv.Itoa(3+len(cmd.ExtraFiles))}
	cmd.ExtraFiles = append(cmd.ExtraFiles, syncEnd)
	return cmd, sealed, nil
}
