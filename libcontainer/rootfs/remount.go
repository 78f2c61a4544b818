package rootfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// perMountFlags are the MS_* flags a bind remount (MS_REMOUNT|MS_BIND)
// changes on one mount without touching the filesystem.
const perMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NODIRATIME | unix.MS_NOSYMFOLLOW | atimeFlags

// statfs(2) f_flags bits (ST_*), which differ from MS_* for some flags.
const (
	stRdonly      = 0x1
	stNosuid      = 0x2
	stNodev       = 0x4
	stNoexec      = 0x8
	stNoatime     = 0x400
	stNodiratime  = 0x800
	stRelatime    = 0x1000
	stNosymfollow = 0x2000
)

var statfsToMount = []struct {
	st uint64
	ms uintptr
}{
	{stRdonly, unix.MS_RDONLY},
	{stNosuid, unix.MS_NOSUID},
	{stNodev, unix.MS_NODEV},
	{stNoexec, unix.MS_NOEXEC},
	{stNoatime, unix.MS_NOATIME},
	{stNodiratime, unix.MS_NODIRATIME},
	{stRelatime, unix.MS_RELATIME},
	{stNosymfollow, unix.MS_NOSYMFOLLOW},
}

// mountFlagsOf returns the per-mount flags of the mount f is on.
func mountFlagsOf(f *os.File) (uintptr, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return 0, fmt.Errorf("statfs %q: %w", f.Name(), err)
	}
	return statfsFlags(uint64(st.Flags)), nil
}

func statfsFlags(st uint64) uintptr {
	var ms uintptr
	for _, m := range statfsToMount {
		if st&m.st != 0 {
			ms |= m.ms
		}
	}
	if ms&(unix.MS_NOATIME|unix.MS_RELATIME) == 0 {
		// Neither noatime nor relatime: the mount is strictatime, which a
		// remount must say explicitly or the kernel picks relatime.
		ms |= unix.MS_STRICTATIME
	}
	return ms
}

// remountFlags computes the flags for a bind remount of a mount that
// currently has the per-mount flags have. MS_REMOUNT replaces all of them,
// so any flag the options do not mention is carried over: dropping nosuid
// or nodev by accident would weaken the mount, and in a user namespace the
// kernel refuses to clear the flags it locked (EPERM).
func remountFlags(have uintptr, o *Options) uintptr {
	mentioned := o.Flags | o.ClearFlags
	if mentioned&atimeFlags != 0 {
		mentioned |= atimeFlags
	}
	return o.Flags&perMountFlags | have&perMountFlags&^mentioned
}

// needsRemount reports whether the options change a bind mount's flags
// relative to its source's, which bind itself cannot do.
func needsRemount(have uintptr, o *Options) bool {
	return remountFlags(have, o) != have&perMountFlags
}

// bindRemount applies the options' per-mount flags to the mount whose root
// is mnt.
func bindRemount(mnt *os.File, o *Options) error {
	have, err := mountFlagsOf(mnt)
	if err != nil {
		return err
	}
	flags := unix.MS_REMOUNT | unix.MS_BIND | remountFlags(have, o)
	if err := unix.Mount("", procFd(mnt), "", flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", flagNames(flags), err)
	}
	return nil
}

// flagNames spells the interesting flags of a remount for error messages.
func flagNames(flags uintptr) string {
	names := ""
	for _, n := range []struct {
		f    uintptr
		name string
	}{
		{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"},
		{unix.MS_NOEXEC, "noexec"}, {unix.MS_NOATIME, "noatime"}, {unix.MS_RELATIME, "relatime"},
		{unix.MS_STRICTATIME, "strictatime"}, {unix.MS_NODIRATIME, "nodiratime"},
		{unix.MS_NOSYMFOLLOW, "nosymfollow"},
	} {
		if flags&n.f != 0 {
			if names != "" {
				names += ","
			}
			names += n.name
		}
	}
	if names == "" {
		return "rw"
	}
	return names
}
