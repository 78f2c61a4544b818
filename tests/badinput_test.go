package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestBadInput: each bad bundle, id or argument fails with exit 1 and one
// line on stderr naming the field, and leaves nothing behind: no state dir,
// no cgroup, no stray "berth init" (the env's leak check runs after each
// case). These cases run one after the other (no t.Parallel at the top):
// no other test's process can be mistaken for a stray one.
func TestBadInput(t *testing.T) {
	type bundleFn func(t *testing.T, e *env) string
	withSpec := func(modify func(*specs.Spec)) bundleFn {
		return func(t *testing.T, e *env) string {
			s := sh("echo should-not-run")
			modify(s)
			return e.bundle(s)
		}
	}
	withConfig := func(content string) bundleFn {
		return func(t *testing.T, e *env) string {
			b := e.bundle(sh("true"))
			if err := os.WriteFile(filepath.Join(b, "config.json"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	for _, tc := range []struct {
		name   string
		bundle bundleFn
		id     string // "" means a fresh valid id; "-" means the empty id
		args   []string
		want   []string // substrings of the error line
	}{
		{name: "no-bundle-dir", bundle: func(t *testing.T, e *env) string { return filepath.Join(e.base, "nonexistent") },
			want: []string{"bundle", "nonexistent"}},
		{name: "bundle-is-a-file", bundle: func(t *testing.T, e *env) string {
			p := filepath.Join(e.base, "file")
			os.WriteFile(p, nil, 0o644)
			return p
		}, want: []string{"bundle"}},
		{name: "no-config", bundle: func(t *testing.T, e *env) string { return e.dir("empty") }, want: []string{"config.json"}},
		{name: "invalid-json", bundle: withConfig(`{"ociVersion": "1.0.0", "process": {`), want: []string{"config.json"}},
		{name: "empty-config", bundle: withConfig(""), want: []string{"config.json"}},
		{name: "wrong-json-type", bundle: withConfig(`{"ociVersion": "1.0.0", "process": {"args": "sh"}}`), want: []string{"config.json", "args"}},
		{name: "oci-version-2", bundle: withSpec(func(s *specs.Spec) { s.Version = "2.0.0" }), want: []string{"ociVersion", "2.0.0"}},
		{name: "oci-version-missing", bundle: withSpec(func(s *specs.Spec) { s.Version = "" }), want: []string{"ociVersion"}},
		{name: "unknown-namespace", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[0].Type = "bogus" }),
			want: []string{"linux.namespaces[0].type", "bogus"}},
		{name: "duplicate-namespace", bundle: withSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
		}), want: []string{"linux.namespaces[5]"}},
		{name: "namespace-path-missing", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/proc/999999999/ns/net" }),
			want: []string{"linux.namespaces[1].path", "/proc/999999999/ns/net"}},
		{name: "namespace-path-wrong-type", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/proc/self/ns/ipc" }),
			want: []string{"linux.namespaces[1].path"}},
		{name: "namespace-path-not-ns", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/etc/passwd" }),
			want: []string{"linux.namespaces[1].path"}},
		{name: "root-path-missing", bundle: withSpec(func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" }),
			want: []string{"root.path", "no-such-rootfs"}},
		{name: "root-absent", bundle: withSpec(func(s *specs.Spec) { s.Root = nil }), want: []string{"root"}},
		{name: "args-missing", bundle: withSpec(func(s *specs.Spec) { s.Process.Args = nil }), want: []string{"process.args"}},
		{name: "process-missing", bundle: withSpec(func(s *specs.Spec) { s.Process = nil }), want: []string{"process"}},
		{name: "cwd-relative", bundle: withSpec(func(s *specs.Spec) { s.Process.Cwd = "tmp" }), want: []string{"process.cwd"}},
		{name: "mount-no-destination", bundle: withSpec(func(s *specs.Spec) {
			s.Mounts = append([]specs.Mount{{Type: "tmpfs", Source: "tmpfs"}}, s.Mounts...)
		}), want: []string{"mounts[0].destination"}},
		{name: "bind-no-source", bundle: withSpec(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Options: []string{"bind"}})
		}), want: []string{"mounts[7].source"}},
		{name: "bind-source-missing", bundle: withSpec(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/nonexistent-berth-src", Options: []string{"bind"}})
		}), want: []string{"mounts[7]", "/nonexistent-berth-src"}},
		{name: "uidmappings-without-userns", bundle: withSpec(func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}}
		}), want: []string{"linux.uidMappings"}},
		{name: "userns-without-mappings", bundle: withSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}), want: []string{"linux.uidMappings"}},
		{name: "unknown-rlimit", bundle: withSpec(func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_BOGUS", Soft: 1, Hard: 1})
		}), want: []string{"process.rlimits[1].type", "RLIMIT_BOGUS"}},
		{name: "rlimit-soft-above-hard", bundle: withSpec(func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2048, Hard: 1024}}
		}), want: []string{"process.rlimits[0]"}},
		{name: "unknown-capability", bundle: withSpec(func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_BOGUS")
		}), want: []string{"process.capabilities.bounding[3]", "CAP_BOGUS"}},
		{name: "hostname-without-uts", bundle: withSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:3] // pid, net, ipc
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.MountNamespace})
		}), want: []string{"hostname"}},
		{name: "sysctl-not-namespaced", bundle: withSpec(func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"vm.swappiness": "10"}
		}), want: []string{"linux.sysctl", "vm.swappiness"}},
		{name: "sysctl-net-without-netns", bundle: withSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.UTSNamespace}, {Type: specs.MountNamespace}}
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}), want: []string{"linux.sysctl", "net.ipv4.ip_forward"}},
		{name: "hook-relative-path", bundle: withSpec(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "sh"}}}
		}), want: []string{"hooks.createRuntime[0].path"}},
		{name: "device-bad-type", bundle: withSpec(func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z", Major: 1, Minor: 3}}
		}), want: []string{"linux.devices[0].type"}},
		{name: "time-offsets-without-timens", bundle: withSpec(func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
		}), want: []string{"linux.timeOffsets"}},
		{name: "terminal-without-console", bundle: withSpec(func(s *specs.Spec) { s.Process.Terminal = true }),
			want: []string{"terminal"}},
		{name: "id-dotdot", id: "../x", want: []string{"../x"}},
		{name: "id-empty", id: "-", want: []string{"id"}},
		{name: "id-slash", id: "a/b", want: []string{"a/b"}},
		{name: "id-dot", id: ".", want: []string{"id"}},
		{name: "id-leading-dash", id: "-x", want: []string{"id"}},
		{name: "id-too-long", id: strings.Repeat("a", 1025), want: []string{"id"}},
		{name: "id-space", id: "a b", want: []string{"a b"}},
		{name: "no-id", args: []string{}, want: []string{"id"}},
		{name: "two-ids", args: []string{"one", "two"}, want: []string{"id"}},
		{name: "negative-preserve-fds", args: []string{"--preserve-fds", "-1"}, want: []string{"preserve-fds"}},
		{name: "pid-file-dir-missing", args: []string{"--pid-file", "/nonexistent-berth-dir/pid"}, want: []string{"pid-file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var bundle string
			if tc.bundle != nil {
				bundle = tc.bundle(t, e)
			} else {
				bundle = e.bundle(sh("echo should-not-run"))
			}
			for _, cmd := range []string{"create", "run"} {
				args := []string{cmd, "--bundle", bundle}
				if tc.args != nil {
					args = append(args, tc.args...)
				}
				var id string
				switch tc.id {
				case "":
					if tc.args == nil || (len(tc.args) > 0 && strings.HasPrefix(tc.args[0], "--")) {
						id = e.id("bad")
						args = append(args, id)
					}
				case "-":
					args = append(args, "")
				default:
					args = append(args, tc.id)
				}
				r := e.berth(args...)
				assertError(t, r, tc.want...)
				if strings.Contains(r.stdout, "should-not-run") {
					t.Errorf("%s: the container's process ran", cmd)
				}
				if id != "" {
					assertError(t, e.berth("state", id), id)
				}
			}
		})
	}
}

