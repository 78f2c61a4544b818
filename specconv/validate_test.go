package specconv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validateCase is one row: a change to the Example spec and the error it
// must cause ("" for none).
type validateCase struct {
	name    string
	opts    Options
	mutate  func(s *specs.Spec, bundle string)
	wantErr string
}

var validCases = []validateCase{
	{name: "example as is", mutate: func(*specs.Spec, string) {}},
	{name: "rootless example", mutate: func(s *specs.Spec, _ string) { ToRootless(s) }},
	{name: "pre-release version", mutate: func(s *specs.Spec, _ string) { s.Version = "1.0.2-dev" }},
	{name: "version with build metadata", mutate: func(s *specs.Spec, _ string) { s.Version = "1.0.0-rc5+dev" }},
	{name: "newer minor version", mutate: func(s *specs.Spec, _ string) { s.Version = "1.9.0" }},
	{name: "absolute root path", mutate: func(s *specs.Spec, b string) { s.Root.Path = filepath.Join(b, "rootfs") }},
	{name: "root path with dot segments", mutate: func(s *specs.Spec, _ string) { s.Root.Path = "./rootfs/../rootfs" }},
	{name: "terminal with console size", mutate: func(s *specs.Spec, _ string) {
		s.Process.ConsoleSize = &specs.Box{Height: 24, Width: 80}
	}},
	{name: "console size without terminal is ignored", mutate: func(s *specs.Spec, _ string) {
		s.Process.Terminal = false
		s.Process.ConsoleSize = &specs.Box{Height: 24, Width: 80}
	}},
	{name: "additional gids and umask", mutate: func(s *specs.Spec, _ string) {
		umask := uint32(0o22)
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: &umask}
	}},
	{name: "env with empty value and equals in value", mutate: func(s *specs.Spec, _ string) {
		s.Process.Env = append(s.Process.Env, "EMPTY=", "EXPR=a=b")
	}},
	{name: "every capability in every set", mutate: func(s *specs.Spec, _ string) {
		all := make([]string, 0, len(capabilities))
		for c := range capabilities {
			all = append(all, c)
		}
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Inheritable: all, Permitted: all, Ambient: all}
	}},
	{name: "several rlimits, soft equal to hard", mutate: func(s *specs.Spec, _ string) {
		s.Process.Rlimits = []specs.POSIXRlimit{
			{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096},
			{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
			{Type: "RLIMIT_NPROC", Soft: 100, Hard: 100},
		}
	}},
	{name: "oomScoreAdj at both ends", mutate: func(s *specs.Spec, _ string) { s.Process.OOMScoreAdj = intPtr(-1000) }},
	{name: "oomScoreAdj maximum", mutate: func(s *specs.Spec, _ string) { s.Process.OOMScoreAdj = intPtr(1000) }},
	{name: "no namespaces but mount", mutate: func(s *specs.Spec, _ string) {
		s.Hostname = ""
		s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	}},
	{name: "joined network namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.NetworkNamespace, "/proc/self/ns/net")
	}},
	{name: "joined uts namespace with hostname", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.UTSNamespace, "/proc/self/ns/uts")
	}},
	{name: "joined user namespace without mappings", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.UserNamespace, "/proc/self/ns/user")
	}},
	{name: "new user namespace with ranges", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.UserNamespace, "")
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 1000, HostID: 1000, Size: 1}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}},
	{name: "mapping up to the last id", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.UserNamespace, "")
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 4294967294, HostID: 4294967294, Size: 2}}
	}},
	{name: "time namespace with offsets", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.TimeNamespace, "")
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
			"monotonic": {Secs: -3600, Nanosecs: 999999999},
			"boottime":  {Secs: 86400},
		}
	}},
	{name: "namespaced sysctls", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Sysctl = map[string]string{
			"net.ipv4.ip_forward":       "1",
			"net/ipv6/conf/all/mtu":     "1500",
			"kernel.shmmax":             "1000000",
			"kernel.shm_rmid_forced":    "1",
			"kernel.msgmax":             "8192",
			"kernel.sem":                "250 32000 32 128",
			"fs.mqueue.queues_max":      "256",
			"kernel.domainname":         "example.org",
			"kernel.hostname":           "berth",
			"kernel.msg_next_id":        "-1",
			"net.core.somaxconn":        "1024",
			"net.ipv4.ping_group_range": "0 0",
		}
	}},
	{name: "systemd cgroups path", opts: Options{SystemdCgroup: true}, mutate: func(s *specs.Spec, _ string) {
		s.Linux.CgroupsPath = "system.slice:berth:abc"
	}},
	{name: "systemd cgroups path with default slice", opts: Options{SystemdCgroup: true}, mutate: func(s *specs.Spec, _ string) {
		s.Linux.CgroupsPath = ":berth:abc"
	}},
	{name: "absolute cgroups path", mutate: func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "/berth/abc" }},
	{name: "relative cgroups path with inner dot-dot", mutate: func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "berth/x/../abc" }},
	{name: "bind mount with source and unknown options", mutate: func(s *specs.Spec, b string) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/data", Type: "none", Source: b, Options: []string{"rbind", "ro"}},
			specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=64m", "whatever=1"}})
	}},
	{name: "devices of every type", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Devices = []specs.LinuxDevice{
			{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
			{Path: "/dev/loop0", Type: "b", Major: 7, Minor: 0},
			{Path: "/dev/ubuf", Type: "u", Major: 1, Minor: 3},
			{Path: "/dev/myfifo", Type: "p", Major: -1, Minor: -1},
			{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200},
		}
	}},
	{name: "hooks with timeouts", mutate: func(s *specs.Spec, _ string) {
		s.Hooks = &specs.Hooks{
			CreateRuntime: []specs.Hook{{Path: "/usr/bin/hook", Timeout: intPtr(5)}},
			Poststop:      []specs.Hook{{Path: "/bin/true"}},
		}
	}},
	{name: "rootfs propagation", mutate: func(s *specs.Spec, _ string) { s.Linux.RootfsPropagation = "rslave" }},
	{name: "resources accepted", mutate: func(s *specs.Spec, _ string) {
		limit := int64(64 << 20)
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	}},
}

