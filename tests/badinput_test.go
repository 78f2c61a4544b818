package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// badCase is one malformed bundle or command line given to both create and
// run. want are substrings of the one error line: the field or argument and
// what is wrong with it.
type badCase struct {
	name    string
	bundle  func(t *testing.T, e *env) string // nil: a valid bundle
	globals []string                          // global flags, before the command
	id      string                            // "" a fresh valid id; "-" the empty id
	args    []string                          // flags after the command; non-nil without flags: no id either
	detach  bool                              // run with --detach (create always is)
	want    []string
}

// withSpec is a bundle whose config is the standard one changed by modify.
func withSpec(modify func(*specs.Spec)) func(*testing.T, *env) string {
	return func(t *testing.T, e *env) string {
		s := sh("echo should-not-run")
		modify(s)
		return e.bundle(s)
	}
}

// withConfig is a bundle whose config.json holds content verbatim.
func withConfig(content string) func(*testing.T, *env) string {
	return func(t *testing.T, e *env) string {
		b := e.bundle(sh("true"))
		if err := os.WriteFile(filepath.Join(b, "config.json"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// withTerminal is the standard bundle with process.terminal set.
var withTerminal = withSpec(func(s *specs.Spec) { s.Process.Terminal = true })

func idMaps(hostID, size uint32) []specs.LinuxIDMapping {
	return []specs.LinuxIDMapping{{ContainerID: 0, HostID: hostID, Size: size}}
}

// The standard spec (testbundle.Spec) has namespaces pid, network, ipc, uts,
// mount (indices 0-4), 7 mounts, 2 env entries, 3 capabilities per set and
// one rlimit: the indices below count on it.
var badConfigs = []badCase{
	// The document itself.
	{name: "invalid-json", bundle: withConfig(`{"ociVersion": "1.0.0", "process": {`),
		want: []string{"config.json: invalid JSON at line 1, column 36: unexpected end of JSON input"}},
	{name: "empty-config", bundle: withConfig(""), want: []string{`config.json: empty file (create one with "berth spec")`}},
	{name: "wrong-json-type", bundle: withConfig(`{"ociVersion": "1.0.0", "process": {"args": "sh"}}`),
		want: []string{"config.json: process.args at line 1, column 48: got a JSON string, want an array"}},
	{name: "top-level-array", bundle: withConfig(`[]`), want: []string{"config.json: top level at line 1, column 1: got a JSON array, want an object"}},
	{name: "negative-uid", bundle: withConfig(`{"ociVersion":"1.0.0","process":{"user":{"uid":-1}}}`),
		want: []string{"config.json: process.user.uid", "want a non-negative integer (uint32)"}},
	{name: "oci-version-2", bundle: withSpec(func(s *specs.Spec) { s.Version = "2.0.0" }),
		want: []string{`ociVersion "2.0.0": unsupported major version 2 (berth supports 1.x)`}},
	{name: "oci-version-missing", bundle: withSpec(func(s *specs.Spec) { s.Version = "" }), want: []string{`ociVersion "": missing`}},
	{name: "oci-version-not-semver", bundle: withSpec(func(s *specs.Spec) { s.Version = "1.0" }),
		want: []string{`ociVersion "1.0": not a semantic version`}},

	// root
	{name: "root-absent", bundle: withSpec(func(s *specs.Spec) { s.Root = nil }), want: []string{"root: missing"}},
	{name: "root-path-empty", bundle: withSpec(func(s *specs.Spec) { s.Root.Path = "" }), want: []string{`root.path "": empty`}},
	{name: "root-path-missing", bundle: withSpec(func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" }),
		want: []string{`root.path "no-such-rootfs": no such directory`}},
	{name: "root-path-a-file", bundle: withSpec(func(s *specs.Spec) { s.Root.Path = "config.json" }),
		want: []string{`root.path "config.json": not a directory`}},

	// process
	{name: "process-missing", bundle: withSpec(func(s *specs.Spec) { s.Process = nil }), want: []string{"process: missing"}},
	{name: "args-missing", bundle: withSpec(func(s *specs.Spec) { s.Process.Args = nil }), want: []string{"process.args: empty"}},
	{name: "args-empty-command", bundle: withSpec(func(s *specs.Spec) { s.Process.Args = []string{""} }),
		want: []string{`process.args[0] "": empty command`}},
	{name: "cwd-relative", bundle: withSpec(func(s *specs.Spec) { s.Process.Cwd = "tmp" }),
		want: []string{`process.cwd "tmp": must be an absolute path in the container`}},
	{name: "cwd-empty", bundle: withSpec(func(s *specs.Spec) { s.Process.Cwd = "" }), want: []string{`process.cwd "": missing`}},
	{name: "env-without-equals", bundle: withSpec(func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "NOEQ") }),
		want: []string{`process.env[2] "NOEQ": missing '=' (want NAME=value)`}},
	{name: "env-empty-name", bundle: withSpec(func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "=x") }),
		want: []string{`process.env[2] "=x": empty variable name`}},
	{name: "unknown-capability", bundle: withSpec(func(s *specs.Spec) {
		s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_BOGUS")
	}), want: []string{`process.capabilities.bounding[3] "CAP_BOGUS": unknown capability`}},
	{name: "capability-lower-case", bundle: withSpec(func(s *specs.Spec) { s.Process.Capabilities.Ambient = []string{"kill"} }),
		want: []string{`process.capabilities.ambient[0] "kill": unknown capability (did you mean "CAP_KILL"?)`}},
	{name: "unknown-rlimit", bundle: withSpec(func(s *specs.Spec) {
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_BOGUS", Soft: 1, Hard: 1})
	}), want: []string{`process.rlimits[1].type "RLIMIT_BOGUS": unknown rlimit`}},
	{name: "rlimit-duplicate", bundle: withSpec(func(s *specs.Spec) {
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1})
	}), want: []string{`process.rlimits[1].type "RLIMIT_NOFILE": duplicate (already at process.rlimits[0])`}},
	{name: "rlimit-soft-above-hard", bundle: withSpec(func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2048, Hard: 1024}}
	}), want: []string{"process.rlimits[0].soft 2048: greater than hard limit 1024"}},
	{name: "oom-score-adj-out-of-range", bundle: withSpec(func(s *specs.Spec) { n := 1001; s.Process.OOMScoreAdj = &n }),
		want: []string{"process.oomScoreAdj 1001: out of range (want -1000 to 1000)"}},
	{name: "uid-minus-one", bundle: withSpec(func(s *specs.Spec) { s.Process.User.UID = 1<<32 - 1 }),
		want: []string{`process.user.uid 4294967295: is (uid_t)-1`}},
	{name: "gid-minus-one", bundle: withSpec(func(s *specs.Spec) { s.Process.User.GID = 1<<32 - 1 }),
		want: []string{`process.user.gid 4294967295: is (uid_t)-1`}},
	{name: "apparmor-profile-without-apparmor", bundle: withSpec(func(s *specs.Spec) { s.Process.ApparmorProfile = "berth-test" }),
		want: []string{`process.apparmorProfile "berth-test":`, "AppArmor is not enabled on this host"}},
	{name: "terminal-without-console", bundle: withTerminal, detach: true, want: []string{"process.terminal", "--console-socket"}},
	{name: "scheduler-unknown-policy", bundle: withSpec(func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_BOGUS"} }),
		want: []string{`process.scheduler.policy "SCHED_BOGUS": unknown policy`}},

	// mounts
	{name: "mount-no-destination", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append([]specs.Mount{{Type: "tmpfs", Source: "tmpfs"}}, s.Mounts...)
	}), want: []string{`mounts[0].destination "": missing`}},
	{name: "mount-relative-destination", bundle: withSpec(func(s *specs.Spec) { s.Mounts[3].Destination = "dev/shm" }),
		want: []string{`mounts[3].destination "dev/shm": must be an absolute path in the container`}},
	{name: "bind-no-source", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Options: []string{"bind"}})
	}), want: []string{`mounts[7].source "": missing (a bind mount needs the path to bind)`}},
	{name: "bind-source-missing", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/nonexistent-berth-src", Options: []string{"bind"}})
	}), want: []string{"mounts[7]", "/nonexistent-berth-src", "no such file or directory"}},
	{name: "mount-unknown-fstype", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "nosuchfs", Source: "x"})
	}), want: []string{`mounts[7] destination "/mnt": mount nosuchfs: no such device`}},
	{name: "mount-uid-mappings-alone", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/tmp", Options: []string{"rbind"}, UIDMappings: idMaps(1000, 1)})
	}), want: []string{"mounts[7]: uidMappings and gidMappings must be given together"}},
	{name: "mount-idmapped", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/tmp", Options: []string{"rbind"},
			UIDMappings: idMaps(1000, 1), GIDMappings: idMaps(1000, 1)})
	}), want: []string{"mounts[7].uidMappings: idmapped mounts are not supported by this berth build yet"}},

	// linux.namespaces and ids
	{name: "linux-missing", bundle: withSpec(func(s *specs.Spec) { s.Linux = nil }), want: []string{"linux: missing"}},
	{name: "unknown-namespace", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[0].Type = "bogus" }),
		want: []string{`linux.namespaces[0].type "bogus": unknown namespace type`}},
	{name: "duplicate-namespace", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}), want: []string{`linux.namespaces[5].type "network": duplicate (already at linux.namespaces[1])`}},
	{name: "namespace-path-relative", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "proc/1/ns/net" }),
		want: []string{`linux.namespaces[1].path "proc/1/ns/net": must be an absolute path`}},
	{name: "namespace-path-missing", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/proc/999999999/ns/net" }),
		want: []string{`linux.namespaces[1].path "/proc/999999999/ns/net": no such file`}},
	{name: "namespace-path-wrong-type", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/proc/self/ns/ipc" }),
		want: []string{`linux.namespaces[1].path "/proc/self/ns/ipc": is an ipc namespace, not network`}},
	{name: "namespace-path-not-ns", bundle: withSpec(func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/etc/passwd" }),
		want: []string{`linux.namespaces[1].path "/etc/passwd": not a namespace file`}},
	{name: "uidmappings-without-userns", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.UIDMappings, s.Linux.GIDMappings = idMaps(100000, 1000), idMaps(100000, 1000)
	}), want: []string{"linux.uidMappings: set without a user namespace"}},
	{name: "userns-without-mappings", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	}), want: []string{"linux.uidMappings: missing (the new user namespace at linux.namespaces[5] needs uid and gid mappings)"}},
	{name: "userns-without-gid-mappings", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = idMaps(100000, 1000)
	}), want: []string{"linux.gidMappings: missing"}},
	{name: "uidmapping-empty-range", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings, s.Linux.GIDMappings = idMaps(100000, 0), idMaps(100000, 1)
	}), want: []string{"linux.uidMappings[0].size 0: must be at least 1"}},
	{name: "uidmappings-overlap", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 10}, {ContainerID: 5, HostID: 200000, Size: 10}}
		s.Linux.GIDMappings = idMaps(100000, 10)
	}), want: []string{"linux.uidMappings[1]: container ids 5-14 overlap linux.uidMappings[0]"}},

	// the rest of linux
	{name: "hostname-without-uts", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces[:3], specs.LinuxNamespace{Type: specs.MountNamespace}) // pid, net, ipc, mount
	}), want: []string{`hostname "berth": needs a new uts namespace`}},
	{name: "sysctl-not-namespaced", bundle: withSpec(func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "10"} }),
		want: []string{`linux.sysctl["vm.swappiness"]: not namespaced`}},
	{name: "sysctl-net-without-netns", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.UTSNamespace}, {Type: specs.MountNamespace}}
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	}), want: []string{`linux.sysctl["net.ipv4.ip_forward"]: needs a network namespace`}},
	{name: "sysctl-bad-name", bundle: withSpec(func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net..x": "1"} }),
		want: []string{`linux.sysctl["net..x"]: not a sysctl name`}},
	{name: "sysctl-hostname-conflict", bundle: withSpec(func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.hostname": "other"} }),
		want: []string{`linux.sysctl["kernel.hostname"] "other": conflicts with hostname "berth"`}},
	{name: "time-offsets-without-timens", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
	}), want: []string{`linux.timeOffsets: needs a time namespace`}},
	{name: "time-offsets-unknown-clock", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 10}}
	}), want: []string{`linux.timeOffsets["realtime"]: unknown clock`}},
	{name: "device-bad-type", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z", Major: 1, Minor: 3}}
	}), want: []string{`linux.devices[0].type "z": unknown device type`}},
	{name: "device-outside-dev", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/../etc/x", Type: "c", Major: 1, Minor: 3}}
	}), want: []string{`linux.devices[0].path "/dev/../etc/x": must be an absolute path under /dev`}},
	{name: "device-duplicate", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "c", Major: 1, Minor: 3}, {Path: "/dev/./x", Type: "c", Major: 1, Minor: 5}}
	}), want: []string{`linux.devices[1].path "/dev/./x": duplicate (already at linux.devices[0])`}},
	{name: "rootfs-propagation-unknown", bundle: withSpec(func(s *specs.Spec) { s.Linux.RootfsPropagation = "bogus" }),
		want: []string{`linux.rootfsPropagation "bogus": unknown propagation`}},
	// The rootfs builder's refusals, now the parent's (rootfs.Check):
	// before, the Go init reported them from inside the container.
	{name: "mount-tmpcopyup-on-bind", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: "/etc", Options: []string{"tmpcopyup"}})
	}), want: []string{`rootfs: mounts[7] destination "/x": tmpcopyup only applies to tmpfs mounts, not "bind"`}},
	{name: "mount-over-root", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/", Type: "tmpfs", Source: "tmpfs"})
	}), want: []string{`rootfs: mounts[7] destination "/": mounting over the container root is not supported`}},
	{name: "mount-no-type", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Source: "tmpfs"})
	}), want: []string{`rootfs: mounts[7] destination "/x": mount type is empty`}},
	{name: "mount-option-idmap", bundle: withSpec(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}})
	}), want: []string{`rootfs: mounts[7] destination "/x": mount option "idmap": idmapped mounts are not supported yet`}},
	{name: "masked-path-relative", bundle: withSpec(func(s *specs.Spec) { s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "proc/kcore") }),
		want: []string{`linux.maskedPaths[10] "proc/kcore": must be an absolute path in the container`}},
	{name: "readonly-path-relative", bundle: withSpec(func(s *specs.Spec) { s.Linux.ReadonlyPaths[0] = "proc/bus" }),
		want: []string{`linux.readonlyPaths[0] "proc/bus": must be an absolute path in the container`}},
	{name: "masked-paths-without-mountns", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Namespaces = s.Linux.Namespaces[:4]
		s.Mounts = nil
	}), want: []string{"linux.maskedPaths: needs a new mount namespace"}},
	{name: "cgroups-path-escapes", bundle: withSpec(func(s *specs.Spec) { s.Linux.CgroupsPath = "/a/../../b" }),
		want: []string{`linux.cgroupsPath "/a/../../b": escapes the cgroup root through ".."`}},
	{name: "cgroups-path-not-systemd", bundle: withSpec(func(s *specs.Spec) { s.Linux.CgroupsPath = "plain" }), globals: []string{"--systemd-cgroup"},
		want: []string{`linux.cgroupsPath "plain": with --systemd-cgroup, want "slice:prefix:name"`}},
	{name: "personality-unknown", bundle: withSpec(func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "BOGUS"} }),
		want: []string{`linux.personality.domain "BOGUS": unknown domain`}},

	// linux.seccomp
	{name: "seccomp-unknown-default-action", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}
	}), want: []string{"linux.seccomp.defaultAction", `"SCMP_ACT_BOGUS": unknown action`}},
	{name: "seccomp-unknown-arch", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_BOGUS"}}
	}), want: []string{"linux.seccomp.architectures[0]", `"SCMP_ARCH_BOGUS": unknown architecture`}},
	{name: "seccomp-unknown-flag", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_BOGUS"}}
	}), want: []string{"linux.seccomp.flags[0]", `"SECCOMP_FILTER_FLAG_BOGUS": unknown flag`}},
	{name: "seccomp-arg-index", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
			Names: []string{"mkdir"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}}
	}), want: []string{"linux.seccomp.syscalls[0].args[0].index 6: a syscall has 6 arguments (0-5)"}},
	{name: "seccomp-unknown-operator", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
			Names: []string{"mkdir"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 1, Op: "SCMP_CMP_BOGUS"}}}}}
	}), want: []string{"linux.seccomp.syscalls[0].args[0].op", `"SCMP_CMP_BOGUS": unknown operator`}},

	// linux.resources
	{name: "resources-unified-unknown-controller", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Unified: map[string]string{"bogus.key": "1"}}
	}), want: []string{`linux.resources.unified["bogus.key"]: unknown cgroup v2 controller "bogus"`}},
	{name: "resources-cpus-not-a-list", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "abc"}}
	}), want: []string{`linux.resources.cpu.cpus "abc": not a cpu list`}},
	{name: "resources-swap-below-limit", bundle: withSpec(func(s *specs.Spec) {
		limit, swap := int64(1<<20), int64(1024)
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}}
	}), want: []string{"linux.resources.memory.swap 1024: below linux.resources.memory.limit 1048576"}},
	{name: "resources-device-access", bundle: withSpec(func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Access: "rwx"}}}
	}), want: []string{`linux.resources.devices[0].access "rwx": 'x' is not r, w or m`}},
	{name: "resources-pids-negative", bundle: withSpec(func(s *specs.Spec) {
		limit := int64(-5)
		s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}
	}), want: []string{"linux.resources.pids.limit -5: must be -1 (unlimited), 0 (no new task) or positive"}},

	// hooks and annotations
	{name: "hook-relative-path", bundle: withSpec(func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "sh"}}}
	}), want: []string{`hooks.createRuntime[0].path "sh": must be an absolute path`}},
	{name: "hook-zero-timeout", bundle: withSpec(func(s *specs.Spec) {
		zero := 0
		s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Timeout: &zero}}}
	}), want: []string{"hooks.poststop[0].timeout 0: must be a positive number of seconds"}},
	{name: "annotation-empty-key", bundle: withSpec(func(s *specs.Spec) { s.Annotations = map[string]string{"a": "b", "": "c"} }),
		want: []string{`annotations[""]: empty key`}},
}

