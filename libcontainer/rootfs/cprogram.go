package rootfs

import (
	"errors"
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/berthrun/berth/internal/tlv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The C init's pid 1 can build the root itself (libcontainer/nsenter/
// crootfs.c) from a program compiled here: the steps of Prepare, Enter and
// Finish with every decision taken in Go, so that no Go runtime has to start
// inside the container. Configs the program does not cover, refused by
// CheckC, are built by the Go code as before.

// The program's records (wire.Rf*) are declared in internal/wire/schema.go.

// CSettings are the root's settings applied after pivot_root, besides the
// Plan itself.
type CSettings struct {
	Hostname, Domainname string
	Sysctl               map[string]string
	Cwd                  string
	// Bundle is the directory relative bind sources are taken from.
	Bundle string
	// CreateContainerHooks: the config has createContainer hooks, which run
	// in Go between the mounts and pivot_root.
	CreateContainerHooks bool
	// OwnMounts: the container has a mount namespace of its own. Without
	// one there is no root to build (mounting would change the runtime's
	// own mount table): as runc does, the process is only chrooted into
	// the rootfs and the mounts are ignored.
	OwnMounts bool
}

// CheckC says why p cannot be built by the C program, or nil if it can.
// It never reads the rootfs: the C code resolves every path inside the
// root itself (openat2 RESOLVE_IN_ROOT), symlinks of the image and dangling
// ones as Go does (crootfs.c's canonical), whatever the image is by then.
func CheckC(p *Plan, s *CSettings) error {
	switch {
	case os.Getenv("BERTH_NO_CROOTFS") == "1":
		return errors.New("BERTH_NO_CROOTFS=1")
	case s.CreateContainerHooks:
		return errors.New("createContainer hooks")
	case !filepath.IsAbs(p.Root):
		return fmt.Errorf("root %q is not absolute", p.Root)
	case !kernelHasOpenat2():
		return errors.New("no openat2 in this kernel")
	}
	if _, err := rootPropagation(p.Propagation); err != nil {
		return fmt.Errorf("linux.rootfsPropagation %q", p.Propagation) // Go reports it
	}
	if !s.OwnMounts {
		return checkSysctlC(s) // nothing is mounted
	}
	for i := range p.Mounts {
		if err := checkMountC(p, &p.Mounts[i], s.Bundle); err != nil {
			return fmt.Errorf("mounts[%d]: %w", i, err)
		}
	}
	if err := checkDevicesC(p); err != nil {
		return err
	}
	return checkSysctlC(s)
}

func checkSysctlC(s *CSettings) error {
	for key := range s.Sysctl {
		if strings.ContainsAny(key, "/\x00") || key == "" {
			return fmt.Errorf("sysctl %q", key)
		}
	}
	return nil
}

func checkMountC(p *Plan, m *specs.Mount, bundle string) error {
	o, err := ParseOptions(m.Options)
	if err != nil {
		return err // Go reports it
	}
	dest := filepath.Clean("/" + m.Destination)
	switch {
	case dest == "/":
		return fmt.Errorf("destination %q", dest)
	case o.TmpCopyUp && m.Type != "tmpfs":
		return errors.New("tmpcopyup on a mount that is no tmpfs") // Go reports it
	case o.Flags&unix.MS_REMOUNT != 0:
		return nil // no bind source to check: the mount exists
	case m.Type == "cgroup" && o.Flags&unix.MS_BIND == 0:
		var st unix.Statfs_t
		if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
			return fmt.Errorf("statfs /sys/fs/cgroup: %w", err)
		}
	}
	if m.Type != "bind" && o.Flags&unix.MS_BIND == 0 {
		if m.Type == "" {
			return errors.New("no type")
		}
		return nil
	}
	if m.Source == "" {
		return errors.New("bind without a source")
	}
	return nil
}

// inRootSource returns the in-root path of a bind source inside the
// rootfs: the image's to shape, so it is resolved inside the root like a
// destination (a symlink there must not pull a host path in).
func inRootSource(root, src string) (string, bool) {
	root = filepath.Clean(root)
	if src != root && !strings.HasPrefix(src, root+"/") {
		return "", false
	}
	return filepath.Clean("/" + strings.TrimPrefix(src, root)), true
}

