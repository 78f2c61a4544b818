package rootfs

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
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
	// of); nil: the hierarchies are mounted by their names.
	CgroupOptions map[string]string
	// HostFds maps a mount's index to the fd of its source as the host
	// opened it (HostSources): a detached clone, attached with move_mount.
	HostFds map[int]int
}
