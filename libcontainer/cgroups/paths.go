package cgroups

import (
	"os"
	"path/filepath"

	"github.com/opencontainers/cgroups"
)

// v1Subsystems are the hierarchies the cgroupfs v1 manager of
// opencontainers/cgroups places a container in (fs.subsystems); on a hybrid
// host "" (the cgroup2 mount) comes last. TestRelativePathsMatchLibrary
// keeps the list in step with the library.
var v1Subsystems = []string{
	"cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb",
	"net_cls", "net_prio", "perf_event", "freezer", "rdma", "name=systemd", "misc",
}

// relativePaths is what the library's fs.NewManager works out for a
// relative cgroupsPath (below berth's own cgroup on each hierarchy), with
// /proc/self/cgroup read once where the library reads it once per
// hierarchy. ok is false where it cannot give the same answer; the library
// then works it out, errors included.
func relativePaths(path string) (paths map[string]string, ok bool) {
	own, err := cgroups.ParseCgroupFile("/proc/self/cgroup")
	if err != nil {
		return nil, false
	}
	names := v1Subsystems
	if cgroups.IsCgroup2HybridMode() {
		names = append(names[:len(names):len(names)], "")
	}
	inner := cleanRelative(path)
	paths = make(map[string]string, len(names))
	for _, name := range names {
		dir, err := ownDir(own, name)
		switch {
		case cgroups.IsNotFound(err) && name != "devices": // the library refuses to go on without devices
			continue
		case err != nil:
			return nil, false
		}
		paths[name] = filepath.Join(dir, inner)
	}
	return paths, true
}

// ownDir is the library's GetOwnCgroupPath(name) from a parsed
// /proc/self/cgroup: our own cgroup's directory on that hierarchy, as
// mounted here (a nested runtime sees host paths in /proc/self/cgroup,
// relative to the mount's root).
func ownDir(own map[string]string, name string) (string, error) {
	cg, ok := own[name]
	if !ok {
		cg, ok = own["name="+name]
	}
	if !ok {
		return "", cgroups.NewNotFoundError(name)
	}
	if name == "" {
		return "/sys/fs/cgroup/unified", nil
	}
	mnt, root, err := cgroups.FindCgroupMountpointAndRoot("", name)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, cg)
	if err != nil {
		return "", err
	}
	return filepath.Join(mnt, rel), nil
}

// cleanRelative cleans a relative cgroup path as the library does:
// "../../x" is "x", nothing climbs out.
func cleanRelative(path string) string {
	if path == "" {
		return ""
	}
	p, _ := filepath.Rel(string(os.PathSeparator), filepath.Clean(string(os.PathSeparator)+path))
	return p
}

// Prewarm reads the host's cgroup mounts into the library's cache (New
// needs them), so that a caller with time to spare, such as create while it
// parses the config, takes the read off New's path.
func Prewarm() {
	if !cgroups.IsCgroup2UnifiedMode() {
		cgroups.FindCgroupMountpointAndRoot("", "devices") //nolint:errcheck // New reports errors
	}
}