// bindSource makes a relative bind source absolute: it names a path in
// the bundle, the init's working directory.
func bindSource(src, bundle string) string {
	if filepath.IsAbs(src) {
		return filepath.Clean(src)
	}
	return filepath.Join(bundle, src)
}

// checkDevicesC: a device of a type the spec does not know is the Go
// builder's to report.
func checkDevicesC(p *Plan) error {
	if !needsDev(p.Mounts) {
		return nil
	}
	for i, d := range p.Devices {
		if _, err := deviceFileType(d.Type); err != nil {
			return fmt.Errorf("linux.devices[%d]: %w", i, err)
		}
	}
	return nil
}

var openat2Probe = sync.OnceValue(func() bool {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT}
	fd, err := unix.Openat2(unix.AT_FDCWD, "/", &how)
	if err == nil {
		unix.Close(fd)
	}
	return !errors.Is(err, unix.ENOSYS)
})

func kernelHasOpenat2() bool { return openat2Probe() }

// CompileC returns the program for a plan CheckC accepted.
func CompileC(p *Plan, s *CSettings) []byte {
	w := &tlv.Writer{}
	if !s.OwnMounts {
		w.Str(wire.RfCtx, "rootfs")
		w.Rec(wire.RfHooks, nil)
		w.Str(wire.RfChroot, filepath.Clean(p.Root))
		compileSettings(w, s)
		return w.B
	}
	prop, _ := rootPropagation(p.Propagation)
	first := prop
	if first&unix.MS_UNBINDABLE != 0 {
		first = first&^unix.MS_UNBINDABLE | unix.MS_PRIVATE // see setHostRootPropagation
	}
	w.Str(wire.RfCtx, "rootfs")
	w.U64(wire.RfPropagation, uint64(first))
	if mayLeaveShared(prop) {
		w.Str(wire.RfParentPrivate, filepath.Clean(p.Root))
	}
	w.Str(wire.RfRoot, filepath.Clean(p.Root))
	srcs := HostSources(p, s.Bundle)
	for i := range p.Mounts {
		m := &p.Mounts[i]
		w.Str(wire.RfCtx, fmt.Sprintf("rootfs: mounts[%d] destination %q", i, m.Destination))
		compileMount(w, p, i, s.Bundle, hostSourceSlot(srcs, i))
	}
	if needsDev(p.Mounts) {
		compileDev(w, p)
	}
	w.Rec(wire.RfHooks, nil)
	w.Str(wire.RfCtx, "rootfs")
	if p.NoPivot {
		w.Rec(wire.RfMoveRoot, nil)
	} else {
		w.Rec(wire.RfPivot, nil)
	}
	compileSettings(w, s)
	compileFinish(w, p)
	return w.B
}

// compileMount writes mount m; slot is its source's place among the ones
// the host opens (HostSources), plus one, or 0.
func compileMount(w *tlv.Writer, p *Plan, i int, bundle string, slot uint32) {
	m := &p.Mounts[i]
	o, _ := ParseOptions(m.Options)
	if m.Type == "bind" {
		o.Flags |= unix.MS_BIND
	}
	dest := filepath.Clean("/" + m.Destination)
	switch {
	case o.Flags&unix.MS_REMOUNT != 0:
		// remountExisting: the mount at dest changes its flags.
		d := tlv.Data{}.U64(uint64(o.Flags&^propagationFlags), uint64(o.Flags), uint64(o.ClearFlags))
		w.Rec(wire.RfRemount, d.Str(dest, m.Source, m.Type, o.Data))
	case o.TmpCopyUp:
		compileCopyUp(w, m, &o, dest)
	case m.Type == "bind" || o.Flags&unix.MS_BIND != 0:
		src := bindSource(m.Source, bundle)
		if rel, ok := inRootSource(p.Root, src); ok {
			d := tlv.Data{}.U64(uint64(o.Flags&(unix.MS_BIND|unix.MS_REC)), uint64(o.Flags), uint64(o.ClearFlags))
			w.Rec(wire.RfBindInRoot, d.Str(dest, rel).U32(0))
			break
		}
		bindRec(w, &o, dest, src, slot)
	case m.Type == "cgroup":
		compileCgroup(w, p, &o, dest, hostCgroup2Under(p.Mounts, i))
		return // it applies its own propagation
	default:
		src := m.Source
		if src == "" {
			src = m.Type
		}
		tag := wire.RfFS
		if needsOrdinaryDir(m.Type) {
			tag = wire.RfFSDir
		}
		flags := o.Flags &^ propagationFlags
		if readonlyLater(m, &o) {
			flags &^= unix.MS_RDONLY // wire.RfRoMount in compileFinish
		}
		w.Rec(tag, tlv.Data{}.U64(uint64(flags)).Str(dest, src, m.Type, o.Data))
	}
	afterMount(w, &o)
}