var invalidCases = []validateCase{
	// ociVersion
	{name: "empty version", mutate: func(s *specs.Spec, _ string) { s.Version = "" },
		wantErr: `ociVersion "": missing`},
	{name: "major version 2", mutate: func(s *specs.Spec, _ string) { s.Version = "2.0.0" },
		wantErr: `ociVersion "2.0.0": unsupported major version 2 (berth supports 1.x)`},
	{name: "major version 0", mutate: func(s *specs.Spec, _ string) { s.Version = "0.5.0" },
		wantErr: `ociVersion "0.5.0": unsupported major version 0`},
	{name: "not semver", mutate: func(s *specs.Spec, _ string) { s.Version = "one" },
		wantErr: `ociVersion "one": not a semantic version`},
	{name: "two-part version", mutate: func(s *specs.Spec, _ string) { s.Version = "1.0" },
		wantErr: `ociVersion "1.0": not a semantic version`},

	// root
	{name: "no root", mutate: func(s *specs.Spec, _ string) { s.Root = nil },
		wantErr: `root: missing`},
	{name: "empty root path", mutate: func(s *specs.Spec, _ string) { s.Root.Path = "" },
		wantErr: `root.path "": empty`},
	{name: "missing rootfs", mutate: func(s *specs.Spec, _ string) { s.Root.Path = "nope" },
		wantErr: `root.path "nope": no such directory`},
	{name: "rootfs is a file", mutate: func(s *specs.Spec, b string) { s.Root.Path = "config.json" },
		wantErr: `root.path "config.json": not a directory`},

	// process
	{name: "no process", mutate: func(s *specs.Spec, _ string) { s.Process = nil },
		wantErr: `process: missing`},
	{name: "no args", mutate: func(s *specs.Spec, _ string) { s.Process.Args = nil },
		wantErr: `process.args: empty`},
	{name: "empty command", mutate: func(s *specs.Spec, _ string) { s.Process.Args = []string{"", "x"} },
		wantErr: `process.args[0] "": empty command`},
	{name: "no cwd", mutate: func(s *specs.Spec, _ string) { s.Process.Cwd = "" },
		wantErr: `process.cwd "": missing`},
	{name: "relative cwd", mutate: func(s *specs.Spec, _ string) { s.Process.Cwd = "tmp" },
		wantErr: `process.cwd "tmp": must be an absolute path`},
	{name: "env without equals", mutate: func(s *specs.Spec, _ string) { s.Process.Env = append(s.Process.Env, "FOO") },
		wantErr: `process.env[2] "FOO": missing '='`},
	{name: "env without name", mutate: func(s *specs.Spec, _ string) { s.Process.Env = []string{"=x"} },
		wantErr: `process.env[0] "=x": empty variable name`},
	{name: "env with NUL", mutate: func(s *specs.Spec, _ string) { s.Process.Env = []string{"A=b\x00c"} },
		wantErr: `process.env[0] "A=b\x00c": contains a NUL byte`},
	{name: "unknown capability", mutate: func(s *specs.Spec, _ string) {
		s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FOO")
	}, wantErr: `process.capabilities.bounding[3] "CAP_FOO": unknown capability`},
	{name: "capability without prefix", mutate: func(s *specs.Spec, _ string) {
		s.Process.Capabilities.Ambient = []string{"kill"}
	}, wantErr: `process.capabilities.ambient[0] "kill": unknown capability (did you mean "CAP_KILL"?)`},
	{name: "lower-case capability", mutate: func(s *specs.Spec, _ string) {
		s.Process.Capabilities.Inheritable = []string{"cap_chown"}
	}, wantErr: `process.capabilities.inheritable[0] "cap_chown": unknown capability (did you mean "CAP_CHOWN"?)`},
	{name: "unknown rlimit", mutate: func(s *specs.Spec, _ string) {
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_FOO"})
	}, wantErr: `process.rlimits[1].type "RLIMIT_FOO": unknown rlimit (want one of RLIMIT_AS,`},
	{name: "duplicate rlimit", mutate: func(s *specs.Spec, _ string) {
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1})
	}, wantErr: `process.rlimits[1].type "RLIMIT_NOFILE": duplicate (already at process.rlimits[0])`},
	{name: "soft above hard", mutate: func(s *specs.Spec, _ string) {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2048, Hard: 1024}}
	}, wantErr: `process.rlimits[0].soft 2048: greater than hard limit 1024`},
	{name: "oomScoreAdj too high", mutate: func(s *specs.Spec, _ string) { s.Process.OOMScoreAdj = intPtr(1001) },
		wantErr: `process.oomScoreAdj 1001: out of range (want -1000 to 1000)`},
	{name: "oomScoreAdj too low", mutate: func(s *specs.Spec, _ string) { s.Process.OOMScoreAdj = intPtr(-1001) },
		wantErr: `process.oomScoreAdj -1001: out of range`},

	// linux and namespaces
	{name: "no linux section", mutate: func(s *specs.Spec, _ string) { s.Linux = nil },
		wantErr: `linux: missing (berth only runs Linux containers`},
	{name: "unknown namespace type", mutate: func(s *specs.Spec, _ string) { s.Linux.Namespaces[2].Type = "foo" },
		wantErr: `linux.namespaces[2].type "foo": unknown namespace type (want one of pid, network, mount, ipc, uts, user, cgroup, time)`},
	{name: "empty namespace type", mutate: func(s *specs.Spec, _ string) { s.Linux.Namespaces[0].Type = "" },
		wantErr: `linux.namespaces[0].type "": unknown namespace type`},
	{name: "duplicate namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}, wantErr: `linux.namespaces[6].type "pid": duplicate (already at linux.namespaces[0])`},
	{name: "relative namespace path", mutate: func(s *specs.Spec, _ string) { s.Linux.Namespaces[1].Path = "proc/self/ns/net" },
		wantErr: `linux.namespaces[1].path "proc/self/ns/net": must be an absolute path`},
	{name: "missing namespace file", mutate: func(s *specs.Spec, _ string) { s.Linux.Namespaces[3].Path = "/proc/self/ns/xyz" },
		wantErr: `linux.namespaces[3].path "/proc/self/ns/xyz": no such file`},
	{name: "namespace path is a plain file", mutate: func(s *specs.Spec, b string) {
		s.Linux.Namespaces[1].Path = filepath.Join(b, "config.json")
	}, wantErr: `: not a namespace file (want /proc/<pid>/ns/net or a bind mount of it)`},
	{name: "namespace path of another type", mutate: func(s *specs.Spec, _ string) { s.Linux.Namespaces[1].Path = "/proc/self/ns/ipc" },
		wantErr: `linux.namespaces[1].path "/proc/self/ns/ipc": is an ipc namespace, not network`},
	{name: "no mount namespace: the runtime's mounts are kept", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.MountNamespace)
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	}},
	{name: "masked paths without a new mount namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.MountNamespace)
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = []string{"/proc/kcore"}, nil
	}, wantErr: `linux.maskedPaths: needs a new mount namespace`},
	{name: "readonly paths without a new mount namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.MountNamespace)
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, []string{"/proc/sys"}
	}, wantErr: `linux.readonlyPaths: needs a new mount namespace`},

	// user namespace mappings
	{name: "uid mappings without user namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
	}, wantErr: `linux.uidMappings: set without a user namespace`},
	{name: "gid mappings without user namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{Size: 1}}
	}, wantErr: `linux.gidMappings: set without a user namespace`},
	{name: "new user namespace without uid mappings", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.UserNamespace, "")
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{Size: 1}}
	}, wantErr: `linux.uidMappings: missing (the new user namespace at linux.namespaces[6] needs uid and gid mappings)`},
	{name: "new user namespace without gid mappings", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.UserNamespace, "")
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
	}, wantErr: `linux.gidMappings: missing`},
	{name: "mapping of size 0", mutate: func(s *specs.Spec, _ string) {
		ToRootless(s)
		s.Linux.UIDMappings[0].Size = 0
	}, wantErr: `linux.uidMappings[0].size 0: must be at least 1`},
	{name: "mapping past the id space", mutate: func(s *specs.Spec, _ string) {
		ToRootless(s)
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 4294967295, HostID: 0, Size: 2}}
	}, wantErr: `linux.gidMappings[0].size 2: maps container ids past 4294967295`},
	{name: "overlapping container ids", mutate: func(s *specs.Spec, _ string) {
		ToRootless(s)
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}, {ContainerID: 5, HostID: 5000, Size: 10}}
	}, wantErr: `linux.uidMappings[1]: container ids 5-14 overlap linux.uidMappings[0]`},
	{name: "overlapping host ids", mutate: func(s *specs.Spec, _ string) {
		ToRootless(s)
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}, {ContainerID: 100, HostID: 1009, Size: 1}}
	}, wantErr: `linux.uidMappings[1]: host ids 1009-1009 overlap linux.uidMappings[0]`},

	// time namespace
	{name: "time offsets without time namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
	}, wantErr: `linux.timeOffsets: needs a time namespace (add {"type":"time"} to linux.namespaces)`},
	{name: "time offsets for a joined time namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.TimeNamespace, "/proc/self/ns/time")
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
	}, wantErr: `linux.timeOffsets: needs a new time namespace, not the one joined at linux.namespaces[6].path`},
	{name: "unknown clock", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.TimeNamespace, "")
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
	}, wantErr: `linux.timeOffsets["realtime"]: unknown clock (want "monotonic" or "boottime")`},
	{name: "nanoseconds of a whole second", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.TimeNamespace, "")
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1000000000}}
	}, wantErr: `linux.timeOffsets["boottime"].nanosecs 1000000000: must be less than 1000000000`},

	// uts
	{name: "hostname without uts namespace", mutate: func(s *specs.Spec, _ string) {
		s.Hostname = "x"
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.UTSNamespace)
	}, wantErr: `hostname "x": needs a new uts namespace (add {"type":"uts"} to linux.namespaces)`},
	{name: "domainname without uts namespace", mutate: func(s *specs.Spec, _ string) {
		s.Hostname = ""
		s.Domainname = "example.org"
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.UTSNamespace)
	}, wantErr: `domainname "example.org": needs a new uts namespace`},

	// sysctl
	{name: "net sysctl without network namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.NetworkNamespace)
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	}, wantErr: `linux.sysctl["net.ipv4.ip_forward"]: needs a network namespace`},
	{name: "net sysctl in berth's own network namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withNamespace(s.Linux.Namespaces, specs.NetworkNamespace, "/proc/self/ns/net")
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	}, wantErr: `linux.sysctl["net.ipv4.ip_forward"]: not allowed in the host's network namespace (linux.namespaces[1].path is berth's own)`},
	{name: "shm sysctl without ipc namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.IPCNamespace)
		s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
	}, wantErr: `linux.sysctl["kernel.shmmax"]: needs an ipc namespace (add {"type":"ipc"} to linux.namespaces)`},
	{name: "mqueue sysctl without ipc namespace", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.IPCNamespace)
		s.Linux.Sysctl = map[string]string{"fs.mqueue.queues_max": "1"}
	}, wantErr: `linux.sysctl["fs.mqueue.queues_max"]: needs an ipc namespace`},
	{name: "domainname sysctl without uts namespace", mutate: func(s *specs.Spec, _ string) {
		s.Hostname = ""
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.UTSNamespace)
		s.Linux.Sysctl = map[string]string{"kernel.domainname": "x"}
	}, wantErr: `linux.sysctl["kernel.domainname"]: needs a uts namespace`},
	{name: "hostname sysctl contradicting hostname", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Sysctl = map[string]string{"kernel.hostname": "other"}
	}, wantErr: `linux.sysctl["kernel.hostname"] "other": conflicts with hostname "berth"`},
	{name: "host-wide vm sysctl", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Sysctl = map[string]string{"vm.swappiness": "0"}
	}, wantErr: `linux.sysctl["vm.swappiness"]: not namespaced`},
	{name: "host-wide kernel sysctl", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Sysctl = map[string]string{"kernel.pid_max": "10", "kernel.shmmax": "1"}
	}, wantErr: `linux.sysctl["kernel.pid_max"]: not namespaced`},
	{name: "sysctl key walking out of /proc/sys", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Sysctl = map[string]string{"net/../../x": "1"}
	}, wantErr: `linux.sysctl["net/../../x"]: not a sysctl name`},
	{name: "empty sysctl key", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Sysctl = map[string]string{"": "1"}
	}, wantErr: `linux.sysctl[""]: not a sysctl name`},

	// mounts
	{name: "mount without destination", mutate: func(s *specs.Spec, _ string) { s.Mounts[0].Destination = "" },
		wantErr: `mounts[0].destination "": missing`},
	{name: "relative mount destination", mutate: func(s *specs.Spec, _ string) { s.Mounts[2].Destination = "dev/pts" },
		wantErr: `mounts[2].destination "dev/pts": must be an absolute path`},
	{name: "rbind without source", mutate: func(s *specs.Spec, _ string) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "none", Options: []string{"rbind"}})
	}, wantErr: `mounts[7].source "": missing (a bind mount needs the path to bind)`},
	{name: "bind type without source", mutate: func(s *specs.Spec, _ string) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind"})
	}, wantErr: `mounts[7].source "": missing`},
	{name: "idmapped mount with uid mappings only", mutate: func(s *specs.Spec, b string) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: b,
			UIDMappings: []specs.LinuxIDMapping{{Size: 1}}})
	}, wantErr: `mounts[7]: uidMappings and gidMappings must be given together`},
	{name: "idmapped mount with empty range", mutate: func(s *specs.Spec, b string) {
		m := []specs.LinuxIDMapping{{Size: 0}}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: b, UIDMappings: m, GIDMappings: m})
	}, wantErr: `mounts[7].uidMappings[0].size 0: must be at least 1`},
	{name: "idmapped mount (not implemented: refused, not ignored)", mutate: func(s *specs.Spec, b string) {
		m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: b, Options: []string{"idmap"}, UIDMappings: m, GIDMappings: m})
	}, wantErr: `mounts[7].uidMappings: idmapped mounts are not supported by this berth build yet`},
	{name: "uid -1", mutate: func(s *specs.Spec, _ string) { s.Process.User.UID = 1<<32 - 1 },
		wantErr: `process.user.uid 4294967295: is (uid_t)-1`},
	{name: "gid -1", mutate: func(s *specs.Spec, _ string) { s.Process.User.GID = 1<<32 - 1 },
		wantErr: `process.user.gid 4294967295: is (uid_t)-1`},
	{name: "additional gid -1", mutate: func(s *specs.Spec, _ string) { s.Process.User.AdditionalGids = []uint32{5, 1<<32 - 1} },
		wantErr: `process.user.additionalGids[1] 4294967295: is (gid_t)-1, not a group id`},
	{name: "empty annotation key", mutate: func(s *specs.Spec, _ string) { s.Annotations = map[string]string{"a": "b", "": "c"} },
		wantErr: `annotations[""]: empty key (the runtime-spec forbids it)`},

	// devices
	{name: "relative device path", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "dev/fuse", Type: "c", Major: 10, Minor: 229}}
	}, wantErr: `linux.devices[0].path "dev/fuse": must be an absolute path under /dev`},
	{name: "device path outside /dev", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/../etc/shadow", Type: "c", Major: 1, Minor: 3}}
	}, wantErr: `linux.devices[0].path "/dev/../etc/shadow": must be an absolute path under /dev`},
	{name: "device at /dev itself", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev", Type: "c", Major: 1, Minor: 3}}
	}, wantErr: `linux.devices[0].path "/dev": must be an absolute path under /dev`},
	{name: "unknown device type", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "x"}}
	}, wantErr: `linux.devices[0].type "x": unknown device type (want c, b, u or p)`},
	{name: "negative major", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "c", Major: -1}}
	}, wantErr: `linux.devices[0].major -1: must not be negative`},
	{name: "negative minor", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "b", Minor: -2}}
	}, wantErr: `linux.devices[0].minor -2: must not be negative`},
	{name: "duplicate device", mutate: func(s *specs.Spec, _ string) {
		s.Linux.Devices = []specs.LinuxDevice{
			{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
			{Path: "/dev//fuse", Type: "c", Major: 10, Minor: 229},
		}
	}, wantErr: `linux.devices[1].path "/dev//fuse": duplicate (already at linux.devices[0])`},

	// propagation, masked and read-only paths
	{name: "unknown rootfs propagation", mutate: func(s *specs.Spec, _ string) { s.Linux.RootfsPropagation = "bogus" },
		wantErr: `linux.rootfsPropagation "bogus": unknown propagation`},
	{name: "relative masked path", mutate: func(s *specs.Spec, _ string) { s.Linux.MaskedPaths[1] = "proc/asound" },
		wantErr: `linux.maskedPaths[1] "proc/asound": must be an absolute path`},
	{name: "relative read-only path", mutate: func(s *specs.Spec, _ string) { s.Linux.ReadonlyPaths[0] = "" },
		wantErr: `linux.readonlyPaths[0] "": must be an absolute path`},

	// hooks
	{name: "relative hook path", mutate: func(s *specs.Spec, _ string) {
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "hook"}}}
	}, wantErr: `hooks.prestart[0].path "hook": must be an absolute path`},
	{name: "empty hook path", mutate: func(s *specs.Spec, _ string) {
		s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true"}, {}}}
	}, wantErr: `hooks.createContainer[1].path "": must be an absolute path`},
	{name: "zero hook timeout", mutate: func(s *specs.Spec, _ string) {
		s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Timeout: intPtr(0)}}}
	}, wantErr: `hooks.poststop[0].timeout 0: must be a positive number of seconds`},
	{name: "negative hook timeout", mutate: func(s *specs.Spec, _ string) {
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true", Timeout: intPtr(-3)}}}
	}, wantErr: `hooks.startContainer[0].timeout -3: must be a positive`},

	// cgroupsPath
	{name: "systemd cgroups path not in slice:prefix:name form", opts: Options{SystemdCgroup: true},
		mutate:  func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "/berth/abc" },
		wantErr: `linux.cgroupsPath "/berth/abc": with --systemd-cgroup, want "slice:prefix:name"`},
	{name: "systemd cgroups path without name", opts: Options{SystemdCgroup: true},
		mutate:  func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "system.slice:berth:" },
		wantErr: `linux.cgroupsPath "system.slice:berth:": empty name`},
	{name: "systemd cgroups path with a bad slice", opts: Options{SystemdCgroup: true},
		mutate:  func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "system:berth:abc" },
		wantErr: `linux.cgroupsPath "system:berth:abc": slice "system" is not a systemd slice name`},
	{name: "systemd cgroups path with slash in name", opts: Options{SystemdCgroup: true},
		mutate:  func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "system.slice:berth:a/b" },
		wantErr: `linux.cgroupsPath "system.slice:berth:a/b": prefix and name cannot contain "/"`},
	{name: "relative cgroups path escaping", mutate: func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "../x" },
		wantErr: `linux.cgroupsPath "../x": escapes the cgroup root`},
	{name: "absolute cgroups path escaping", mutate: func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "/../x" },
		wantErr: `linux.cgroupsPath "/../x": escapes the cgroup root`},
	{name: "cgroups path escaping after descending", mutate: func(s *specs.Spec, _ string) { s.Linux.CgroupsPath = "a/../../x" },
		wantErr: `linux.cgroupsPath "a/../../x": escapes the cgroup root`},
}

