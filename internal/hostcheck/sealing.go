package hostcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// checkMemfdSealing seals a memfd as berth seals the copy of itself that
// the container's init runs from (CVE-2019-5736), and checks that a write
// is then refused.
func checkMemfdSealing() Check {
	c := Check{Name: "memfd-sealing", Required: true,
		Berth: "runs the container's init from a sealed memfd copy of berth"}
	if err := sealedMemfd(); err != nil {
		c.Host = err.Error()
		return c
	}
	c.OK, c.Host = true, "memfd seals hold (write refused once sealed)"
	return c
}

func sealedMemfd() error {
	fd, err := unix.MemfdCreate("berth-check", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte("x")); err != nil {
		return fmt.Errorf("memfd write: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		return fmt.Errorf("F_ADD_SEALS: %w", err)
	}
	if _, err := unix.Pwrite(fd, []byte("y"), 0); !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("a write to the sealed memfd gave %v, want EPERM", err)
	}
	return nil
}

// checkOverlaySealing builds the read-only overlayfs view of berth's binary
// that runc uses instead of a copy: the binary's directory and an empty
// tmpfs as lower layers, mounted detached (never attached anywhere), and
// the binary opened through it.
func checkOverlaySealing() Check {
	c := Check{Name: "overlayfs-sealing", Berth: "not used: the init runs from a sealed memfd copy"}
	exe, err := os.Executable()
	if err == nil {
		err = overlayView(exe)
	}
	if err != nil {
		c.Host = err.Error()
		return c
	}
	c.OK, c.Host = true, "a read-only overlay of berth's directory works"
	return c
}

func overlayView(exe string) error {
	empty, err := newTmpfs()
	if err != nil {
		return err
	}
	defer unix.Close(empty)
	fs, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fs)
	// Without an upper layer overlayfs needs two lower ones; ':' separates
	// them, so one in a path is escaped.
	lower := escapeLower(filepath.Dir(exe)) + ":/proc/self/fd/" + strconv.Itoa(empty)
	if err := unix.FsconfigSetString(fs, "lowerdir", lower); err != nil {
		return fmt.Errorf("overlay lowerdir: %w", err)
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fmt.Errorf("overlay create: %w", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return fmt.Errorf("overlay fsmount: %w", err)
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, filepath.Base(exe), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open berth through the overlay: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.OVERLAYFS_SUPER_MAGIC {
		return fmt.Errorf("berth opened through the overlay is not on overlayfs (%v)", err)
	}
	return nil
}

func escapeLower(path string) string {
	return strings.NewReplacer(`\`, `\\`, ":", `\:`).Replace(path)
}
