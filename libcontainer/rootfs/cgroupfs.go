package rootfs

import (
	"fmt"
	"github.com/berthrun/berth/internal/wire"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroupSetup is what a "cgroup" mount needs to know about the host; it is
// gathered before the first cgroup mount, while /proc is still the host's.
type cgroupSetup struct {
	ns    bool              // the container has its own cgroup namespace
	paths map[string]string // hierarchy mount name -> host dir of the container's cgroup
	// hostOpts maps a v1 hierarchy mount name to its cgroup mount options
	// (HostCgroupOptions): from the plan, else read by load when needed.
	hostOpts map[string]string
	// hostV2Below: the destination of the cgroup mount being made is the
	// host's cgroup2 mount, carried into the root by an earlier recursive
	// bind (a rootless config's /sys rbind, which it needs for want of a
	// network namespace to mount sysfs in). The kernel refuses to mount
	// the same filesystem on the root of its own mount (EBUSY), so the
	// container's cgroup is bound there instead, as runc falls back to.
	hostV2Below bool
	// Filled in lazily by load.
	loaded bool
	pureV2 bool
}

// hostCgroup2Under reports whether mounts[i] (a cgroup mount) lands on the
// host's /sys/fs/cgroup through an earlier recursive bind: on a pure v2
// host that is a cgroup2 mount already (cgroupSetup.hostV2Below).
func hostCgroup2Under(mounts []specs.Mount, i int) bool {
	dest := filepath.Clean("/" + mounts[i].Destination)
	covered := false
	for j := 0; j < i; j++ {
		m := &mounts[j]
		d := filepath.Clean("/" + m.Destination)
		if d != dest && !strings.HasPrefix(dest, d+"/") && d != "/" {
			continue
		}
		o, err := ParseOptions(m.Options)
		if err != nil {
			continue
		}
		bind := m.Type == "bind" || o.Flags&unix.MS_BIND != 0
		// A later mount at or above dest hides what an earlier bind
		// brought; the last one decides.
		covered = bind && o.Flags&unix.MS_REC != 0 && filepath.IsAbs(m.Source) &&
			filepath.Join(m.Source, strings.TrimPrefix(dest, d)) == "/sys/fs/cgroup"
	}
	return covered
}

// v2Layout is what a cgroup mount on a pure v2 host becomes: a fresh
// cgroup2 (the container's cgroup namespace's view), a bind of the
// container's cgroup, or, for a rootless container that got no cgroup, an
// empty tmpfs (the v1 layout with no hierarchy), as on v1: nothing of the
// host's tree is shown.
func (c *cgroupSetup) v2Layout() string {
	switch {
	case c.ns && !c.hostV2Below:
		return "cgroup2"
	case c.v2Path() != "":
		return "bind"
	default:
		return "empty"
	}
}

// unifiedName is the hierarchy name of cgroup2 on a hybrid host.
const unifiedName = "unified"

func (c *cgroupSetup) load() error {
	if c.loaded {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return fmt.Errorf("statfs /sys/fs/cgroup: %w", err)
	}
	c.pureV2 = st.Type == unix.CGROUP2_SUPER_MAGIC
	// Only v1 hierarchies mounted afresh, in a cgroup namespace, use the
	// host's options; binds do not, and reading the mount table is one of
	// the slower steps of a container's start.
	if !c.pureV2 && c.ns && c.hostOpts == nil {
		opts, err := HostCgroupOptions()
		if err != nil {
			return err
		}
		c.hostOpts = opts
	}
	c.loaded = true
	return nil
}

// HostCgroupOptions reads from the mount table the options of each v1
// cgroup hierarchy, by its mount name: "cpu,cpuacct" -> "cpu,cpuacct",
// "systemd" -> "name=systemd". A cgroup namespace mounts them again with
// these (Plan.CgroupOptions).
func HostCgroupOptions() (map[string]string, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup"))
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	opts := make(map[string]string, len(mounts))
	for _, m := range mounts {
		opts[filepath.Base(m.Mountpoint)] = hierarchyOptions(m.VFSOptions)
	}
	return opts, nil
}

// hierarchyOptions keeps the options that identify a v1 hierarchy
// (controllers, name=, xattr...) from its superblock options. The mount
// mode comes from the spec, and release_agent is no business of ours.
func hierarchyOptions(super string) string {
	var keep []string
	for _, o := range strings.Split(super, ",") {
		if o == "rw" || o == "ro" || o == "" || strings.HasPrefix(o, "release_agent=") {
			continue
		}
		keep = append(keep, o)
	}
	return strings.Join(keep, ",")
}

// mountCgroup mounts the container's view of its cgroups at m.Destination.
func (t *tree) mountCgroup(m *specs.Mount, o *Options, c *cgroupSetup) error {
	if err := c.load(); err != nil {
		return err
	}
	dst, err := t.mkdirAll(m.Destination)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := checkDestination(t, dst); err != nil {
		return err
	}
	if c.pureV2 && c.v2Layout() != "empty" {
		return t.mountCgroup2(dst, o, c)
	}
	return t.mountCgroupV1(dst, o, c)
}

// mountCgroup2 mounts the unified hierarchy directly: a fresh cgroup2 in a
// cgroup namespace, otherwise a bind of the container's own cgroup.
func (t *tree) mountCgroup2(dst *os.File, o *Options, c *cgroupSetup) error {
	if c.v2Layout() == "cgroup2" {
		if err := mountOn(dst, "cgroup2", "cgroup2", o.Flags&^propagationFlags, o.Data); err != nil {
			return err
		}
	} else {
		reopen := func() (*os.File, error) { return t.reopenMount(dst) }
		if err := bindCgroup(dst, c.v2Path(), reopen, o); err != nil {
			return err
		}
	}
	return t.applyPropagation(dst, o)
}

// v2Path is the container's cgroup on a pure v2 host, whichever name the
// caller filed it under.
func (c *cgroupSetup) v2Path() string {
	if p, ok := c.paths[unifiedName]; ok {
		return p
	}
	return c.paths[""]
}

// mountCgroupV1 builds the v1 (or hybrid) layout: a tmpfs holding one
// directory per hierarchy, plus symlinks for co-mounted controllers.
func (t *tree) mountCgroupV1(dst *os.File, o *Options, c *cgroupSetup) error {
	// The tmpfs stays writable until the hierarchies are in place.
	tmpfsFlags := o.Flags &^ (propagationFlags | unix.MS_RDONLY)
	if err := mountOn(dst, "tmpfs", "tmpfs", tmpfsFlags, "mode=755"); err != nil {
		return err
	}
	top, err := t.reopenMount(dst)
	if err != nil {
		return err
	}
	defer top.Close()
	names := make([]string, 0, len(c.paths))
	for name := range c.paths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := c.mountHierarchy(top, name, o); err != nil {
			return fmt.Errorf("cgroup %q: %w", name, err)
		}
	}
	if err := linkComounted(top, names); err != nil {
		return err
	}
	if o.Flags&unix.MS_RDONLY != 0 {
		if err := bindRemount(top, o); err != nil {
			return err
		}
	}
	return applyAfterMount(top, o)
}