func TestValidate(t *testing.T) {
	cases := append(append([]validateCase(nil), validCases...), invalidCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			writeConfig(t, bundle, []byte("{}")) // a plain file to point paths at
			spec := Example()
			tc.mutate(spec, bundle)
			err := Validate(spec, bundle, tc.opts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want one containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate error\n got: %v\nwant: ...%s...", err, tc.wantErr)
			}
			if testing.Verbose() {
				t.Log(err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("Validate error spans lines: %q", err)
			}
		})
	}
}

func TestValidateNilSpec(t *testing.T) {
	if err := Validate(nil, t.TempDir(), Options{}); err == nil {
		t.Fatal("Validate(nil): no error")
	}
}

// TestValidateRelativeBundle checks that Validate resolves root.path against
// a bundle given relative to the current directory.
func TestValidateRelativeBundle(t *testing.T) {
	bundle := newBundle(t)
	t.Chdir(filepath.Dir(bundle))
	if err := Validate(Example(), filepath.Base(bundle), Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestEscapesRoot(t *testing.T) {
	for path, want := range map[string]bool{
		"":          false,
		"/":         false,
		"a/b/c":     false,
		"/a/../b":   false,
		"a/./../b":  false,
		"..":        true,
		"/..":       true,
		"a/../..":   true,
		"./../a":    true,
		"a/b/../..": false,
	} {
		if got := escapesRoot(path); got != want {
			t.Errorf("escapesRoot(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestMain drops the row that joins /proc/self/ns/time on kernels without
// time namespaces (before 5.6), where that file does not exist.
func TestMain(m *testing.M) {
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		invalidCases = dropCase(invalidCases, "time offsets for a joined time namespace")
	}
	os.Exit(m.Run())
}

func dropCase(cases []validateCase, name string) []validateCase {
	var out []validateCase
	for _, c := range cases {
		if c.name != name {
			out = append(out, c)
		}
	}
	return out
}

func TestSecurityRefused(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*specs.Spec)
		wantErr string
	}{
		{"seccomp action", func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"} }, `linux.seccomp.defaultAction: "SCMP_ACT_NOPE": unknown action`},
		{"seccomp notify default", func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActNotify} }, `"SCMP_ACT_NOTIFY" cannot be the default action`},
		{"seccomp arch", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_VAX"}}
		}, "linux.seccomp.architectures[0]"},
		{"seccomp op", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_ODD"}}}}}
		}, "linux.seccomp.syscalls[0].args[0].op"},
		{"seccomp wait killable", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}
		}, "needs libseccomp 2.6"},
	}
	for _, tt := range tests {
		spec := Example()
		tt.mutate(spec)
		err := checkSecurity(spec)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	if err := checkSecurity(Example()); err != nil {
		t.Errorf("default spec refused: %v", err)
	}
}
