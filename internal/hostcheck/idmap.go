package hostcheck

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// IDMapFacts says where the kernel can idmap a mount.
type IDMapFacts struct {
	Tmpfs bool `json:"tmpfs"`
	// Root is the filesystem type of / and whether a detached copy of
	// its mount could be idmapped.
	RootFSType string `json:"rootFSType"`
	Root       bool   `json:"root"`
}

// checkIDMappedMounts idmaps two detached mounts with a user namespace made
// for the purpose: a new tmpfs (fsopen/fsmount) and a clone of the mount at
// / (open_tree). Neither is ever attached anywhere, so nothing on the host
// changes; closing the fds frees them.
func checkIDMappedMounts() Check {
	c := Check{Name: "idmapped-mounts",
		Berth: "not used: mounts[].uidMappings are refused (not implemented)"}
	f := IDMapFacts{RootFSType: fsTypeName("/")}
	err := withUserNamespaceFD(func(userns int) error {
		tmpfsErr := idmapTmpfs(userns)
		f.Tmpfs = tmpfsErr == nil
		f.Root = idmapClone("/", userns) == nil
		return tmpfsErr
	})
	c.Facts = f
	c.OK = f.Tmpfs || f.Root
	switch {
	case c.OK:
		c.Host = fmt.Sprintf("tmpfs %s, / (%s) %s", yesNo(f.Tmpfs), f.RootFSType, yesNo(f.Root))
	default:
		c.Host = "cannot idmap a mount: " + err.Error()
	}
	return c
}

// withUserNamespaceFD calls fn with an fd of a new user namespace.
func withUserNamespaceFD(fn func(userns int) error) error {
	attr := &syscall.SysProcAttr{}
	ownIDMaps(attr)
	child, err := startStopped(attr)
	if err != nil {
		return fmt.Errorf("user namespace: %w", err)
	}
	defer child.kill()
	fd, err := unix.Open(child.nsPath("user"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return fn(fd)
}

func idmapTmpfs(userns int) error {
	mnt, err := newTmpfs()
	if err != nil {
		return err
	}
	defer unix.Close(mnt)
	return idmap(mnt, userns)
}

func idmapClone(path string, userns int) error {
	mnt, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", path, err)
	}
	defer unix.Close(mnt)
	return idmap(mnt, userns)
}

func idmap(mnt, userns int) error {
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(mnt, "", unix.AT_EMPTY_PATH, attr); err != nil {
		return fmt.Errorf("mount_setattr MOUNT_ATTR_IDMAP: %w", err)
	}
	return nil
}

// newTmpfs returns the fd of a new, detached, empty tmpfs mount.
func newTmpfs() (int, error) {
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("fsconfig tmpfs: %w", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	return mnt, nil
}

// fsTypeName names the filesystem at path for the table ("ext4").
func fsTypeName(path string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return "unknown"
	}
	if name, ok := fsNames[st.Type]; ok {
		return name
	}
	return fmt.Sprintf("%#x", st.Type)
}

var fsNames = map[int64]string{
	unix.EXT4_SUPER_MAGIC:      "ext4",
	unix.XFS_SUPER_MAGIC:       "xfs",
	unix.BTRFS_SUPER_MAGIC:     "btrfs",
	unix.TMPFS_MAGIC:           "tmpfs",
	unix.OVERLAYFS_SUPER_MAGIC: "overlay",
	unix.SQUASHFS_MAGIC:        "squashfs",
	unix.F2FS_SUPER_MAGIC:      "f2fs",
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
