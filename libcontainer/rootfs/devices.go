package rootfs

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes every container gets (config-linux.md,
// "Default Devices"), unless linux.devices lists the same path.
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// defaultDeviceMode is the mode of a node whose spec gives none.
const defaultDeviceMode = 0o666

// needsDev reports whether /dev is ours to populate: not when the spec
// binds a host directory there (then it is the host's, as-is).
func needsDev(mounts []specs.Mount) bool {
	for _, m := range mounts {
		if filepath.Clean("/"+m.Destination) != "/dev" {
			continue
		}
		o, err := ParseOptions(m.Options)
		if m.Type == "bind" || (err == nil && o.Flags&unix.MS_BIND != 0) {
			return false
		}
	}
	return true
}

// missingDefaults returns the default devices that devices does not list.
func missingDefaults(devices []specs.LinuxDevice) []specs.LinuxDevice {
	listed := map[string]bool{}
	for _, d := range devices {
		listed[filepath.Clean("/"+d.Path)] = true
	}
	var missing []specs.LinuxDevice
	for _, d := range defaultDevices {
		if !listed[d.Path] {
			missing = append(missing, d)
		}
	}
	return missing
}

// deviceFileType maps the spec's device type to S_IFMT bits.
func deviceFileType(typ string) (uint32, error) {
	switch typ {
	case "c", "u":
		return unix.S_IFCHR, nil
	case "b":
		return unix.S_IFBLK, nil
	case "p":
		return unix.S_IFIFO, nil
	}
	return 0, fmt.Errorf("unknown device type %q", typ)
}

// deviceModeOwner is the node's permission bits and owner, with the
// defaults for what the spec leaves out (mode 0666, root).
func deviceModeOwner(d *specs.LinuxDevice) (mode, uid, gid uint32) {
	mode = defaultDeviceMode
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	if d.UID != nil {
		uid = *d.UID
	}
	if d.GID != nil {
		gid = *d.GID
	}
	return mode, uid, gid
}