// compileCopyUp is mountTmpCopyUp's record: the tmpfs is mounted
// writable, filled, then given the options' per-mount flags (but a
// read-only one left for compileFinish, as for any tmpfs).
func compileCopyUp(w *tlv.Writer, m *specs.Mount, o *Options, dest string) {
	set := o.Flags
	if readonlyLater(m, o) {
		set &^= unix.MS_RDONLY
	}
	src := m.Source
	if src == "" {
		src = m.Type
	}
	d := tlv.Data{}.U64(uint64(set&^(perMountFlags|propagationFlags)), uint64(set&perMountFlags), uint64(o.ClearFlags))
	w.Rec(wire.RfCopyup, d.Str(dest, src, m.Type, o.Data))
}

// bindRec: a bind of src onto dest, or of the host's clone in slot (1-based;
// 0: src is opened by the builder itself).
func bindRec(w *tlv.Writer, o *Options, dest, src string, slot uint32) {
	d := tlv.Data{}.U64(uint64(o.Flags&(unix.MS_BIND|unix.MS_REC)), uint64(o.Flags), uint64(o.ClearFlags))
	w.Rec(wire.RfBind, d.Str(dest, src).U32(slot))
}

// afterMount adds the propagation changes and recursive attributes of o,
// which apply to the last mount made.
func afterMount(w *tlv.Writer, o *Options) {
	for _, prop := range o.Propagation {
		w.U64(wire.RfMntProp, uint64(prop))
	}
	if o.hasRecAttrs() {
		w.U64(wire.RfMntAttr, o.RecAttrSet, o.RecAttrClr)
	}
}

// compileCgroup is mountCgroup's layout: on a cgroup2 host the unified
// hierarchy itself, else a tmpfs with a directory per hierarchy.
func compileCgroup(w *tlv.Writer, p *Plan, o *Options, dest string, hostV2Below bool) {
	c := &cgroupSetup{ns: p.CgroupNS, paths: p.CgroupPaths, hostOpts: p.CgroupOptions, hostV2Below: hostV2Below}
	// CheckC made sure /sys/fs/cgroup can be read; without the host's
	// options, a hierarchy is mounted by its name (as mountHierarchy does).
	_ = c.load()
	if c.pureV2 && c.v2Layout() != "empty" {
		if c.v2Layout() == "cgroup2" {
			w.Rec(wire.RfFS, tlv.Data{}.U64(uint64(o.Flags&^propagationFlags)).Str(dest, "cgroup2", "cgroup2", o.Data))
		} else {
			bindRec(w, &Options{Flags: o.Flags | unix.MS_BIND | unix.MS_REC, ClearFlags: o.ClearFlags}, dest, c.v2Path(), 0)
		}
		afterMount(w, o)
		return
	}
	w.Rec(wire.RfCgTmpfs, tlv.Data{}.U64(uint64(o.Flags&^(propagationFlags|unix.MS_RDONLY))).Str(dest))
	names := make([]string, 0, len(c.paths))
	for name := range c.paths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		compileHierarchy(w, c, o, name)
	}
	for _, l := range comountedLinks(names) {
		w.Rec(wire.RfCgLink, tlv.Data{}.Str(l[0], l[1]))
	}
	w.Rec(wire.RfCgDone, tlv.Data{}.U64(uint64(o.Flags), uint64(o.ClearFlags)))
	afterMount(w, o)
}

func compileHierarchy(w *tlv.Writer, c *cgroupSetup, o *Options, name string) {
	flags := tlv.Data{}.U64(uint64(o.Flags &^ propagationFlags))
	switch {
	case !c.ns:
		w.Rec(wire.RfCgBind, tlv.Data{}.U64(uint64(o.Flags), uint64(o.ClearFlags)).Str(name, c.paths[name]))
	case name == unifiedName:
		w.Rec(wire.RfCgFS, flags.Str(name, "cgroup2", ""))
	default:
		opts, ok := c.hostOpts[name]
		if !ok {
			opts = name
		}
		w.Rec(wire.RfCgFS, flags.Str(name, "cgroup", opts))
	}
}