// badArguments are bad bundle paths, ids and flags of create and run.
var badArguments = []badCase{
	{name: "no-bundle-dir", bundle: func(t *testing.T, e *env) string { return filepath.Join(e.base, "nonexistent") },
		want: []string{`bundle "`, `/nonexistent": no such directory`}},
	{name: "bundle-is-a-file", bundle: func(t *testing.T, e *env) string {
		p := filepath.Join(e.base, "file")
		os.WriteFile(p, nil, 0o644)
		return p
	}, want: []string{`bundle "`, `/file": not a directory`}},
	{name: "no-config", bundle: func(t *testing.T, e *env) string { return e.dir("empty") },
		want: []string{"config.json: open ", "no such file or directory", `(create one with "berth spec")`}},
	{name: "id-dotdot", id: "../x", want: []string{`container id "../x" is invalid`}},
	{name: "id-empty", id: "-", want: []string{"container id is empty"}},
	{name: "id-slash", id: "a/b", want: []string{`container id "a/b" is invalid`}},
	{name: "id-dot", id: ".", want: []string{`container id "." is invalid`}},
	{name: "id-leading-dash", id: "-x", want: []string{"flag provided but not defined: -x"}}, // read as a flag
	{name: "id-too-long", id: strings.Repeat("a", 1025), want: []string{"container id is 1025 bytes long (at most 1024)"}},
	{name: "id-space", id: "a b", want: []string{`container id "a b" is invalid`}},
	{name: "id-newline", id: "a\nb", want: []string{`container id "a\nb" is invalid`}},
	{name: "no-id", args: []string{}, want: []string{"the container id (got 0)"}},
	{name: "two-ids", args: []string{"one", "two"}, want: []string{"the container id (got 2)"}},
	{name: "negative-preserve-fds", args: []string{"--preserve-fds", "-1"}, want: []string{"--preserve-fds -1: must not be negative"}},
	{name: "preserve-fds-not-a-number", args: []string{"--preserve-fds", "abc"}, want: []string{`invalid value "abc" for flag -preserve-fds`}},
	{name: "unknown-flag", args: []string{"--no-such-flag"}, want: []string{"flag provided but not defined: -no-such-flag"}},
	{name: "pid-file-dir-missing", args: []string{"--pid-file", "/nonexistent-berth-dir/pid"},
		want: []string{`--pid-file "/nonexistent-berth-dir/pid":`, "no such file or directory"}},
	{name: "console-socket-without-terminal", args: []string{"--console-socket", "/nonexistent-berth.sock"},
		want: []string{`--console-socket "/nonexistent-berth.sock": the process has no terminal`}},
	{name: "console-socket-missing", bundle: withTerminal, detach: true, args: []string{"--console-socket", "/nonexistent-berth.sock"},
		want: []string{`--console-socket "/nonexistent-berth.sock":`, "no such file or directory"}},
	{name: "console-socket-not-a-socket", bundle: withTerminal, detach: true, args: []string{"--console-socket", "/etc/passwd"},
		want: []string{`--console-socket "/etc/passwd": not a unix socket`}},
	{name: "log-format-unknown", globals: []string{"--log-format", "yaml"}, want: []string{`--log-format "yaml": must be text or json`}},
	{name: "log-dir-missing", globals: []string{"--log", "/nonexistent-berth-dir/log"},
		want: []string{`--log "/nonexistent-berth-dir/log":`, "no such file or directory"}},
}

