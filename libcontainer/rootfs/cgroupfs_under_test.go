package rootfs

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestHostCgroup2Under: a cgroup mount lands on the host's cgroup2 mount
// only through an earlier recursive bind that maps it to /sys/fs/cgroup,
// and no later mount over it.
func TestHostCgroup2Under(t *testing.T) {
	cg := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"}
	sysRbind := specs.Mount{Destination: "/sys", Type: "none", Source: "/sys", Options: []string{"rbind", "nosuid", "ro"}}
	for _, c := range []struct {
		name   string
		mounts []specs.Mount
		want   bool
	}{
		{"rootless /sys rbind", []specs.Mount{sysRbind, cg}, true},
		{"sysfs mounted", []specs.Mount{{Destination: "/sys", Type: "sysfs", Source: "sysfs"}, cg}, false},
		{"plain bind, not recursive", []specs.Mount{{Destination: "/sys", Type: "bind", Source: "/sys"}, cg}, false},
		{"rbind of another dir", []specs.Mount{{Destination: "/sys", Type: "bind", Source: "/srv/sys", Options: []string{"rbind"}}, cg}, false},
		{"rbind of /sys/fs", []specs.Mount{{Destination: "/sys/fs", Type: "bind", Source: "/sys/fs", Options: []string{"rbind"}}, cg}, true},
		{"tmpfs over it after", []specs.Mount{sysRbind, {Destination: "/sys/fs", Type: "tmpfs", Source: "tmpfs"}, cg}, false},
		{"rbind of / at /", []specs.Mount{{Destination: "/", Type: "bind", Source: "/", Options: []string{"rbind"}}, cg}, true},
		{"nothing before", []specs.Mount{cg}, false},
	} {
		if got := hostCgroup2Under(c.mounts, len(c.mounts)-1); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
