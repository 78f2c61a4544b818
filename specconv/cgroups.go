package specconv

import (
	"strings"
)

// checkCgroupsPath checks linux.cgroupsPath. An empty path is fine: the
// cgroup manager derives one from the container id.
func checkCgroupsPath(path string, systemd bool) error {
	if path == "" {
		return nil
	}
	if systemd {
		return checkSystemdCgroupsPath(path)
	}
	if escapesRoot(path) {
		return badValue("linux.cgroupsPath", path, "escapes the cgroup root through \"..\"")
	}
	return nil
}

// checkSystemdCgroupsPath checks the "slice:prefix:name" form that the
// systemd driver turns into the unit <prefix>-<name>.scope in <slice>.
// An empty slice means the default one.
func checkSystemdCgroupsPath(path string) error {
	parts := strings.Split(path, ":")
	if len(parts) != 3 {
		return badValue("linux.cgroupsPath", path,
			"with --systemd-cgroup, want \"slice:prefix:name\" (e.g. \"system.slice:berth:mybox\")")
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	switch {
	case slice != "" && (!strings.HasSuffix(slice, ".slice") || strings.Contains(slice, "/")):
		return badValue("linux.cgroupsPath", path, "slice %q is not a systemd slice name (want e.g. \"system.slice\")", slice)
	case name == "":
		return badValue("linux.cgroupsPath", path, "empty name (want \"slice:prefix:name\")")
	case strings.Contains(prefix, "/") || strings.Contains(name, "/"):
		return badValue("linux.cgroupsPath", path, "prefix and name cannot contain \"/\" (they make a unit name)")
	}
	return nil
}

// escapesRoot reports whether walking path from the cgroup root ever goes
// above it. filepath.Clean is not enough: it turns "/../x" into "/x", but
// the cgroup manager joins the path to a mount point first, and
// "/sys/fs/cgroup" + "/../x" is /sys/fs/x.
func escapesRoot(path string) bool {
	depth := 0
	for _, part := range strings.Split(path, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