// TestBadInput: each bad bundle, id or argument makes create and run fail
// with exit 1 and one line on stderr naming the field or argument and what
// is wrong, and leaves nothing behind: no state dir, no cgroup, no stray
// "berth init" (the env's leak check runs after each case). These cases run
// one after the other (no t.Parallel): no other test's process can be
// mistaken for a stray one.
func TestBadInput(t *testing.T) {
	cases := append(append([]badCase(nil), badConfigs...), badArguments...)
	if len(cases) < 50 {
		t.Fatalf("only %d bad inputs; the table promises at least 50", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "apparmor-profile-without-apparmor" && hostAppArmor() {
				t.Skip("AppArmor is enabled on this host: the profile would be applied (or refused as not loaded)")
			}
			e := newEnv(t)
			var bundle string
			if tc.bundle != nil {
				bundle = tc.bundle(t, e)
			} else {
				bundle = e.bundle(sh("echo should-not-run"))
			}
			want := tc.want
			if systemdCgroup && tc.name == "cgroups-path-escapes" {
				// The systemd driver refuses any path that is not
				// slice:prefix:name before looking inside it.
				want = []string{`linux.cgroupsPath "/a/../../b"`, "slice:prefix:name"}
			}
			for _, cmd := range []string{"create", "run"} {
				r, id := e.badCommand(tc, cmd, bundle)
				assertError(t, r, want...)
				if strings.Contains(r.stdout, "should-not-run") {
					t.Errorf("%s: the container's process ran", cmd)
				}
				if id != "" {
					assertError(t, e.berth("state", id), id, "does not exist")
				}
			}
		})
	}
}

