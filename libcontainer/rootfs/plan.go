package rootfs

import (
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Plan is everything needed to build the container's root filesystem.
type Plan struct {
	Root          string              // absolute host path of the rootfs (symlinks already resolved)
	Mounts        []specs.Mount       // spec mounts, in order
	Devices       []specs.LinuxDevice // linux.devices (the default devices are added by this package)
	Propagation   string              // linux.rootfsPropagation ("" = rslave default like runc)
	Readonly      bool                // root.readonly
	MaskedPaths   []string
	ReadonlyPaths []string
	NoPivot       bool // use MS_MOVE + chroot instead of pivot_root
	InUserNS      bool // new user namespace: bind sources are cloned from the host side (HostSources)
	// BindDevices: the container's user namespace, or the one berth
	// itself runs in (a rootless engine's, podman's), denies mknod, so
	// devices are the host's nodes bind-mounted.
	BindDevices bool
	// Rootless: the caller holds no privilege over the host's mounts, so
	// no bind source is cloned from the host side (HostSources): each is
	// bound in the container's mount namespace, whose copies of the
	// host's mounts the kernel has locked (their flags stay, as with a
	// clone berth treats as locked).
	Rootless bool
	CgroupNS bool // new cgroup namespace: mount cgroup filesystems; else bind the host cgroup dirs below
	// CgroupPaths maps a v1 hierarchy mount name (e.g. "memory",
	// "cpu,cpuacct", "unified" for the hybrid cgroup2) to the absolute host
	// dir of the container's cgroup in it.
	CgroupPaths map[string]string
	// CgroupOptions, when set, are HostCgroupOptions as the caller read
	// them (the runtime, in the mount namespace the container's is a copy
	// of); nil: Prepare reads them if it needs them.
	CgroupOptions map[string]string
	// HostFds maps a mount's index to the fd of its source as the host
	// opened it (HostSources): a detached clone, attached with move_mount.
	HostFds map[int]int
}

// Prepare runs in the container's mount namespace before the root is
// switched: it isolates the namespace's propagation, bind-mounts Root on
// itself (pivot_root needs a mount point), performs every mount in order
// and populates /dev unless /dev is a bind of a host directory.
func Prepare(p *Plan) error {
	if !filepath.IsAbs(p.Root) {
		return fmt.Errorf("root %q is not an absolute path", p.Root)
	}
	if err := checkOwnMountNS(); err != nil {
		return err
	}
	// /proc is still the host's here; its magic links name every mount
	// target below.
	if err := checkProcfs(); err != nil {
		return err
	}
	prop, err := rootPropagation(p.Propagation)
	if err != nil {
		return err
	}
	if err := setHostRootPropagation(prop); err != nil {
		return err
	}
	root := filepath.Clean(p.Root)
	if mayLeaveShared(prop) {
		if err := makeParentPrivate(root); err != nil {
			return err
		}
	}
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return wire.Failed(wire.StepBindRootfs, err, root)
	}
	// Opened after the bind so that the handle is on the new mount.
	t, err := openTree(root)
	if err != nil {
		return err
	}
	defer t.close()
	t.procOK = true // checked above
	cg := &cgroupSetup{ns: p.CgroupNS, paths: p.CgroupPaths, hostOpts: p.CgroupOptions}
	for i := range p.Mounts {
		cg.hostV2Below = p.Mounts[i].Type == "cgroup" && hostCgroup2Under(p.Mounts, i)
		if err := t.mountOne(&p.Mounts[i], cg, p.HostFds[i]); err != nil {
			return fmt.Errorf("mounts[%d] destination %q: %w", i, p.Mounts[i].Destination, err)
		}
	}
	if needsDev(p.Mounts) {
		return t.setupDev(p)
	}
	return nil
}

// checkOwnMountNS refuses to work in the mount namespace of the host's
// pid 1: there, the propagation change, the rootfs bind and pivot_root
// would all land on the host. It is a best effort: when pid 1's namespace
// cannot be read (no ptrace access to it), nothing is checked.
func checkOwnMountNS() error {
	same, err := sameNamespace("/proc/self/ns/mnt", "/proc/1/ns/mnt")
	if err == nil && same {
		return fmt.Errorf("refusing to build the rootfs in the host's mount namespace (no new mount namespace?)")
	}
	return nil
}

// sameNamespace reports whether two namespace links name the same one.
func sameNamespace(a, b string) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Stat(a, &sa); err != nil {
		return false, err
	}
	if err := unix.Stat(b, &sb); err != nil {
		return false, err
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}

// Enter switches the process to the new root; afterwards the cwd is "/".
func Enter(p *Plan) error {
	if p.NoPivot {
		return moveRoot(p.Root)
	}
	return pivotRoot(p.Root)
}

// Finish runs inside the new root: it makes "/" read-only if asked, masks
// and write-protects paths, and applies a shared, private or unbindable
// rootfsPropagation.
func Finish(p *Plan) error {
	if ro := readonlyLaterMounts(p.Mounts); len(ro) > 0 {
		t, err := openTree("/")
		if err != nil {
			return err
		}
		defer t.close()
		for _, i := range ro {
			dest := filepath.Clean("/" + p.Mounts[i].Destination)
			if err := t.remountReadonly(dest); err != nil {
				return fmt.Errorf("mounts[%d] destination %q: %w", i, p.Mounts[i].Destination, err)
			}
		}
	}
	if p.Readonly {
		if err := remountRootReadonly(); err != nil {
			return err
		}
	}
	if len(p.MaskedPaths) > 0 || len(p.ReadonlyPaths) > 0 {
		if err := protectPaths(p); err != nil {
			return err
		}
	}
	return finalPropagation(p.Propagation)
}

// protectPaths masks and write-protects the paths, resolved in the new
// root and mounted through fds of the container's /proc (checked only when
// one of the paths exists, so a container without /proc and with only
// /proc paths listed does not fail).
func protectPaths(p *Plan) error {
	t, err := openTree("/")
	if err != nil {
		return err
	}
	defer t.close()
	if err := t.maskPaths(p.MaskedPaths); err != nil {
		return err
	}
	return t.readonlyPaths(p.ReadonlyPaths)
}

// remountRootReadonly makes the root mount read-only, keeping its other
// flags. "/" is the process root here, which nothing can redirect.
func remountRootReadonly() error {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return fmt.Errorf("root.readonly: statfs /: %w", err)
	}
	flags := remountFlags(statfsFlags(uint64(st.Flags)), &Options{Flags: unix.MS_RDONLY})
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|flags, ""); err != nil {
		return fmt.Errorf("root.readonly: remount / %s: %w", flagNames(flags), err)
	}
	return nil
}
