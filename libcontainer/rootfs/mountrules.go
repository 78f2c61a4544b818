package rootfs

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The rules CompileC applies to the mounts: which flags change what, which
// mounts go read-only only at the end, the root's propagation, which masks
// repeat. They were the Go builder's and are the C program's decisions now.

// propagationFlags are the MS_* bits that only change propagation; mount(2)
// refuses them together with a real mount, so they are applied afterwards.
const propagationFlags = unix.MS_SHARED | unix.MS_SLAVE | unix.MS_PRIVATE | unix.MS_UNBINDABLE

// readonlyLater reports whether a read-only mount is mounted writable and
// made read-only only at the end (compileFinish), as runc does for a tmpfs and for the
// filesystem on /dev: the device nodes and links are made in /dev, the
// prestart and createRuntime hooks may write into them, and later mounts
// may need a mount point made in them.
func readonlyLater(m *specs.Mount, o *Options) bool {
	if o.Flags&unix.MS_RDONLY == 0 || o.Flags&(unix.MS_BIND|unix.MS_REMOUNT) != 0 || m.Type == "bind" {
		return false
	}
	return m.Type == "tmpfs" || filepath.Clean("/"+m.Destination) == "/dev"
}

// readonlyLaterMounts lists the indices of the mounts readonlyLater
// leaves for compileFinish, in the config's order.
func readonlyLaterMounts(mounts []specs.Mount) []int {
	var out []int
	for i := range mounts {
		o, err := ParseOptions(mounts[i].Options)
		if err == nil && readonlyLater(&mounts[i], &o) {
			out = append(out, i)
		}
	}
	return out
}

// needsOrdinaryDir reports whether a filesystem of type fstype may only be
// mounted on a directory of the image, never through a symlink there (as
// runc refuses it). procfs and sysfs are where the kernel's knobs are, and
// linux.maskedPaths and readonlyPaths name them at /proc and /sys: an image
// whose /proc or /sys is a symlink moves the real filesystem to wherever the
// link points, out from under the paths the config protects (and the image
// can swap the link for a directory later). crootfs.c refuses the symlink.
func needsOrdinaryDir(fstype string) bool {
	return fstype == "proc" || fstype == "sysfs"
}

// rootPropagation returns the flags linux.rootfsPropagation asks for.
// The default, rslave, keeps host mounts flowing in while nothing the
// container mounts can flow back out to the host.
func rootPropagation(s string) (uintptr, error) {
	if s == "" {
		return unix.MS_SLAVE | unix.MS_REC, nil
	}
	if f, ok := propagationOptions[s]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("linux.rootfsPropagation %q: unknown propagation", s)
}

// mayLeaveShared reports whether a mount of the new namespace may still be
// shared after the first propagation change (flags). A recursive slave, private or
// unbindable change leaves none, and then the ParentPrivate step has nothing to
// do: skipping it saves reading the mount table (~0.5-1 ms of a container's
// start on the development VM).
func mayLeaveShared(flags uintptr) bool {
	return flags&unix.MS_REC == 0 || flags&unix.MS_SHARED != 0
}

// perMountFlags are the MS_* flags a bind remount (MS_REMOUNT|MS_BIND)
// changes on one mount without touching the filesystem.
const perMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NODIRATIME | unix.MS_NOSYMFOLLOW | atimeFlags

// uniqueMasks returns the indices of paths without the repeats of a path
// (compared lexically, as runc does).
func uniqueMasks(paths []string) []int {
	seen := make(map[string]bool, len(paths))
	out := make([]int, 0, len(paths))
	for i, p := range paths {
		clean := filepath.Clean("/" + p)
		if !seen[clean] {
			seen[clean] = true
			out = append(out, i)
		}
	}
	return out
}