// badCommand runs cmd (create or run) for tc and returns what it did and the
// valid id it used ("" when the case supplies its own or none).
func (e *env) badCommand(tc badCase, cmd, bundle string) (result, string) {
	args := append(append([]string(nil), tc.globals...), cmd, "--bundle", bundle)
	if tc.detach && cmd == "run" {
		args = append(args, "--detach")
	}
	args = append(args, tc.args...)
	var id string
	switch {
	case tc.id == "-":
		args = append(args, "")
	case tc.id != "":
		args = append(args, tc.id)
	case tc.args == nil || (len(tc.args) > 0 && strings.HasPrefix(tc.args[0], "--")):
		id = e.id("bad")
		args = append(args, id)
	}
	return e.berth(args...), id
}

// TestBadInputDuplicateID: a second create with a taken id fails and
// leaves the first container as it was (also in lifecycle_test.go).
func TestBadInputDuplicateID(t *testing.T) {
	e := newEnv(t)
	b := e.bundle(sh("sleep 100"))
	id := e.id("dupid")
	e.mustBerth("create", "--bundle", b, id)
	before := e.state(id)
	assertError(t, e.berth("create", "--bundle", b, id), id, "already exists")
	if after := e.state(id); after.Pid != before.Pid || after.Status != "created" {
		t.Errorf("first container changed: %+v -> %+v", before, after)
	}
}

