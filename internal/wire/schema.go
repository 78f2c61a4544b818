// Package wire declares, once, every message that crosses from Go to the C
// code that runs before the Go runtime (libcontainer/nsenter): the C init's
// process plan, the rootfs program, the bootstrap, the state.brief and the
// sync messages C reads. `go generate` turns this declaration into the Go
// constants both sides' Go code uses (wire_gen.go) and a C header and table
// (libcontainer/nsenter/wire_gen.h, wire_gen.c) the C files include instead
// of numbers kept by hand; `make lint` fails when they are stale.
//
// SchemaHash, a hash of everything below but the comments, is stamped on
// state.brief: a brief written by a build with another schema is not
// trusted (the C side falls back to Go).
//
// To add a field: append a record with the next free tag to its message
// (never reuse or renumber one), write it in the Go encoder and read it in
// the C step, run `go generate ./internal/wire`, and bump the message's
// Version if an old reader would misread it.
package wire

//go:generate go run ./gen -go wire_gen.go -c ../../libcontainer/nsenter/wire_gen

// Format is how a message is framed.
type Format int

const (
	// TLV: records of a u32 tag, a u32 length and that many bytes
	// (internal/tlv); integers in host byte order, strings NUL-terminated.
	TLV Format = iota
	// KV: NUL-terminated "key=value" entries (the bootstrap).
	KV
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
	Str   Kind = 's' // bytes up to and including a NUL
	U32s  Kind = 'a' // u32s to the end of the record (last only)
	Bytes Kind = 'b' // the rest of the record, opaque (last only)
)

// Arg is one argument of a record.
type Arg struct {
	Name string
	Kind Kind
}

// Record is one tag of a TLV message, one key of a KV message, one field of
// a Lines message or one type of a JSON message.
type Record struct {
	Tag  uint32 // TLV: the tag; others: unused
	Name string // TLV: snake case; else the wire name (KV key, Lines field, JSON type). It names the constants
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
var Messages = []*Message{&Plan, &Rootfs, &Boot, &Brief, &Sync, &Points}

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
	},
}

// Boot is the bootstrap (libcontainer/bootstrap.go → nsexec.c): the
// namespace work, as "key=value" entries. It stays text: its values are
// text the kernel takes as they are (id maps, time offsets).
var Boot = Message{
	Name: "boot", Go: "Boot", C: "BOOT", Format: KV, Version: 1,
	Doc: "the bootstrap",
	Records: []Record{
		{Name: "join", Doc: "<nstype>:<path>, in order, user first"},
		{Name: "clone", Doc: "CLONE_NEW* flags, decimal"},
		{Name: "uidmap", Doc: "uid_map contents"},
		{Name: "gidmap", Doc: "gid_map contents"},
		{Name: "setgroups", Doc: "deny: write it to setgroups first"},
		{Name: "timens", Doc: "timens_offsets contents"},
		{Name: "cinit", Doc: "1: a process plan packet follows"},
		{Name: "hostsrc", Doc: "<recursive>:<path>: a bind source opened from the host, in slot order"},
		{Name: "affinity", Doc: "keep: keep the CPU affinity the parent set"},
		{Name: "uidhelper", Doc: "newuidmap's path: it writes uid_map (rootless, more than the caller's own id)"},
		{Name: "gidhelper", Doc: "newgidmap's path: it writes gid_map"},
		{Name: "oomscoreadj", Doc: "oom_score_adj, written before the user namespace (rootless: it may not be lowered after)"},
		{Name: "rootless", Doc: "1: the caller is unprivileged (the init stays dumpable while its maps are written)"},
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
// encoding/json; C reads them with a small JSON reader (nsenter/syncmsg.c).
var Sync = Message{
	Name: "sync", Go: "Sync", C: "SYNC", Format: JSON, Version: 1,
	Doc: "sync socket messages",
	Records: []Record{
		{Name: "pid", Doc: "nsenter → parent: the init's host pid"},
		{Name: "config", Doc: "parent → init: what to build"},
		{Name: "rootfs", Doc: "parent → the C init's rootfs helper: the root to build"},
		{Name: "hooks", Doc: "init → parent: run prestart/createRuntime"},
		{Name: "hooks-done", Doc: "parent → init: those hooks passed"},
		{Name: "ready", Doc: "init → parent: created, waiting for start"},
		{Name: "start", Doc: "parent → init (run only): exec the process now"},
		{Name: "seccomp-fd", Doc: "init → parent: the seccomp notify listener"},
		{Name: "agent-has", Doc: "parent → init: the agent has the listener"},
		{Name: "error", Doc: "either way: the step that failed and why"},
		{Name: "trace", Doc: "rootfs helper → parent: its phases"},
	},
	Keys: []string{"type", "pid", "msg", "hostsrc", "trace"},
}

// Points are the trace points the C code passes (nsenter/trace.c), by the
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
