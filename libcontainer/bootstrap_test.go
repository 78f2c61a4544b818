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
