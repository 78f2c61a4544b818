package rootfs

import (
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// propagationFlags are the MS_* bits that only change propagation; mount(2)
// refuses them together with a real mount, so they are applied afterwards.
const propagationFlags = unix.MS_SHARED | unix.MS_SLAVE | unix.MS_PRIVATE | unix.MS_UNBINDABLE

// mountOne performs one spec mount inside the root. hostFd, when not 0,
// is the bind source as the host opened it (HostSources).
func (t *tree) mountOne(m *specs.Mount, cg *cgroupSetup, hostFd int) error {
	o, err := ParseOptions(m.Options)
	if err != nil {
		return err
	}
	if m.Type == "bind" {
		o.Flags |= unix.MS_BIND
	}
	if filepath.Clean("/"+m.Destination) == "/" {
		return fmt.Errorf("mounting over the container root is not supported")
	}
	if o.TmpCopyUp && m.Type != "tmpfs" {
		return fmt.Errorf("tmpcopyup only applies to tmpfs mounts, not %q", m.Type)
	}
	switch {
	case o.Flags&unix.MS_REMOUNT != 0:
		return t.remountExisting(m, &o)
	case o.Flags&unix.MS_BIND != 0:
		return t.bindMount(m, &o, hostFd)
	case m.Type == "cgroup":
		return t.mountCgroup(m, &o, cg)
	case m.Type == "":
		return fmt.Errorf("mount type is empty")
	default:
		return t.mountFS(m, &o)
	}
}

// bindMount binds a host path (or one relative to the current directory,
// the bundle) onto the destination, then applies the flags bind ignores.
func (t *tree) bindMount(m *specs.Mount, o *Options, hostFd int) error {
	src, err := t.bindSourceHandle(m.Source, hostFd)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := t.makeDestination(m.Destination, src)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := checkDestination(t, dst); err != nil {
		return err
	}
	if hostFd > 0 {
		if err := attachHostSource(hostFd, dst); err != nil {
			return wire.Failed(wire.StepBind, err, m.Source)
		}
	} else if err := unix.Mount(procFd(src), procFd(dst), "", o.Flags&(unix.MS_BIND|unix.MS_REC), ""); err != nil {
		return wire.Failed(wire.StepBind, err, m.Source)
	}
	have, err := mountFlagsOf(src)
	if err != nil {
		return err
	}
	// A source the host opened is treated as locked (setBindFlags says why).
	locked := hostFd > 0
	remount := bindNeedsRemount(have, o, locked)
	if !remount && len(o.Propagation) == 0 && !o.hasRecAttrs() {
		return nil
	}
	mnt, err := t.reopenMount(dst)
	if err != nil {
		return err
	}
	defer mnt.Close()
	if remount {
		if err := setBindFlags(mnt, have, o, locked); err != nil {
			return err
		}
	}
	return applyAfterMount(mnt, o)
}

// bindSourceHandle is the bind source: a copy of the host's handle when
// the host opened it, else what openBindSource finds.
func (t *tree) bindSourceHandle(source string, hostFd int) (*os.File, error) {
	if hostFd <= 0 {
		return t.openBindSource(source)
	}
	fd, err := unix.FcntlInt(uintptr(hostFd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, fmt.Errorf("source %q opened by the host: %w", source, err)
	}
	return os.NewFile(uintptr(fd), source), nil
}

// openBindSource opens a bind mount's source. A source inside the rootfs
// is the image's to shape, so it is resolved inside the root like a
// destination: a symlink there must not pull a host path in.
func (t *tree) openBindSource(path string) (*os.File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", path, err)
	}
	if rel, err := t.relative(abs); err == nil {
		h, err := t.open(rel)
		if err != nil {
			return nil, fmt.Errorf("open source %q in the rootfs: %w", path, err)
		}
		return h, nil
	}
	return openSource(path)
}

// openSource opens a host path given by the caller (not the image),
// following symlinks.
func openSource(path string) (*os.File, error) {
	if path == "" {
		return nil, fmt.Errorf("bind mount without a source")
	}
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, wire.Failed(wire.StepOpenSource, err, path)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// makeDestination finds or creates a bind destination of the same kind as
// its source: a directory for a directory, a file for anything else.
func (t *tree) makeDestination(dest string, src *os.File) (*os.File, error) {
	typ, err := fileType(src)
	if err != nil {
		return nil, err
	}
	if typ == unix.S_IFDIR {
		return t.mkdirAll(dest)
	}
	return t.mkfile(dest)
}

// mountFS mounts a filesystem (tmpfs, proc, sysfs, mqueue, devpts, or any
// other type with its data) on a directory.
func (t *tree) mountFS(m *specs.Mount, o *Options) error {
	var dst *os.File
	var err error
	oo := *o
	switch {
	case needsOrdinaryDir(m.Type):
		dst, err = t.ordinaryDir(m.Destination, m.Type)
	case m.Type == "tmpfs":
		dst, oo.Data, err = t.tmpfsDir(m.Destination, o.Data)
	default:
		dst, err = t.mkdirAll(m.Destination)
	}
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := checkDestination(t, dst); err != nil {
		return err
	}
	if readonlyLater(m, o) {
		oo.Flags &^= unix.MS_RDONLY
	}
	if o.TmpCopyUp {
		return t.mountTmpCopyUp(m, &oo, dst)
	}
	if err := mountOn(dst, m.Source, m.Type, oo.Flags&^propagationFlags, oo.Data); err != nil {
		return err
	}
	return t.applyPropagation(dst, &oo)
}

// tmpfsDir returns the directory a tmpfs goes on and the tmpfs's options.
// As with runc, a tmpfs on a directory the image has takes that
// directory's mode (a "mode=" of the options comes after it and wins); on
// a directory made for it, the tmpfs keeps the kernel's default, 1777.
func (t *tree) tmpfsDir(path, data string) (*os.File, string, error) {
	if h, err := t.open(path); err == nil {
		var st unix.Stat_t
		if err := unix.Fstat(int(h.Fd()), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return h, joinData(fmt.Sprintf("mode=%04o", st.Mode&0o7777), data), nil
		}
		h.Close()
	}
	h, err := t.mkdirAll(path)
	return h, data, err
}

// joinData puts mount data options one after the other.
func joinData(first, rest string) string {
	if rest == "" {
		return first
	}
	return first + "," + rest
}

// readonlyLater reports whether a read-only mount is mounted writable and
// made read-only only by Finish, as runc does for a tmpfs and for the
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
// leaves for Finish, in the config's order.
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

// remountReadonly makes the mount on top of the in-root path dest
// read-only, keeping its other flags.
func (t *tree) remountReadonly(dest string) error {
	h, err := t.open(dest)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := t.needProcfs(); err != nil {
		return err
	}
	return bindRemount(h, &Options{Flags: unix.MS_RDONLY})
}

// needsOrdinaryDir reports whether a filesystem of type fstype may only be
// mounted on a directory of the image, never through a symlink there (as
// runc refuses it). procfs and sysfs are where the kernel's knobs are, and
// linux.maskedPaths and readonlyPaths name them at /proc and /sys: an image
// whose /proc or /sys is a symlink moves the real filesystem to wherever the
// link points, out from under the paths the config protects (and the image
// can swap the link for a directory later). Both builders ask this.
func needsOrdinaryDir(fstype string) bool {
	return fstype == "proc" || fstype == "sysfs"
}

// ordinaryDir returns a handle of the directory path, made if missing, whose
// last component is a directory of the image and not a symlink to one. The
// parents are resolved in the root as for any destination; the last
// component is opened with O_NOFOLLOW, so what was checked is what gets
// mounted on.
func (t *tree) ordinaryDir(path, fstype string) (*os.File, error) {
	clean := filepath.Clean("/" + path)
	parent, err := t.mkdirAll(filepath.Dir(clean))
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	name := filepath.Base(clean)
	open := func() (int, error) {
		return unix.Openat(int(parent.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	fd, err := open()
	if errors.Is(err, unix.ENOENT) {
		if err := unix.Mkdirat(int(parent.Fd()), name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, wire.Failed(wire.StepMkdir, err, clean)
		}
		fd, err = open()
	}
	if err != nil {
		return nil, wire.Failed(wire.StepOpen, err, clean)
	}
	h := os.NewFile(uintptr(fd), clean)
	typ, err := fileType(h)
	if err == nil && typ != unix.S_IFDIR {
		what := "not a directory"
		if typ == unix.S_IFLNK {
			what = "a symlink"
		}
		err = wire.Failed(wire.StepOrdinaryDir, nil, fstype, clean, what)
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// mountOn mounts a new filesystem on the directory dst.
func mountOn(dst *os.File, source, fstype string, flags uintptr, data string) error {
	if source == "" {
		source = fstype
	}
	if err := unix.Mount(source, procFd(dst), fstype, flags, data); err != nil {
		return wire.Failed(wire.StepMountFS, err, fstype)
	}
	return nil
}

// remountExisting handles the "remount" option: the destination is an
// existing mount whose flags (and for a filesystem, data) change.
func (t *tree) remountExisting(m *specs.Mount, o *Options) error {
	dst, err := t.open(m.Destination)
	if err != nil {
		return err
	}
	defer dst.Close()
	flags := o.Flags &^ propagationFlags
	if flags&unix.MS_BIND != 0 {
		have, err := mountFlagsOf(dst)
		if err != nil {
			return err
		}
		flags = unix.MS_REMOUNT | unix.MS_BIND | remountFlags(have, o)
	}
	if err := unix.Mount(m.Source, procFd(dst), m.Type, flags, o.Data); err != nil {
		return fmt.Errorf("remount: %w", err)
	}
	return applyAfterMount(dst, o)
}

// applyAfterMount applies the changes that need an existing mount: its
// propagation, then the recursive attributes of its whole tree.
func applyAfterMount(mnt *os.File, o *Options) error {
	for _, p := range o.Propagation {
		if err := unix.Mount("", procFd(mnt), "", p, ""); err != nil {
			return wire.Failed(wire.StepRfSetPropagation, err, propagationName(p))
		}
	}
	if !o.hasRecAttrs() {
		return nil
	}
	attr := unix.MountAttr{Attr_set: o.RecAttrSet, Attr_clr: o.RecAttrClr}
	err := unix.MountSetattr(int(mnt.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr)
	if err != nil {
		return wire.Failed(wire.StepRfMountSetattrRecursiveAttributes, err)
	}
	return nil
}

// applyPropagation applies the propagation and recursive attributes of o to
// the mount just made at dst (looked up again: dst is the directory under it).
func (t *tree) applyPropagation(dst *os.File, o *Options) error {
	if len(o.Propagation) == 0 && !o.hasRecAttrs() {
		return nil
	}
	mnt, err := t.reopenMount(dst)
	if err != nil {
		return err
	}
	defer mnt.Close()
	return applyAfterMount(mnt, o)
}
