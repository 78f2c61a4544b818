// Package rootfs builds a container's root filesystem inside its new mount
// namespace: the spec mounts, /dev, pivot_root, masked and read-only paths,
// and the root's mount propagation.
//
// It runs in the container's init process, after the namespaces exist and
// before the user process is started, in three steps:
//
//   - Prepare, still under the host's root: detaches the namespace's mounts
//     from the host (rslave by default), bind-mounts the rootfs on itself,
//     performs every spec mount in order and populates /dev.
//   - Enter: pivot_root (or MS_MOVE + chroot) into the new root.
//   - Finish, inside the new root: read-only root, masked paths, read-only
//     paths and the final propagation of "/".
//
// Security model. The rootfs comes from an image and must be treated as
// hostile: any path in it may be a symlink pointing anywhere, and ".."
// components may try to climb out. So every destination, device node and
// masked or read-only path is resolved inside a handle of the root (with
// filepath-securejoin's pathrs-lite, i.e. openat2 RESOLVE_IN_ROOT where the
// kernel has it) and the mount is made through the verified file descriptor
// as /proc/self/fd/N. A path string is never handed to mount(2) to be
// resolved again later, and /proc itself is checked to be a real procfs
// before its magic links are trusted. When a mount must be acted on after it
// was made (remount, propagation, recursive attributes), the new mount is
// reopened by its canonical in-root path and checked to be the root of a
// mount other than the one it covers.
package rootfs