// mountHierarchy mounts one hierarchy in the fresh tmpfs top.
func (c *cgroupSetup) mountHierarchy(top *os.File, name string, o *Options) error {
	if name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
		return fmt.Errorf("invalid hierarchy name")
	}
	if err := unix.Mkdirat(int(top.Fd()), name, 0o755); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	sub, err := openDirAt(top, name)
	if err != nil {
		return err
	}
	defer sub.Close()
	if !c.ns {
		// The tmpfs is ours and nothing else can see it yet, so looking
		// the new mount up again by name cannot be raced.
		reopen := func() (*os.File, error) { return openDirAt(top, name) }
		if err := bindCgroup(sub, c.paths[name], reopen, o); err != nil {
			return err
		}
	} else if name == unifiedName {
		if err := mountOn(sub, "cgroup2", "cgroup2", o.Flags&^propagationFlags, ""); err != nil {
			return err
		}
	} else {
		opts, ok := c.hostOpts[name]
		if !ok {
			opts = name
		}
		if err := mountOn(sub, "cgroup", "cgroup", o.Flags&^propagationFlags, opts); err != nil {
			return err
		}
	}
	return nil
}

// bindCgroup binds the host directory of the container's cgroup onto dst
// and gives the new mount, found again with reopen, the mount's flags
// (ro, nosuid...).
func bindCgroup(dst *os.File, hostDir string, reopen func() (*os.File, error), o *Options) error {
	if hostDir == "" {
		return fmt.Errorf("no host cgroup path")
	}
	src, err := openSource(hostDir)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := unix.Mount(procFd(src), procFd(dst), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return wire.Failed(wire.StepBind, err, hostDir)
	}
	have, err := mountFlagsOf(src)
	if err != nil {
		return err
	}
	if !needsRemount(have, o) {
		return nil
	}
	mnt, err := reopen()
	if err != nil {
		return err
	}
	defer mnt.Close()
	return bindRemount(mnt, o)
}

// openDirAt opens the directory name in dir without following symlinks.
func openDirAt(dir *os.File, name string) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", name, err)
	}
	return os.NewFile(uintptr(fd), dir.Name()+"/"+name), nil
}

// linkComounted adds comountedLinks in the cgroup tmpfs top.
func linkComounted(top *os.File, names []string) error {
	for _, l := range comountedLinks(names) {
		if err := unix.Symlinkat(l[1], int(top.Fd()), l[0]); err != nil && err != unix.EEXIST {
			return wire.Failed(wire.StepSymlink, err, l[0], l[1])
		}
	}
	return nil
}

// comountedLinks lists, for a hierarchy holding several controllers like
// "cpu,cpuacct", one symlink per controller ("cpu" -> "cpu,cpuacct"), as
// hosts have and as tools looking for /sys/fs/cgroup/cpu expect: pairs of
// name and target.
func comountedLinks(names []string) [][2]string {
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var links [][2]string
	for _, n := range names {
		parts := strings.Split(n, ",")
		if len(parts) < 2 {
			continue
		}
		for _, p := range parts {
			if p == "" || have[p] || strings.ContainsAny(p, "=/") {
				continue
			}
			links = append(links, [2]string{p, n})
			have[p] = true
		}
	}
	return links
}
