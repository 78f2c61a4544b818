package libcontainer

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestRootfsInC: the C builder's job carries the root's settings and the
// mount plan out of the config.
func TestRootfsInC(t *testing.T) {
	hook := specs.Hook{Path: "/bin/true"}
	base := func() *Config {
		return &Config{ID: "c1", Rootfs: "/r", Bundle: "/b", Namespaces: []Namespace{{Type: specs.MountNamespace}},
			Spec: &specs.Spec{
				Hostname: "h", Domainname: "d",
				Process: &specs.Process{Args: []string{"sh", "-c", "true"}, Env: []string{"PATH=/bin"}, Cwd: "/w"},
				Root:    &specs.Root{Readonly: true},
				Mounts:  []specs.Mount{{Destination: "/proc", Type: "proc"}},
				Linux:   &specs.Linux{Sysctl: map[string]string{"kernel.msgmax": "9"}, MaskedPaths: []string{"/proc/kcore"}},
			}}
	}
	tests := []struct {
		name  string
		edit  func(*Config)
		check func(*crootfsJob) bool
	}{
		{"root settings", nil, func(j *crootfsJob) bool {
			s := j.settings
			return s.OwnMounts && s.Hostname == "h" && s.Domainname == "d" && s.Cwd == "/w" && s.Bundle == "/b" &&
				s.Sysctl["kernel.msgmax"] == "9" && !s.HookState && s.CreateHooks == nil
		}},
		{"rootfs plan", nil, func(j *crootfsJob) bool {
			return j.plan.Root == "/r" && j.plan.Readonly && len(j.plan.Mounts) == 1 &&
				j.plan.MaskedPaths[0] == "/proc/kcore"
		}},
		{"createContainer hooks only", func(c *Config) {
			c.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{hook}, StartContainer: []specs.Hook{hook, hook}}
		}, func(j *crootfsJob) bool {
			// One hook: the startContainer ones are the init's plan's.
			return j.settings.HookState && bytes.Equal(j.settings.CreateHooks, hookMessage("createContainer", []specs.Hook{hook}, false))
		}},
		{"joined mount namespace", func(c *Config) {
			c.Namespaces = []Namespace{{Type: specs.MountNamespace, Path: "/proc/1/ns/mnt"}}
		}, func(j *crootfsJob) bool { return !j.settings.OwnMounts }},
	}
	for _, tt := range tests {
		cfg := base()
		if tt.edit != nil {
			tt.edit(cfg)
		}
		if j := rootfsInC(cfg); !tt.check(j) {
			t.Errorf("%s: got %+v %+v", tt.name, j.plan, j.settings)
		}
	}
}

// TestReplyStaysSmall: every sync packet is decoded as a reply first
// (decodeMessage), and encoding/json builds encoders for every type
// reachable from a struct it decodes into, so reply may not reach the OCI
// spec.
func TestReplyStaysSmall(t *testing.T) {
	big := map[reflect.Type]bool{
		reflect.TypeOf(Config{}): true, reflect.TypeOf(specs.Spec{}): true,
		reflect.TypeOf(specs.Process{}): true, reflect.TypeOf(specs.Linux{}): true,
	}
	for _, root := range []reflect.Type{reflect.TypeOf(reply{})} {
		if path := reach(root, big, map[reflect.Type]bool{}); path != "" {
			t.Errorf("%s reaches %s", root, path)
		}
	}
}

// reach returns the first type of big reachable from t, or "".
func reach(t reflect.Type, big, seen map[reflect.Type]bool) string {
	if big[t] {
		return t.String()
	}
	if seen[t] {
		return ""
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return reach(t.Elem(), big, seen)
	case reflect.Map:
		if p := reach(t.Key(), big, seen); p != "" {
			return p
		}
		return reach(t.Elem(), big, seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if p := reach(t.Field(i).Type, big, seen); p != "" {
				return t.Field(i).Name + " -> " + p
			}
		}
	}
	return ""
}

// TestProgramCgroupOptions: the parent reads the host's cgroup options for
// the C program only when a cgroup namespace mounts the hierarchies again.
func TestProgramCgroupOptions(t *testing.T) {
	if _, err := os.Stat("/proc/self/mountinfo"); err != nil {
		t.Skip("skipping: no /proc/self/mountinfo")
	}
	cgroupMount := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"}
	procMount := specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"}
	tests := []struct {
		name   string
		cgNS   bool
		mounts []specs.Mount
		want   bool
	}{
		{"cgroup namespace and mount", true, []specs.Mount{procMount, cgroupMount}, true},
		{"no cgroup namespace", false, []specs.Mount{procMount, cgroupMount}, false},
		{"no cgroup mount", true, []specs.Mount{procMount}, false},
	}
	for _, tt := range tests {
		cfg := &Config{ID: "c1", Rootfs: "/r", Namespaces: []Namespace{{Type: specs.MountNamespace}},
			Spec: &specs.Spec{Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"}, Root: &specs.Root{},
				Mounts: tt.mounts, Linux: &specs.Linux{}}}
		if tt.cgNS {
			cfg.Namespaces = append(cfg.Namespaces, Namespace{Type: specs.CgroupNamespace})
		}
		j := rootfsInC(cfg)
		if j == nil {
			t.Fatalf("%s: the C program refused the config", tt.name)
		}
		j.withProgram(nil, nil)
		if got := j.plan.CgroupOptions != nil; got != tt.want {
			t.Errorf("%s: options read: %v, want %v", tt.name, got, tt.want)
		}
	}
}
