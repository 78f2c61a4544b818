package libcontainer

import (
	"fmt"
	"testing"

	"github.com/berthrun/berth/internal/wire"
	"github.com/berthrun/berth/libcontainer/executor/ctest"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// decodeBoot is what nsenter's C reader (bootstrap.c, through ctest) reads
// of the bootstrap Go encodes for cfg: every test below is a round trip
// through the one C reader, not a check of Go's bytes against Go.
func decodeBoot(t *testing.T, cfg *Config) string {
	t.Helper()
	b := bootstrapMessage(cfg, nil)
	if err := wire.Check(&wire.Boot, b); err != nil {
		t.Fatalf("bootstrap the schema refuses: %v", err)
	}
	got, ok := ctest.Bootstrap(b)
	if !ok {
		t.Fatalf("C refused the bootstrap: %s", got)
	}
	return got
}

const noFlags = "cinit 0 affinity 0 setgroups 0 rootless 0\n"

func TestBootstrapMessage(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 5}},
		TimeOffsets: map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10, Nanosecs: 3}, "boottime": {Secs: -2}},
	}}
	for _, tt := range []struct {
		name string
		ns   []Namespace
		want string
	}{
		{"new namespaces only", []Namespace{{Type: "pid"}, {Type: "mount"}},
			fmt.Sprintf("clone %#x\n", cloneFlags["pid"]|cloneFlags["mount"]) + noFlags},
		{"joined and new", []Namespace{{Type: "network", Path: "/proc/1/ns/net"}, {Type: "uts"}},
			fmt.Sprintf("join %#x /proc/1/ns/net\nclone %#x\n", cloneFlags["network"], cloneFlags["uts"]) + noFlags},
		{"joins in order", []Namespace{{Type: "user", Path: "/u"}, {Type: "ipc", Path: "/i"}, {Type: "cgroup", Path: "/c"}, {Type: "time", Path: "/t"}},
			fmt.Sprintf("join %#x /u\njoin %#x /i\njoin %#x /c\njoin %#x /t\nclone 0\n",
				cloneFlags["user"], cloneFlags["ipc"], cloneFlags["cgroup"], cloneFlags["time"]) + noFlags},
		{"user namespace carries maps", []Namespace{{Type: "user"}},
			fmt.Sprintf("clone %#x\nuidmap 0 1000 10\n|\ngidmap 0 2000 5\n|\n", cloneFlags["user"]) + noFlags},
		{"time namespace carries offsets, in the clocks' order", []Namespace{{Type: "time"}},
			fmt.Sprintf("clone %#x\ntimens boottime -2 0\nmonotonic 10 3\n|\n", cloneFlags["time"]) + noFlags},
	} {
		if got := decodeBoot(t, &Config{Spec: spec, Namespaces: tt.ns}); got != tt.want {
			t.Errorf("%s: C read\n%s, want\n%s", tt.name, got, tt.want)
		}
	}
	// An exec pinned by execCPUAffinity.initial keeps that affinity; any
	// other process gets every CPU of its cpuset.
	for _, tt := range []struct {
		name string
		proc *specs.Process
		want string
	}{
		{"exec with an initial affinity", &specs.Process{ExecCPUAffinity: &specs.CPUAffinity{Initial: "1"}},
			"clone 0\ncinit 0 affinity 1 setgroups 0 rootless 0\n"},
		{"exec with a final affinity only", &specs.Process{ExecCPUAffinity: &specs.CPUAffinity{Final: "1"}}, "clone 0\n" + noFlags},
		{"no affinity", &specs.Process{}, "clone 0\n" + noFlags},
	} {
		s := *spec
		s.Process = tt.proc
		if got := decodeBoot(t, &Config{Spec: &s}); got != tt.want {
			t.Errorf("%s: C read %q, want %q", tt.name, got, tt.want)
		}
	}
	// A plan asks for the C init.
	got, _ := ctest.Bootstrap(bootstrapMessage(&Config{Spec: spec}, []byte{}))
	if want := "clone 0\ncinit 1 affinity 0 setgroups 0 rootless 0\n"; got != want {
		t.Errorf("with a plan: C read %q, want %q", got, want)
	}
}

// TestBootstrapHostSources: a create with a user and a mount namespace asks
// nsenter to open its bind sources from the host, in slot order; an exec
// (namespaces joined by path) or a container without a user namespace
// does not.
func TestBootstrapHostSources(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{UIDMappings: []specs.LinuxIDMapping{{Size: 1}}, GIDMappings: []specs.LinuxIDMapping{{Size: 1}}},
		Mounts: []specs.Mount{
			{Destination: "/a", Type: "bind", Source: "/vol/a", Options: []string{"rbind"}},
			{Destination: "/b", Type: "bind", Source: "/vol/b"},
		}}
	user, mount := cloneFlags["user"], cloneFlags["mount"]
	for _, tt := range []struct {
		name string
		ns   []Namespace
		want string
	}{
		{"user and mount namespaces", []Namespace{{Type: "user"}, {Type: "mount"}},
			fmt.Sprintf("clone %#x\nuidmap 0 0 1\n|\ngidmap 0 0 1\n|\nhostsrc 1 /vol/a\nhostsrc 0 /vol/b\n", user|mount) + noFlags},
		{"no user namespace", []Namespace{{Type: "mount"}}, fmt.Sprintf("clone %#x\n", mount) + noFlags},
		{"exec", []Namespace{{Type: "user", Path: "/proc/1/ns/user"}, {Type: "mount", Path: "/proc/1/ns/mnt"}},
			fmt.Sprintf("join %#x /proc/1/ns/user\njoin %#x /proc/1/ns/mnt\nclone 0\n", user, mount) + noFlags},
	} {
		if got := decodeBoot(t, &Config{Spec: spec, Rootfs: "/r", Namespaces: tt.ns}); got != tt.want {
			t.Errorf("%s: C read\n%s, want\n%s", tt.name, got, tt.want)
		}
	}
}

// TestBootstrapRootless: an unprivileged caller's user namespace asks for
// the map helpers, setgroups deny on a direct gid map, the dumpable
// window, and the early oom_score_adj; root's bootstrap has none of them.
func TestBootstrapRootless(t *testing.T) {
	adj := -300
	spec := &specs.Spec{Process: &specs.Process{OOMScoreAdj: &adj}, Linux: &specs.Linux{
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 10}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
	}}
	ns := []Namespace{{Type: "user"}}
	cfg := &Config{Spec: spec, Namespaces: ns, OOMScoreAdjEarly: true,
		idMaps: &idMapPlan{rootless: true, uidHelper: "/usr/bin/newuidmap", gidHelper: "/usr/bin/newgidmap", setgroupsDeny: true}}
	maps := fmt.Sprintf("clone %#x\nuidmap 0 1000 1\n1 100000 10\n|\ngidmap 0 1000 1\n|\n", cloneFlags["user"])
	want := maps + "uidhelper /usr/bin/newuidmap\ngidhelper /usr/bin/newgidmap\noomscoreadj -300\ncinit 0 affinity 0 setgroups 1 rootless 1\n"
	if got := decodeBoot(t, cfg); got != want {
		t.Errorf("rootless: C read\n%s, want\n%s", got, want)
	}
	if got := decodeBoot(t, &Config{Spec: spec, Namespaces: ns}); got != maps+noFlags {
		t.Errorf("root: C read\n%s, want the clone and the maps only", got)
	}
}
