// Package rootfs takes every decision about a container's root filesystem
// and compiles them into the program the C init's pid 1 runs
// (libcontainer/executor/crootfs.c): the spec mounts, /dev, pivot_root (or
// MS_MOVE + chroot, or chroot alone without a mount namespace), masked and
// read-only paths, and the root's mount propagation.
//
// It runs in the parent. Check refuses, before anything is made, a root no
// builder could make; CompileC turns a checked Plan into the program;
// HostSources lists the bind sources the host opens for it.
//
// Security model. The rootfs comes from an image and must be treated as
// hostile: any path in it may be a symlink pointing anywhere, and ".."
// components may try to climb out. So the program names paths inside the
// root, and crootfs.c resolves every destination, device node and masked
// or read-only path inside a handle of the root (openat2 RESOLVE_IN_ROOT,
// RESOLVE_NO_MAGICLINKS) and mounts through the verified file descriptor.
// Nothing here reads the image.
package rootfs
