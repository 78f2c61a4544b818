package rootfs

import (
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
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
		return wire.Failed(wire.StepRfRemount, err, flagNames(flags))
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

// A spec bind mount's own flags follow runc (and "mount --bind -o"): when
// its options name any flag at all, the mount ends with exactly the
// per-mount flags they set, the others cleared, whatever the source had;
// options that name none leave the source's flags as they are. The atime
// mode is the exception: options that name no atime flag keep the
// source's, as a bind remount without one does in the kernel.

// lockableFlags are the per-mount flags the kernel locks (MNT_LOCK_*) on
// the mounts a mount namespace of a less privileged user namespace
// inherits: a remount there may not clear them nor change the atime mode,
// and fails with EPERM if it tries.
const lockableFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NODIRATIME | atimeFlags

// namesBindFlags reports whether a bind mount's options name any flag (set
// or cleared), which makes the mount's flags theirs.
func namesBindFlags(o *Options) bool {
	return o.Flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 || o.ClearFlags != 0
}

// bindFlags is the per-mount flags of a bind whose options name some flag,
// on a source with the flags have.
func bindFlags(have uintptr, o *Options) uintptr {
	const atimeAll = atimeFlags | unix.MS_NODIRATIME
	want := o.Flags & perMountFlags
	switch {
	case want&atimeAll == 0:
		want |= have & atimeAll
	case want&atimeFlags == 0:
		want |= unix.MS_RELATIME // nodiratime alone: the kernel's default mode
	}
	return want
}

// lockedBindFlags is bindFlags for a source whose lockable flags cannot be
// dropped: they are kept, and options that explicitly clear one of them, or
// ask for another atime mode, are refused rather than silently not met.
func lockedBindFlags(have uintptr, o *Options) (uintptr, error) {
	if c := have & o.ClearFlags & lockableFlags; c != 0 {
		return 0, fmt.Errorf("cannot clear locked flags %s", flagNames(c))
	}
	const atimeAll = atimeFlags | unix.MS_NODIRATIME
	if a := o.Flags & atimeAll; a != 0 && a != have&atimeAll {
		return 0, fmt.Errorf("cannot change locked atime flags %s", flagNames(have&atimeAll))
	}
	return bindFlags(have, o) | have&lockableFlags, nil
}

// setBindFlags gives the new bind mount mnt, whose source had the flags
// have, the flags its options ask for (namesBindFlags). locked says the
// source's lockable flags must be kept without trying: a source the host
// opened for a container with a user namespace is a clone the kernel did
// not lock, but a mount namespace copied into that user namespace would
// have had them locked, and the container must not get more than that.
// Otherwise the flags are tried as asked, and kept only where the kernel
// refuses (EPERM).
func setBindFlags(mnt *os.File, have uintptr, o *Options, locked bool) error {
	flags := bindFlags(have, o)
	var err error
	if locked {
		if flags, err = lockedBindFlags(have, o); err != nil {
			return err
		}
	}
	if flags == have&perMountFlags {
		return nil // the bind has them already
	}
	err = unix.Mount("", procFd(mnt), "", unix.MS_REMOUNT|unix.MS_BIND|flags, "")
	if !errors.Is(err, unix.EPERM) || locked {
		if err != nil {
			return wire.Failed(wire.StepRfRemount, err, flagNames(flags))
		}
		return nil
	}
	kept, lerr := lockedBindFlags(have, o)
	if lerr != nil {
		return fmt.Errorf("%w: remount %s: %w", lerr, flagNames(flags), err)
	}
	if err := unix.Mount("", procFd(mnt), "", unix.MS_REMOUNT|unix.MS_BIND|kept, ""); err != nil {
		return wire.Failed(wire.StepRfRemountLockedFlagsKept, err, flagNames(kept))
	}
	return nil
}

// bindNeedsRemount reports whether setBindFlags has work to do, so that
// the new mount is only looked up again when it does.
func bindNeedsRemount(have uintptr, o *Options, locked bool) bool {
	if !namesBindFlags(o) {
		return false
	}
	flags := bindFlags(have, o)
	if locked {
		var err error
		if flags, err = lockedBindFlags(have, o); err != nil {
			return true // setBindFlags reports it
		}
	}
	return flags != have&perMountFlags
}
