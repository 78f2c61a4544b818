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
	// NoFreshProcfs: the init may not be allowed to mount a procfs
	// instance, the only one crootfs.c writes sysctls through.
	NoFreshProcfs bool
}

// CheckC says why p cannot be built by the C program, or nil if it can.
// It reads the rootfs only to keep the two builders' results alike: a path
// with a symlink on it goes to Go. The C code resolves every path safely
// itself, dangling links as Go does (crootfs.c's canonical): the image can
// change after this check. BERTH_TEST_CROOTFS_SYMLINKS=1
// skips the symlink check, so that the tests can hand the C code a
// hostile rootfs as if it had been changed in between.
func CheckC(p *Plan, s *CSettings) error {
	switch {
	case os.Getenv("BERTH_NO_CROOTFS") == "1":
		return errors.New("BERTH_NO_CROOTFS=1")
	case s.CreateContainerHooks:
		return errors.New("createContainer hooks")
	case s.NoFreshProcfs && len(s.Sysctl) > 0:
		return errors.New("sysctls without a procfs of its own (a user namespace and the host's pid namespace)")
	case p.NoPivot:
		return errors.New("no pivot_root")
	case !filepath.IsAbs(p.Root):
		return fmt.Errorf("root %q is not absolute", p.Root)
	case !kernelHasOpenat2():
		return errors.New("no openat2 in this kernel")
	}
	// A shared or non-recursive propagation can leave the rootfs's parent
	// mount shared, which Prepare finds in the mount table and makes
	// private (makeParentPrivate) so that pivot_root works.
	if prop, err := rootPropagation(p.Propagation); err != nil || mayLeaveShared(prop) {
		return fmt.Errorf("linux.rootfsPropagation %q", p.Propagation)
	}
	for i := range p.Mounts {
		if err := checkMountC(p, &p.Mounts[i], s.Bundle); err != nil {
			return fmt.Errorf("mounts[%d]: %w", i, err)
		}
	}
	if err := checkDevicesC(p); err != nil {
		return err
	}
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
	case dest == "/" || strings.HasPrefix(dest, "/proc/"):
		return fmt.Errorf("destination %q", dest)
	case o.TmpCopyUp || o.Flags&unix.MS_REMOUNT != 0:
		return errors.New("tmpcopyup or remount")
	case symlinkOnPath(p.Root, dest) && os.Getenv("BERTH_TEST_CROOTFS_SYMLINKS") != "1":
		return fmt.Errorf("a symlink on the path of %q", dest)
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
	src := bindSource(m.Source, bundle)
	if src == p.Root || strings.HasPrefix(src, p.Root+"/") {
		return errors.New("bind source in the rootfs")
	}
	return nil
}

// bindSource makes a relative bind source absolute: it names a path in
// the bundle, the init's working directory.
func bindSource(src, bundle string) string {
	if filepath.IsAbs(src) {
		return filepath.Clean(src)
	}
	return filepath.Join(bundle, src)
}

// symlinkOnPath reports whether a component of path, as far as it exists
// under root, is a symlink.
func symlinkOnPath(root, path string) bool {
	cur := root
	for _, part := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		cur += "/" + part
		var st unix.Stat_t
		if unix.Lstat(cur, &st) != nil {
			return false
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return true
		}
	}
	return false
}

// checkDevicesC: the C code makes device nodes only in a /dev the spec
// mounts afresh (nothing of the image is there) and at plain paths in it.
func checkDevicesC(p *Plan) error {
	if !needsDev(p.Mounts) {
		return nil
	}
	if !freshDev(p.Mounts) {
		return errors.New("/dev is the image's")
	}
	for i, d := range p.Devices {
		if _, err := deviceFileType(d.Type); err != nil {
			return fmt.Errorf("linux.devices[%d]: %w", i, err)
		}
		if c := filepath.Clean("/" + d.Path); !strings.HasPrefix(c, "/dev/") || c != d.Path {
			return fmt.Errorf("linux.devices[%d] path %q", i, d.Path)
		}
	}
	return nil
}

// freshDev reports whether a filesystem (not a bind) is mounted on /dev.
func freshDev(mounts []specs.Mount) bool {
	for _, m := range mounts {
		if filepath.Clean("/"+m.Destination) == "/dev" && m.Type != "bind" {
			return true
		}
	}
	return false
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
	first, _ := rootPropagation(p.Propagation)
	if first&unix.MS_UNBINDABLE != 0 {
		first = first&^unix.MS_UNBINDABLE | unix.MS_PRIVATE // see setHostRootPropagation
	}
	w.Str(wire.RfCtx, "rootfs")
	w.U64(wire.RfPropagation, uint64(first))
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
	w.Rec(wire.RfPivot, nil)
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
	case m.Type == "bind" || o.Flags&unix.MS_BIND != 0:
		bindRec(w, &o, dest, bindSource(m.Source, bundle), slot)
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
	w.Rec(wire.RfDev, data.Str(filepath.Clean(d.Path)))
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
	w.Str(wire.RfCtx, fmt.Sprintf("process.cwd %q", s.Cwd))
	w.Str(wire.RfMkcwd, s.Cwd)
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
