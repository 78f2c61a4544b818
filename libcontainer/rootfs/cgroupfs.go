package rootfs

import (
	"fmt"
	"path/filepath"
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

// v2Path is the container's cgroup on a pure v2 host, whichever name the
// caller filed it under.
func (c *cgroupSetup) v2Path() string {
	if p, ok := c.paths[unifiedName]; ok {
		return p
	}
	return c.paths[""]
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
