package rootfs

import (
	"github.com/berthrun/berth/internal/wire"
	"os"

	"golang.org/x/sys/unix"
)

// procOvermountable are the only procfs files a spec mount may cover: the
// ones lxcfs and similar tools virtualise. Covering anything else in a
// container's /proc (attr/, sys/, self/...) can disable security features
// that write there later (CVE-2019-16884, CVE-2019-19921).
var procOvermountable = map[string]bool{
	"/proc/cpuinfo":                true,
	"/proc/diskstats":              true,
	"/proc/loadavg":                true,
	"/proc/meminfo":                true,
	"/proc/slabinfo":               true,
	"/proc/stat":                   true,
	"/proc/swaps":                  true,
	"/proc/uptime":                 true,
	"/proc/pressure/cpu":           true,
	"/proc/pressure/io":            true,
	"/proc/pressure/memory":        true,
	"/proc/sys/kernel/ns_last_pid": true,
}

// checkDestination refuses destinations that resolved to the root, or into
// a procfs already mounted in the container, except the virtualisable files.
func checkDestination(t *tree, dst *os.File) error {
	// A destination that a symlink turned into the root itself would
	// cover the whole rootfs (an image's /dev -> /, say).
	if sameFile(dst, t.root) {
		return wire.Failed(wire.StepRfResolvesContainerRoot, nil)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(dst.Fd()), &st); err != nil {
		return wire.Failed(wire.StepRfStatfsDestination, err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return nil
	}
	path, err := t.pathOf(dst)
	if err != nil {
		return err
	}
	if !procOvermountable[path] {
		return wire.Failed(wire.StepRfRefusingMountOverProcfs, nil, path)
	}
	return nil
}

// sameFile reports whether two handles are the same file.
func sameFile(a, b *os.File) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(int(a.Fd()), &sa) != nil || unix.Fstat(int(b.Fd()), &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
