package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berthrun/berth/internal/wire"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The C init's pid 1 can build the root itself (libcontainer/executor/
// crootfs.c) from a program compiled here: the steps of building a root,
// with every decision taken in Go, so that no Go runtime has to start
// inside the container. It is the only builder: Check refuses what it
// could not make.

// The program's records (wire.Rf*) are declared in internal/wire/schema.go.

// CSettings are the root's settings applied after pivot_root, besides the
// Plan itself.
type CSettings struct {
	Hostname, Domainname string
	Sysctl               map[string]string
	Cwd                  string
	// Bundle is the directory relative bind sources are taken from.
	Bundle string
	// CreateHooks: the createContainer hooks (a wire.Hooks message, nil for
	// none), run by the C hook runner after the parent's hooks, before
	// pivot_root, with the root as their cwd.
	CreateHooks []byte
	// HookState: the parent sends the hooks' state after hooks-done (the
	// C init runs createContainer or startContainer hooks).
	HookState bool
	// OwnMounts: the container has a mount namespace of its own. Without
	// one there is no root to build (mounting would change the runtime's
	// own mount table): as runc does, the process is only chrooted into
	// the rootfs and the mounts are ignored.
	OwnMounts bool
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

// CompileC returns the program for a plan Check accepted.
func CompileC(p *Plan, s *CSettings) []byte {
	w := &wire.RfWriter{}
	if !s.OwnMounts {
		w.Ctx("rootfs")
		compileHooks(w, s)
		w.Chroot(filepath.Clean(p.Root))
		compileSettings(w, s)
		return w.Bytes()
	}
	prop, _ := rootPropagation(p.Propagation)
	first := prop
	if first&unix.MS_UNBINDABLE != 0 {
		first = first&^unix.MS_UNBINDABLE | unix.MS_PRIVATE // see setHostRootPropagation
	}
	w.Ctx("rootfs")
	w.Propagation(uint64(first))
	if mayLeaveShared(prop) {
		w.ParentPrivate(filepath.Clean(p.Root))
	}
	w.Root(filepath.Clean(p.Root))
	srcs := HostSources(p, s.Bundle)
	for i := range p.Mounts {
		m := &p.Mounts[i]
		w.Ctx(fmt.Sprintf("rootfs: mounts[%d] destination %q", i, m.Destination))
		compileMount(w, p, i, s.Bundle, hostSourceSlot(srcs, i))
	}
	if needsDev(p.Mounts) {
		compileDev(w, p)
	}
	compileHooks(w, s)
	w.Ctx("rootfs")
	if p.NoPivot {
		w.MoveRoot()
	} else {
		w.Pivot()
	}
	compileSettings(w, s)
	compileFinish(w, p)
	return w.Bytes()
}

// compileMount writes mount m; slot is its source's place among the ones
// the host opens (HostSources), plus one, or 0.
func compileMount(w *wire.RfWriter, p *Plan, i int, bundle string, slot uint32) {
	m := &p.Mounts[i]
	o, _ := ParseOptions(m.Options)
	if m.Type == "bind" {
		o.Flags |= unix.MS_BIND
	}
	dest := filepath.Clean("/" + m.Destination)
	switch {
	case o.Flags&unix.MS_REMOUNT != 0:
		// remountExisting: the mount at dest changes its flags.
		w.Remount(uint64(o.Flags&^propagationFlags), uint64(o.Flags), uint64(o.ClearFlags), dest, m.Source, m.Type, o.Data)
	case o.TmpCopyUp:
		compileCopyUp(w, m, &o, dest)
	case m.Type == "bind" || o.Flags&unix.MS_BIND != 0:
		src := bindSource(m.Source, bundle)
		if rel, ok := inRootSource(p.Root, src); ok {
			w.BindInRoot(uint64(o.Flags&(unix.MS_BIND|unix.MS_REC)), uint64(o.Flags), uint64(o.ClearFlags), dest, rel, 0)
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
		flags := o.Flags &^ propagationFlags
		if readonlyLater(m, &o) {
			flags &^= unix.MS_RDONLY // RoMount in compileFinish
		}
		if needsOrdinaryDir(m.Type) {
			w.FSDir(uint64(flags), dest, src, m.Type, o.Data)
		} else {
			w.FS(uint64(flags), dest, src, m.Type, o.Data)
		}
	}
	afterMount(w, &o)
}

// compileCopyUp is mountTmpCopyUp's record: the tmpfs is mounted
// writable, filled, then given the options' per-mount flags (but a
// read-only one left for compileFinish, as for any tmpfs).
func compileCopyUp(w *wire.RfWriter, m *specs.Mount, o *Options, dest string) {
	set := o.Flags
	if readonlyLater(m, o) {
		set &^= unix.MS_RDONLY
	}
	src := m.Source
	if src == "" {
		src = m.Type
	}
	w.Copyup(uint64(set&^(perMountFlags|propagationFlags)), uint64(set&perMountFlags), uint64(o.ClearFlags), dest, src, m.Type, o.Data)
}

// bindRec: a bind of src onto dest, or of the host's clone in slot (1-based;
// 0: src is opened by the builder itself).
func bindRec(w *wire.RfWriter, o *Options, dest, src string, slot uint32) {
	w.Bind(uint64(o.Flags&(unix.MS_BIND|unix.MS_REC)), uint64(o.Flags), uint64(o.ClearFlags), dest, src, slot)
}

// afterMount adds the propagation changes and recursive attributes of o,
// which apply to the last mount made.
func afterMount(w *wire.RfWriter, o *Options) {
	for _, prop := range o.Propagation {
		w.MntProp(uint64(prop))
	}
	if o.hasRecAttrs() {
		w.MntAttr(o.RecAttrSet, o.RecAttrClr)
	}
}

// compileCgroup is mountCgroup's layout: on a cgroup2 host the unified
// hierarchy itself, else a tmpfs with a directory per hierarchy.
func compileCgroup(w *wire.RfWriter, p *Plan, o *Options, dest string, hostV2Below bool) {
	c := &cgroupSetup{ns: p.CgroupNS, paths: p.CgroupPaths, hostOpts: p.CgroupOptions, hostV2Below: hostV2Below}
	// Check made sure /sys/fs/cgroup can be read; without the host's
	// options, a hierarchy is mounted by its name (as mountHierarchy does).
	_ = c.load()
	if c.pureV2 && c.v2Layout() != "empty" {
		if c.v2Layout() == "cgroup2" {
			w.FS(uint64(o.Flags&^propagationFlags), dest, "cgroup2", "cgroup2", o.Data)
		} else {
			bindRec(w, &Options{Flags: o.Flags | unix.MS_BIND | unix.MS_REC, ClearFlags: o.ClearFlags}, dest, c.v2Path(), 0)
		}
		afterMount(w, o)
		return
	}
	w.CgTmpfs(uint64(o.Flags&^(propagationFlags|unix.MS_RDONLY)), dest)
	names := make([]string, 0, len(c.paths))
	for name := range c.paths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		compileHierarchy(w, c, o, name)
	}
	for _, l := range comountedLinks(names) {
		w.CgLink(l[0], l[1])
	}
	w.CgDone(uint64(o.Flags), uint64(o.ClearFlags))
	afterMount(w, o)
}

func compileHierarchy(w *wire.RfWriter, c *cgroupSetup, o *Options, name string) {
	flags := uint64(o.Flags &^ propagationFlags)
	switch {
	case !c.ns:
		w.CgBind(uint64(o.Flags), uint64(o.ClearFlags), name, c.paths[name])
	case name == unifiedName:
		w.CgFS(flags, name, "cgroup2", "")
	default:
		opts, ok := c.hostOpts[name]
		if !ok {
			opts = name
		}
		w.CgFS(flags, name, "cgroup", opts)
	}
}

// compileDev lists setupDev's nodes and links.
func compileDev(w *wire.RfWriter, p *Plan) {
	for _, d := range missingDefaults(p.Devices) {
		w.Ctx(fmt.Sprintf("rootfs: default device %q", d.Path))
		devRec(w, &d, p.BindDevices)
	}
	for i := range p.Devices {
		w.Ctx(fmt.Sprintf("rootfs: linux.devices[%d] %q", i, p.Devices[i].Path))
		devRec(w, &p.Devices[i], p.BindDevices)
	}
	w.Ctx("rootfs: /dev symlinks")
	kcore := uint32(0)
	if _, err := os.Lstat("/proc/kcore"); err == nil {
		kcore = 1
	}
	w.Devlinks(kcore)
}

func devRec(w *wire.RfWriter, d *specs.LinuxDevice, userNS bool) {
	typ, _ := deviceFileType(d.Type)
	mode, uid, gid := deviceModeOwner(d)
	var ns uint32
	if userNS {
		ns = 1
	}
	w.Dev(typ, uint32(d.Major), uint32(d.Minor), mode, uid, gid, ns, filepath.Clean("/"+d.Path))
}

// compileHooks: the point where the parent's hooks run (hooks-done), then
// the createContainer hooks, with their state, run by the C hook runner.
func compileHooks(w *wire.RfWriter, s *CSettings) {
	w.Hooks()
	if s.HookState {
		w.HookState()
	}
	if s.CreateHooks != nil {
		w.CreateHooks(s.CreateHooks)
	}
}

// compileSettings: setupRoot's hostname, domainname, sysctls and cwd.
func compileSettings(w *wire.RfWriter, s *CSettings) {
	if s.Hostname != "" {
		w.Ctx(fmt.Sprintf("hostname %q", s.Hostname))
		w.Hostname(s.Hostname)
	}
	if s.Domainname != "" {
		w.Ctx(fmt.Sprintf("domainname %q", s.Domainname))
		w.Domainname(s.Domainname)
	}
	keys := make([]string, 0, len(s.Sysctl))
	for k := range s.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Ctx(fmt.Sprintf("linux.sysctl[%q]", k))
		w.Sysctl(strings.ReplaceAll(k, ".", "/"), s.Sysctl[k])
	}
	if s.OwnMounts {
		// As root, so that a non-root process user meets no permission
		// surprise; not in the runtime's own mount namespace.
		w.Ctx(fmt.Sprintf("process.cwd %q", s.Cwd))
		w.Mkcwd(s.Cwd)
	}
}

// compileFinish: the root's last steps: read-only root, masked and read-only paths and
// final propagation.
func compileFinish(w *wire.RfWriter, p *Plan) {
	for _, i := range readonlyLaterMounts(p.Mounts) {
		w.Ctx(fmt.Sprintf("rootfs: mounts[%d] destination %q", i, p.Mounts[i].Destination))
		w.RoMount(filepath.Clean("/" + p.Mounts[i].Destination))
	}
	if p.Readonly {
		w.Ctx("rootfs: root.readonly")
		w.RoRoot()
	}
	for _, i := range uniqueMasks(p.MaskedPaths) {
		w.Ctx(fmt.Sprintf("rootfs: maskedPaths[%d] %q", i, p.MaskedPaths[i]))
		w.Mask(p.MaskedPaths[i])
	}
	for i, path := range p.ReadonlyPaths {
		w.Ctx(fmt.Sprintf("rootfs: readonlyPaths[%d] %q", i, path))
		w.RoPath(path)
	}
	flags, _ := rootPropagation(p.Propagation)
	if flags&(unix.MS_SHARED|unix.MS_PRIVATE|unix.MS_UNBINDABLE) != 0 {
		w.Ctx("rootfs")
		w.FinalProp(uint64(flags))
	}
}