// TestBadCommandLine: wrong arguments to the other commands, against a
// running container that must come through them untouched.
func TestBadCommandLine(t *testing.T) {
	e := newEnv(t)
	id := e.id("cli")
	e.mustBerth("run", "-d", "--bundle", e.bundle(sh("sleep 1000")), id)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"kill", id, "SIGBOGUS"}, []string{`signal "SIGBOGUS": unknown signal name`}},
		{[]string{"kill", id, "99"}, []string{`signal "99": out of range 1-64`}},
		{[]string{"kill", id, "65"}, []string{`signal "65": out of range 1-64`}},
		{[]string{"kill", id, "RTMIN+40"}, []string{`signal "RTMIN+40": unknown signal name`}},
		{[]string{"kill", id, ""}, []string{`signal "": unknown signal name`}},
		{[]string{"kill", id, "TERM", "extra"}, []string{"kill: expects a container id and an optional signal (got 3 arguments)"}},
		{[]string{"kill"}, []string{"kill: expects a container id and an optional signal (got 0 arguments)"}},
		{[]string{"kill", "nosuch-" + id}, []string{`container "nosuch-` + id + `" does not exist`}},
		{[]string{"start"}, []string{"start: expects exactly one argument, the container id (got 0)"}},
		{[]string{"start", id}, []string{`container "` + id + `" is running, not created`}},
		{[]string{"state"}, []string{"state: expects exactly one argument, the container id (got 0)"}},
		{[]string{"state", "nosuch-" + id}, []string{`container "nosuch-` + id + `" does not exist`}},
		{[]string{"delete"}, []string{"delete: expects exactly one argument, the container id (got 0)"}},
		{[]string{"delete", id}, []string{id, "running"}},
		{[]string{"state", "../" + id}, []string{`container id "../` + id + `" is invalid`}},
		{[]string{"delete", "--force", "a/b"}, []string{`container id "a/b" is invalid`}},
		{[]string{"list", "--format", "xml"}, []string{`list: --format "xml": must be table or json`}},
		{[]string{"ps", "--format", "yaml", id}, []string{`--format "yaml": must be table or json`}},
		{[]string{"update", "--memory", "abc", id}, []string{`--memory "abc": not a size`}},
		{[]string{"update", id, "--memory", "abc"}, []string{`--memory "abc": not a size`}},
		{[]string{"create", "--no-such-flag", id}, []string{"flag provided but not defined: -no-such-flag"}},
		{[]string{"no-such-command"}, []string{"no-such-command"}},
		{[]string{"--log-format", "yaml", "list"}, []string{`--log-format "yaml": must be text or json`}},
	} {
		assertError(t, e.berth(tc.args...), tc.want...)
	}
	// exec's failures once the id is known exit 255, as runc's.
	assertExecError(t, e.berth("exec", id), "no command given")
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after the bad commands: status %q, want running", s.Status)
	}
	e.mustBerth("delete", "--force", id)
}
