// Package wire declares, once, every message that crosses from Go to the C
// code that runs before the Go runtime (libcontainer/executor): the C init's
// process plan, the rootfs program, the bootstrap, the state.brief and the
// sync messages C reads. `go generate` turns this declaration into the Go
// constants both sides' Go code uses (wire_gen.go) and a C header and table
// (libcontainer/executor/wire_gen.h, wire_gen.c) the C files include instead
// of numbers kept by hand; `make lint` fails when they are stale.
//
// SchemaHash, a hash of everything below but the comments, is stamped on
// state.brief: a brief written by a build with another schema is not
// trusted (the C side falls back to Go).
//
// For every TLV message the generator also writes a typed encoder
// (PlanWriter, RfWriter, BootWriter): one method per record, taking its
// arguments with their Go types, so that Go code can only write a tag with
// the kinds declared here.
//
// To add a field: append a record with the next free tag to its message
// (never reuse or renumber one), run `go generate ./internal/wire`, call
// the new writer method in the Go encoder and read the record in the C
// step, and bump the message's Version if an old reader would misread it.
package wire

//go:generate go run ./gen -go wire_gen.go -c ../../libcontainer/executor/wire_gen

// Format is how a message is framed.
type Format int

const (
	// TLV: records of a u32 tag, a u32 length and that many bytes
	// (encode.go); integers in host byte order, strings NUL-terminated.
	TLV Format = iota
	// Lines: a header line, then "<name> <length>\n<bytes>\n" per field, in
	// the declared order (state.brief).
	Lines
	// JSON: one flat JSON object per packet with a "type" (the sync socket).
	JSON
	// Names: no message of its own, a set of names both sides must spell
	// alike (the trace points).
	Names
)

// Kind is the type of one argument of a TLV record. Numbers come as the
// encoder writes them; the C reader checks a record against its kinds
// before any step runs.
type Kind byte

const (
	U32   Kind = 'u' // 4 bytes
	I32   Kind = 'i' // 4 bytes, signed
	U64   Kind = 'U' // 8 bytes
	I64   Kind = 'I' // 8 bytes, signed
	Str   Kind = 's' // bytes up to and including a NUL
	U32s  Kind = 'a' // u32s to the end of the record (last only)
	Bytes Kind = 'b' // the rest of the record, opaque (last only)
)

// Arg is one argument of a record.
type Arg struct {
	Name string
	Kind Kind
}

// Record is one tag of a TLV message, one field of a Lines message or one
// type of a JSON message.
type Record struct {
	Tag  uint32 // TLV: the tag; others: unused
	Name string // TLV: snake case; else the wire name (Lines field, JSON type). It names the constants
	Args []Arg  // TLV only
	Doc  string
}

// Enum is a set of named values a record carries.
type Enum struct {
	Go, C  string // prefixes of the constants
	Names  []string
	Values []uint32
}

// Message is one Go↔C message.
type Message struct {
	Name    string
	Go, C   string // prefixes of the generated constants
	Format  Format
	Version int
	Records []Record
	Enums   []Enum
	Keys    []string // JSON: the keys C reads
	Doc     string
}

func a(name string, k Kind) Arg { return Arg{name, k} }

func strs(names ...string) []Arg {
	out := make([]Arg, len(names))
	for i, n := range names {
		out[i] = a(n, Str)
	}
	return out
}