// TestBadInputDuplicateID: a second create with a taken id fails and
// leaves the first container as it was (also in lifecycle_test.go).
func TestBadInputDuplicateID(t *testing.T) {
	e := newEnv(t)
	b := e.bundle(sh("sleep 100"))
	id := e.id("dupid")
	e.mustBerth("create", "--bundle", b, id)
	before := e.state(id)
	assertError(t, e.berth("create", "--bundle", b, id), id, "exists")
	if after := e.state(id); after.Pid != before.Pid || after.Status != "created" {
		t.Errorf("first container changed: %+v -> %+v", before, after)
	}
}

// TestBadCommandLine: wrong arguments to the other commands.
func TestBadCommandLine(t *testing.T) {
	e := newEnv(t)
	id := e.id("cli")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), id)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"kill", id, "SIGBOGUS"}, []string{"SIGBOGUS"}},
		{[]string{"kill", id, "99"}, []string{"99"}},
		{[]string{"kill", id, "TERM", "extra"}, nil},
		{[]string{"kill"}, nil},
		{[]string{"start"}, []string{"id"}},
		{[]string{"state"}, []string{"id"}},
		{[]string{"delete"}, []string{"id"}},
		{[]string{"state", "../" + id}, []string{"../" + id}},
		{[]string{"delete", "--force", "a/b"}, []string{"a/b"}},
		{[]string{"list", "--format", "xml"}, []string{"xml"}},
		{[]string{"create", "--no-such-flag", id}, []string{"no-such-flag"}},
		{[]string{"no-such-command"}, []string{"no-such-command"}},
		{[]string{"--log-format", "yaml", "list"}, []string{"log-format"}},
	} {
		assertError(t, e.berth(tc.args...), tc.want...)
	}
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after the bad commands: status %q, want running", s.Status)
	}
	e.mustBerth("delete", "--force", id)
}
