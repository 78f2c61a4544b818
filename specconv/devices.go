package specconv

import (
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceTypes are the device types of mknod(1): char, block, unbuffered
// char, and fifo.
var deviceTypes = map[string]bool{"c": true, "b": true, "u": true, "p": true}

// checkDevices checks linux.devices. Paths must stay under /dev once
// cleaned: a device node is created with the container's privileges in its
// root, and /dev/../etc/shadow is not a place for one.
func checkDevices(devices []specs.LinuxDevice) error {
	seen := make(map[string]int, len(devices))
	for i, d := range devices {
		path := filepath.Clean(d.Path)
		if !filepath.IsAbs(d.Path) || !strings.HasPrefix(path, "/dev/") {
			return badValue(at("linux.devices", i, "path"), d.Path, "must be an absolute path under /dev")
		}
		if j, dup := seen[path]; dup {
			return badValue(at("linux.devices", i, "path"), d.Path, "duplicate (already at %s)", at("linux.devices", j))
		}
		seen[path] = i
		if !deviceTypes[d.Type] {
			return badValue(at("linux.devices", i, "type"), d.Type, "unknown device type (want c, b, u or p)")
		}
		// A fifo (p) has no device number; the others need a valid one.
		if d.Type == "p" {
			continue
		}
		if d.Major < 0 {
			return badValue(at("linux.devices", i, "major"), d.Major, "must not be negative")
		}
		if d.Minor < 0 {
			return badValue(at("linux.devices", i, "minor"), d.Minor, "must not be negative")
		}
	}
	return nil
}