func join(parts ...[]Arg) []Arg {
	var out []Arg
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Messages is the schema.
var Messages = []*Message{&Plan, &Rootfs, &Hooks, &HookState, &Boot, &Brief, &Sync, &Fail, &Points}

// Plan is the C init's process plan (libcontainer/cinit.go → cinit.c). It
// follows the bootstrap as a second packet; for fastexec.c it is also a
// record of state.brief, to which C appends the argv records.
var Plan = Message{
	Name: "plan", Go: "Plan", C: "PLAN", Format: TLV, Version: 1,
	Doc: "the C init's process plan",
	Records: []Record{
		{1, "mode", []Arg{a("mode", U32)}, "MODE_*"},
		{2, "arg", strs("arg"), "one per argument"},
		{3, "env", strs("var"), "one per variable"},
		{4, "cwd", strs("cwd"), ""},
		{5, "user", []Arg{a("uid", U32), a("gid", U32), a("umask", U32)}, ""},
		{6, "groups", []Arg{a("gids", U32s)}, "additional gids"},
		{7, "caps", []Arg{a("bounding", U64), a("effective", U64), a("permitted", U64),
			a("inheritable", U64), a("ambient", U64)}, ""},
		{8, "nnp", nil, "set no_new_privs"},
		{9, "rlimit", []Arg{a("resource", U32), a("index", U32), a("soft", U64), a("hard", U64),
			a("type", Str)}, "index and type name the config's entry in errors"},
		{10, "seccomp", []Arg{a("flags", U32), a("filter", Bytes)}, "struct sock_filter[]"},
		{11, "preserve", []Arg{a("n", U32)}, "fds 3..3+n-1 stay open"},
		{12, "fifo", []Arg{a("fd", U32)}, "the O_PATH fd of exec.fifo (create)"},
		{13, "keyring", strs("name"), "session keyring to join"},
		{14, "oom", []Arg{a("score", I32)}, "oom_score_adj"},
		{15, "rootfs", []Arg{a("program", Bytes)}, "a rootfs program: pid 1 builds the root itself"},
		{16, "apparmor", strs("profile"), "the AppArmor profile the execve enters"},
		{17, "start_hooks", []Arg{a("hooks", Bytes)}, "a hooks message: the startContainer hooks, run after start"},
		{18, "console", []Arg{a("fd", U32), a("proxied", U32), a("rows", U32), a("cols", U32), a("bind", U32)},
			"make a pty, send its master over fd; proxied: clear ONLCR; rows, cols: 0 for none; bind: on /dev/console (an init with a mount namespace of its own)"},
		{19, "selinux", strs("label"), "the SELinux label the execve enters"},
		{20, "personality", []Arg{a("persona", U32)}, "linux.personality"},
		{21, "mempolicy", []Arg{a("mode", U32), a("maxnode", U32), a("name", Str), a("nodes", Str), a("mask", Bytes)},
			"linux.memoryPolicy: mode with its flags, the node mask (unsigned longs); name and nodes for errors"},
		{22, "ioprio", []Arg{a("value", U32), a("class", Str), a("priority", I32)}, "process.ioPriority: class<<13|priority"},
		{23, "sched", []Arg{a("policy", U32), a("flags", U64), a("nice", I32), a("priority", U32),
			a("runtime", U64), a("deadline", U64), a("period", U64), a("name", Str)}, "process.scheduler; name: the policy, for errors"},
		{24, "affinity", []Arg{a("list", Str), a("mask", Bytes)}, "process.execCPUAffinity.final (exec): the CPU mask"},
	},
	Enums: []Enum{{Go: "Plan", C: "MODE", Names: []string{"exec", "create", "run"}, Values: []uint32{1, 2, 3}}},
}

// Rootfs is the rootfs program (libcontainer/rootfs/cprogram.go →
// crootfs.c): steps executed in order by the container's pid 1.
var Rootfs = Message{
	Name: "rootfs", Go: "Rf", C: "RF", Format: TLV, Version: 1,
	Doc: "the rootfs program",
	Records: []Record{
		{1, "ctx", strs("ctx"), "what the next steps' errors are about"},
		{2, "propagation", []Arg{a("flags", U64)}, "propagation of / in the new namespace"},
		{3, "root", strs("path"), "host path of the root: bind it on itself, open it"},
		{4, "fs", join([]Arg{a("flags", U64)}, strs("dest", "source", "fstype", "data")), ""},
		{5, "bind", join([]Arg{a("flags", U64), a("set", U64), a("clear", U64)}, strs("dest", "source"),
			[]Arg{a("slot", U32)}), "slot: 1-based host-opened source, 0: open source here"},
		{6, "mnt_prop", []Arg{a("flags", U64)}, "propagation of the last mount"},
		{7, "mnt_attr", []Arg{a("set", U64), a("clear", U64)}, "recursive attributes of the last mount"},
		{8, "cg_tmpfs", join([]Arg{a("flags", U64)}, strs("dest")), "the tmpfs holding v1 hierarchies"},
		{9, "cg_bind", join([]Arg{a("set", U64), a("clear", U64)}, strs("name", "hostdir")), ""},
		{10, "cg_fs", join([]Arg{a("flags", U64)}, strs("name", "fstype", "data")), ""},
		{11, "cg_link", strs("name", "target"), ""},
		{12, "cg_done", []Arg{a("set", U64), a("clear", U64)}, "remount the tmpfs read-only if set says so"},
		{13, "dev", join([]Arg{a("type", U32), a("major", U32), a("minor", U32), a("mode", U32),
			a("uid", U32), a("gid", U32), a("userns", U32)}, strs("path")), ""},
		{14, "devlinks", []Arg{a("kcore", U32)}, "add /dev/core"},
		{15, "hooks", nil, "tell the parent to run its hooks, wait for it"},
		{16, "pivot", nil, "pivot_root into the root, detach the old one"},
		{17, "hostname", strs("name"), ""},
		{18, "domainname", strs("name"), ""},
		{19, "sysctl", strs("path", "value"), "path below /proc/sys"},
		{20, "mkcwd", strs("cwd"), "make the cwd if missing"},
		{21, "ro_root", nil, "remount / read-only"},
		{22, "mask", strs("path"), ""},
		{23, "ro_path", strs("path"), ""},
		{24, "final_prop", []Arg{a("flags", U64)}, "propagation of / inside the new root"},
		{25, "fs_dir", join([]Arg{a("flags", U64)}, strs("dest", "source", "fstype", "data")),
			"as FS, on a destination that must be an ordinary directory"},
		{26, "ro_mount", strs("dest"), "make the mount at this destination read-only"},
		{27, "remount", join([]Arg{a("flags", U64), a("set", U64), a("clear", U64)},
			strs("dest", "source", "fstype", "data")),
			"change the existing mount at dest (MS_REMOUNT in flags; with MS_BIND, set and clear are its per-mount flags)"},
		{28, "copyup", join([]Arg{a("flags", U64), a("set", U64), a("clear", U64)},
			strs("dest", "source", "fstype", "data")),
			"mount a tmpfs with flags on dest, copy what dest held into it, then apply set/clear"},
		{29, "parent_private", strs("root"), "make the mount holding root private if it is shared"},
		{30, "move_root", nil, "no pivot_root: detach the host's procfs and sysfs, move the root over / and chroot"},
		{31, "chroot", strs("path"), "no mount namespace of its own: chroot into path, mount nothing"},
		{32, "bind_in_root", join([]Arg{a("flags", U64), a("set", U64), a("clear", U64)}, strs("dest", "source"),
			[]Arg{a("slot", U32)}), "as bind, with a source inside the rootfs, resolved in the root (slot 0)"},
		{33, "hook_state", nil, "read the hookstate packet the parent sends after hooks-done"},
		{34, "create_hooks", []Arg{a("hooks", Bytes)}, "a hooks message: the createContainer hooks, run in the root"},
	},
}

// Hooks is a list of OCI hooks for the C hook runner (executor/chooks.c):
// the createContainer hooks of a rootfs program, the startContainer hooks
// of a plan. Go renders
// everything but the process's environment, which only C has.
var Hooks = Message{
	Name: "hooks", Go: "Hook", C: "HOOK", Format: TLV, Version: 1,
	Doc: "a list of hooks",
	Records: []Record{
		{1, "hook", join([]Arg{a("timeout", U32), a("flags", U32)}, strs("path", "name")),
			"starts a hook: timeout in seconds (0: none), HOOK_FLAG_*, the name its errors start with"},
		{2, "arg", strs("arg"), "the hook's argv, in order (none: the path alone)"},
		{3, "env", strs("var"), "the hook's whole environment"},
	},
	Enums: []Enum{{Go: "HookFlag", C: "HOOK_FLAG", Names: []string{"process_env"}, Values: []uint32{1}}},
}

// HookState is the packet the parent sends after hooks-done when C runs
// hooks (the pid is not known when the plan and program are sent): the OCI
// state each kind of hook reads on stdin, rendered by Go.
var HookState = Message{
	Name: "hookstate", Go: "HookState", C: "HS", Format: TLV, Version: 1,
	Doc: "the hooks' state",
	Records: []Record{
		{1, "creating", []Arg{a("state", Bytes)}, "createContainer hooks' stdin"},
		{2, "created", []Arg{a("state", Bytes)}, "startContainer hooks' stdin"},
	},
}

// Boot is the bootstrap (libcontainer/bootstrap.go → nsexec.c, through
// bootstrap.c): the namespace work, the first packet of `berth init`. Every
// number is a number and every list is repeated records; C turns the id
// maps and time offsets into the text the kernel takes.
var Boot = Message{
	Name: "boot", Go: "Boot", C: "BOOT", Format: TLV, Version: 2,
	Doc: "the bootstrap",
	Records: []Record{
		{1, "join", join([]Arg{a("flag", U32)}, strs("path")), "a namespace to join (its CLONE_NEW* flag), in order, user first"},
		{2, "clone", []Arg{a("flags", U32)}, "CLONE_NEW* flags of the namespaces to create"},
		{3, "uid_map", []Arg{a("id", U32), a("host", U32), a("size", U32)}, "one line of uid_map, in order"},
		{4, "gid_map", []Arg{a("id", U32), a("host", U32), a("size", U32)}, "one line of gid_map, in order"},
		{5, "setgroups_deny", nil, "write deny to setgroups before gid_map"},
		{6, "time_offset", join(strs("clock"), []Arg{a("secs", I64), a("nanosecs", U32)}), "one line of timens_offsets"},
		{7, "cinit", nil, "a process plan packet follows"},
		{8, "host_source", join([]Arg{a("recursive", U32)}, strs("path")), "a bind source opened from the host, in slot order"},
		{9, "keep_affinity", nil, "keep the CPU affinity the parent set"},
		{10, "uid_helper", strs("path"), "newuidmap: it writes uid_map (rootless, more than the caller's own id)"},
		{11, "gid_helper", strs("path"), "newgidmap: it writes gid_map"},
		{12, "oom_score_adj", []Arg{a("score", I32)}, "written before the user namespace (rootless: it may not be lowered after)"},
		{13, "rootless", nil, "the caller is unprivileged (the init stays dumpable while its maps are written)"},
	},
}

// Brief is state.brief (libcontainer/brief.go → fastpath.c, fastops.c,
// fastexec.c). Its header names the version, SchemaHash and the build id.
var Brief = Message{
	Name: "brief", Go: "Brief", C: "F", Format: Lines, Version: 4,
	Doc: "state.brief",
	Records: []Record{
		{Name: "id"}, {Name: "pid"}, {Name: "start"}, {Name: "exe"}, {Name: "statejson"},
		{Name: "uid"}, {Name: "freezer"}, {Name: "frozen"}, {Name: "bundle"}, {Name: "bundlew"},
		{Name: "created"}, {Name: "owner"}, {Name: "ownerw"}, {Name: "state"}, {Name: "json"},
		{Name: "faststart"}, {Name: "fastdelete"}, {Name: "cgroups"}, {Name: "execboot"},
		{Name: "execplan"},
	},
}

// Sync is the sync socket's JSON messages that C sends or reads
// (libcontainer/sync.go). The Go init and parent decode them with
// encoding/json; C reads them with a small JSON reader (executor/syncmsg.c).
var Sync = Message{
	Name: "sync", Go: "Sync", C: "SYNC", Format: JSON, Version: 1,
	Doc: "sync socket messages",
	Records: []Record{
		{Name: "pid", Doc: "nsenter → parent: the init's host pid"},
		{Name: "config", Doc: "parent → init: what to build"},
		{Name: "hooks", Doc: "init → parent: run prestart/createRuntime"},
		{Name: "hooks-done", Doc: "parent → init: those hooks passed"},
		{Name: "ready", Doc: "init → parent: created, waiting for start"},
		{Name: "start", Doc: "parent → init (run only): exec the process now"},
		{Name: "seccomp-fd", Doc: "init → parent: the seccomp notify listener"},
		{Name: "agent-has", Doc: "parent → init: the agent has the listener"},
		{Name: "error", Doc: "either way: the step that failed and why"},
		{Name: "trace", Doc: "init → parent: its phases, before ready"},
	},
	Keys: []string{"type", "pid", "msg", "hostsrc", "trace"},
}

// Points are the trace points the C code passes (executor/trace.c), by the
// names Go's internal/trace uses for the same step: BERTH_TRACE=1 logs
// them and BERTH_TEST_CRASH_AT=<name> kills the process there, whichever
// side does the step. A point Go alone passes may stay a literal in Go.
var Points = Message{
	Name: "point", Go: "Point", C: "POINT", Format: Names, Version: 1,
	Doc: "trace and crash points",
	Records: []Record{
		{Name: "state:loaded", Doc: "state: the answer is built (fastpath.c, cmd/berth)"},
		{Name: "list:loaded", Doc: "list: the answer is built"},
		{Name: "start:fifo-open", Doc: "start: exec.fifo opened (fastops.c, Container.openFifo)"},
		{Name: "start:fifo-byte", Doc: "start: the init's byte read"},
		{Name: "start:fifo-closed", Doc: "start: the fifo closed at the init's execve"},
		{Name: "start:exec", Doc: "start: the process runs"},
		{Name: "start:poststart", Doc: "start: poststart hooks done (none in C)"},
		{Name: "delete:init-gone", Doc: "delete: no init left"},
		{Name: "delete:cgroup", Doc: "delete: cgroups removed"},
		{Name: "delete:state-removed", Doc: "delete: state directory removed"},
		{Name: "exec:loaded", Doc: "exec: the container loaded (fastexec.c: its brief)"},
		{Name: "exec:status", Doc: "exec: its status allows the exec"},
		{Name: "exec:sealed", Doc: "exec: berth sealed for the init"},
		{Name: "exec:started", Doc: "exec: berth init started"},
		{Name: "exec:cgroup", Doc: "exec: the init placed in the cgroups"},
		{Name: "exec:namespaces", Doc: "exec: the init's pid read"},
		{Name: "exec:ready", Doc: "exec: the init said ready"},
		{Name: "exec:exec", Doc: "exec: the process runs"},
		{Name: "stage0:bootstrap", Doc: "berth init stage 0 (nsexec.c): bootstrap and plan read"},
		{Name: "stage0:namespaces", Doc: "stage 0: namespaces joined and made"},
		{Name: "stage0:cloned", Doc: "stage 0: the init cloned, before its pid goes out"},
		{Name: "init:rootfs-prepare", Doc: "the init's mounts done, before the parent's hooks (crootfs.c, Go builder)"},
		{Name: "init:wait-hooks", Doc: "the parent's hooks done"},
		{Name: "init:pivot", Doc: "pivot_root done"},
		{Name: "init:rootfs-finish", Doc: "the root finished (read-only, masked paths, ...)"},
		{Name: "init:process", Doc: "the process set up, before ready (cinit.c, Go init)"},
	},
}

// Fail is an init's error as a record, not text (issue 21): the C stages
// send it on the sync socket in place of a JSON "error" message (a TLV
// packet never starts with '{'), and the parent renders it with Render.
// The Go init builds the same record (Failure) at the same steps.
var Fail = Message{
	Name: "fail", Go: "Fail", C: "FAIL", Format: TLV, Version: 1,
	Doc: "an init's error: step, arguments, errno",
	Records: []Record{
		{1, "step", []Arg{a("step", U32), a("errno", U32)}, "STEP_* (Steps), and the errno or 0; exactly one"},
		{2, "ctx", strs("ctx"), "what the step was about (a rootfs program's ctx)"},
		{3, "arg", strs("arg"), "the step's {N}, in order, at most 10"},
		{4, "why", strs("why"), "the cause when it is no errno"},
	},
}
