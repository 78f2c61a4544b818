package libcontainer

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestBootstrapMessage(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 5}},
		TimeOffsets: map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10, Nanosecs: 3}},
	}}
	tests := []struct {
		name string
		ns   []Namespace
		want []string
	}{
		{"new namespaces only", []Namespace{{Type: "pid"}, {Type: "mount"}},
			[]string{"clone=" + itoa(cloneFlags["pid"]|cloneFlags["mount"])}},
		{"joined and new", []Namespace{{Type: "network", Path: "/proc/1/ns/net"}, {Type: "uts"}},
			[]string{"join=network:/proc/1/ns/net", "clone=" + itoa(cloneFlags["uts"])}},
		{"user namespace carries maps", []Namespace{{Type: "user"}},
			[]string{"clone=" + itoa(cloneFlags["user"]), "uidmap=0 1000 10\n", "gidmap=0 2000 5\n"}},
		{"time namespace carries offsets", []Namespace{{Type: "time"}},
			[]string{"clone=" + itoa(cloneFlags["time"]), "timens=monotonic 10 3\n"}},
	}
	for _, tt := range tests {
		got := strings.Split(strings.TrimSuffix(string(bootstrapMessage(&Config{Spec: spec, Namespaces: tt.ns}, nil)), "\x00"), "\x00")
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: entries %q, want %q", tt.name, got, tt.want)
		}
	}
	// An exec pinned by execCPUAffinity.initial keeps that affinity; any
	// other process gets every CPU of its cpuset (no entry).
	for _, tt := range []struct {
		name string
		proc *specs.Process
		want []string
	}{
		{"exec with an initial affinity", &specs.Process{ExecCPUAffinity: &specs.CPUAffinity{Initial: "1"}},
			[]string{"clone=0", "affinity=keep"}},
		{"exec with a final affinity only", &specs.Process{ExecCPUAffinity: &specs.CPUAffinity{Final: "1"}},
			[]string{"clone=0"}},
		{"no affinity", &specs.Process{}, []string{"clone=0"}},
	} {
		s := *spec
		s.Process = tt.proc
		got := strings.Split(strings.TrimSuffix(string(bootstrapMessage(&Config{Spec: &s}, nil)), "\x00"), "\x00")
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: entries %q, want %q", tt.name, got, tt.want)
		}
	}
}

func itoa(n int) string { return pidString(n) }

// TestBootstrapHostSources: a create with a user and a mount namespace asks
// nsenter to open its bind sources from the host, in slot order; an exec
// (namespaces joined by path) or a container without a user namespace
// does not.
func TestBootstrapHostSources(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{}, Mounts: []specs.Mount{
		{Destination: "/a", Type: "bind", Source: "/vol/a", Options: []string{"rbind"}},
		{Destination: "/b", Type: "bind", Source: "/vol/b"},
	}}
	for _, tt := range []struct {
		name string
		ns   []Namespace
		want []string
	}{
		{"user and mount namespaces", []Namespace{{Type: "user"}, {Type: "mount"}}, []string{"hostsrc=1:/vol/a", "hostsrc=0:/vol/b"}},
		{"no user namespace", []Namespace{{Type: "mount"}}, nil},
		{"exec", []Namespace{{Type: "user", Path: "/proc/1/ns/user"}, {Type: "mount", Path: "/proc/1/ns/mnt"}}, nil},
	} {
		var got []string
		for _, e := range strings.Split(string(bootstrapMessage(&Config{Spec: spec, Rootfs: "/r", Namespaces: tt.ns}, nil)), "\x00") {
			if strings.HasPrefix(e, "hostsrc=") {
				got = append(got, e)
			}
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestBootstrapRootless: an unprivileged caller's user namespace asks for
// the map helpers, setgroups deny on a direct gid map, the dumpable
// window, and the early oom_score_adj; root's bootstrap has none of them.
func TestBootstrapRootless(t *testing.T) {
	adj := 300
	spec := &specs.Spec{Process: &specs.Process{OOMScoreAdj: &adj}, Linux: &specs.Linux{
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 10}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
	}}
	ns := []Namespace{{Type: "user"}}
	cfg := &Config{Spec: spec, Namespaces: ns, OOMScoreAdjEarly: true,
		idMaps: &idMapPlan{rootless: true, uidHelper: "/usr/bin/newuidmap", setgroupsDeny: true}}
	got := strings.Split(strings.TrimSuffix(string(bootstrapMessage(cfg, nil)), "\x00"), "\x00")
	want := []string{"clone=" + itoa(cloneFlags["user"]), "uidmap=0 1000 1\n1 100000 10\n", "gidmap=0 1000 1\n",
		"rootless=1", "uidhelper=/usr/bin/newuidmap", "setgroups=deny", "oomscoreadj=300"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rootless entries %q, want %q", got, want)
	}
	got = strings.Split(strings.TrimSuffix(string(bootstrapMessage(&Config{Spec: spec, Namespaces: ns}, nil)), "\x00"), "\x00")
	if len(got) != 3 {
		t.Errorf("root's entries %q: want clone and the two maps only", got)
	}
}