// compileDev lists setupDev's nodes and links.
func compileDev(w *tlv.Writer, p *Plan) {
	for _, d := range missingDefaults(p.Devices) {
		w.Str(wire.RfCtx, fmt.Sprintf("rootfs: default device %q", d.Path))
		devRec(w, &d, p.BindDevices)
	}
	for i := range p.Devices {
		w.Str(wire.RfCtx, fmt.Sprintf("rootfs: linux.devices[%d] %q", i, p.Devices[i].Path))
		devRec(w, &p.Devices[i], p.BindDevices)
	}
	w.Str(wire.RfCtx, "rootfs: /dev symlinks")
	kcore := uint32(0)
	if _, err := os.Lstat("/proc/kcore"); err == nil {
		kcore = 1
	}
	w.U32(wire.RfDevlinks, kcore)
}

func devRec(w *tlv.Writer, d *specs.LinuxDevice, userNS bool) {
	typ, _ := deviceFileType(d.Type)
	mode, uid, gid := deviceModeOwner(d)
	var ns uint32
	if userNS {
		ns = 1
	}
	data := tlv.Data{}.U32(typ, uint32(d.Major), uint32(d.Minor), mode, uid, gid, ns)
	w.Rec(wire.RfDev, data.Str(filepath.Clean("/"+d.Path)))
}

// compileSettings: setupRoot's hostname, domainname, sysctls and cwd.
func compileSettings(w *tlv.Writer, s *CSettings) {
	if s.Hostname != "" {
		w.Str(wire.RfCtx, fmt.Sprintf("hostname %q", s.Hostname))
		w.Str(wire.RfHostname, s.Hostname)
	}
	if s.Domainname != "" {
		w.Str(wire.RfCtx, fmt.Sprintf("domainname %q", s.Domainname))
		w.Str(wire.RfDomainname, s.Domainname)
	}
	keys := make([]string, 0, len(s.Sysctl))
	for k := range s.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Str(wire.RfCtx, fmt.Sprintf("linux.sysctl[%q]", k))
		w.Rec(wire.RfSysctl, tlv.Data{}.Str(strings.ReplaceAll(k, ".", "/"), s.Sysctl[k]))
	}
	if s.OwnMounts {
		// As root, so that a non-root process user meets no permission
		// surprise; not in the runtime's own mount namespace.
		w.Str(wire.RfCtx, fmt.Sprintf("process.cwd %q", s.Cwd))
		w.Str(wire.RfMkcwd, s.Cwd)
	}
}

// compileFinish: Finish's read-only root, masked and read-only paths and
// final propagation.
func compileFinish(w *tlv.Writer, p *Plan) {
	for _, i := range readonlyLaterMounts(p.Mounts) {
		w.Str(wire.RfCtx, fmt.Sprintf("rootfs: mounts[%d] destination %q", i, p.Mounts[i].Destination))
		w.Str(wire.RfRoMount, filepath.Clean("/"+p.Mounts[i].Destination))
	}
	if p.Readonly {
		w.Str(wire.RfCtx, "rootfs: root.readonly")
		w.Rec(wire.RfRoRoot, nil)
	}
	for _, i := range uniqueMasks(p.MaskedPaths) {
		w.Str(wire.RfCtx, fmt.Sprintf("rootfs: maskedPaths[%d] %q", i, p.MaskedPaths[i]))
		w.Str(wire.RfMask, p.MaskedPaths[i])
	}
	for i, path := range p.ReadonlyPaths {
		w.Str(wire.RfCtx, fmt.Sprintf("rootfs: readonlyPaths[%d] %q", i, path))
		w.Str(wire.RfRoPath, path)
	}
	flags, _ := rootPropagation(p.Propagation)
	if flags&(unix.MS_SHARED|unix.MS_PRIVATE|unix.MS_UNBINDABLE) != 0 {
		w.Str(wire.RfCtx, "rootfs")
		w.U64(wire.RfFinalProp, uint64(flags))
	}
}
