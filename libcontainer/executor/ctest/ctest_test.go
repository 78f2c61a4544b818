package ctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/buildid"
	"github.com/berthrun/berth/internal/wire"
)

func TestWireCheck(t *testing.T) {
	bind := wire.Raw{}.U64(1, 2, 3).Str("/dst", "/src").U32(1)
	for _, tt := range []struct {
		name string
		m    *wire.Message
		b    []byte
		want string
	}{
		{"empty", &wire.Plan, nil, ""},
		{"mode", &wire.Plan, rec(wire.PlanMode, wire.Raw{}.U32(1)), ""},
		{"empty record", &wire.Plan, rec(wire.PlanNNP, nil), ""},
		{"rlimit", &wire.Plan, rec(wire.PlanRlimit, wire.Raw{}.U32(7, 0).U64(1, 2).Str("RLIMIT_NOFILE")), ""},
		{"rlimit without type", &wire.Plan, rec(wire.PlanRlimit, wire.Raw{}.U32(7, 0).U64(1, 2)), "record 9 (rlimit): unterminated string"},
		{"groups", &wire.Plan, rec(wire.PlanGroups, wire.Raw{}.U32(1, 2)), ""},
		{"groups odd", &wire.Plan, rec(wire.PlanGroups, []byte{1, 2, 3}), "record 6 (groups): not a list of u32"},
		{"short", &wire.Plan, rec(wire.PlanMode, []byte{1}), "record 1 (mode): short record"},
		{"left over", &wire.Plan, rec(wire.PlanMode, []byte{1, 0, 0, 0, 0}), "record 1 (mode): bytes left over"},
		{"tag 0", &wire.Plan, rec(0, nil), "unknown record 0"},
		{"tag past the table", &wire.Plan, rec(1000, nil), "unknown record 1000"},
		{"huge tag", &wire.Plan, rec(0xffffffff, nil), "unknown record 4294967295"},
		{"truncated header", &wire.Plan, []byte{1, 0, 0}, "truncated record"},
		{"overrun", &wire.Plan, []byte{2, 0, 0, 0, 9, 0, 0, 0, 'a', 0}, "record 2 overruns the message"},
		{"length 2^32-1", &wire.Plan, []byte{2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, "record 2 overruns the message"},
		{"bind", &wire.Rootfs, rec(wire.RfBind, bind), ""},
		{"bind without slot", &wire.Rootfs, rec(wire.RfBind, bind[:len(bind)-4]), "record 5 (bind): short record"},
		{"past the rootfs tags", &wire.Rootfs, rec(wire.RfCreateHooks+1, nil), "unknown record 35"},
		{"program", &wire.Rootfs, cat(rec(wire.RfCtx, []byte("x\x00")), rec(wire.RfPivot, nil),
			rec(wire.RfDev, wire.Raw{}.U32(1, 2, 3, 4, 5, 6, 7).Str("/dev/x"))), ""},
		{"time offset", &wire.Boot, rec(wire.BootTimeOffset, wire.Raw{}.Str("monotonic").U64(1<<63).U32(0)), ""},
		{"time offset with a 4-byte secs", &wire.Boot, rec(wire.BootTimeOffset, wire.Raw{}.Str("monotonic").U32(1, 0)), "record 6 (time_offset): short record"},
		{"join", &wire.Boot, rec(wire.BootJoin, wire.Raw{}.U32(0x20000).Str("/proc/1/ns/mnt")), ""},
		{"join without path", &wire.Boot, rec(wire.BootJoin, wire.Raw{}.U32(0x20000)), "record 1 (join): unterminated string"},
		{"cinit with data", &wire.Boot, rec(wire.BootCinit, []byte("1\x00")), "record 7 (cinit): bytes left over"},
	} {
		got := WireCheck(tt.m, tt.b)
		if got != tt.want {
			t.Errorf("%s: wire_check = %q, want %q", tt.name, got, tt.want)
		}
		// The Go twin agrees on what is well-formed.
		if goErr := wire.Check(tt.m, tt.b); (goErr == nil) != (got == "") {
			t.Errorf("%s: C says %q, wire.Check says %v", tt.name, got, goErr)
		}
	}
}

func plan(extra ...[]byte) []byte {
	w := &wire.PlanWriter{}
	w.Mode(wire.PlanExec)
	w.Arg("/bin/true")
	w.Cwd("/")
	return cat(append([][]byte{w.Bytes()}, extra...)...)
}

func TestPlan(t *testing.T) {
	sock := make([]byte, 8) // one struct sock_filter
	for _, tt := range []struct {
		name string
		b    []byte
		want string // a line of the rendering, or the error
		ok   bool
	}{
		{"minimal", plan(), "mode 1 cwd / umask 22 uid 0 gid 0", true},
		{"args in order", plan(rec(wire.PlanArg, []byte("-x\x00"))), "arg /bin/true\narg -x\n", true},
		{"user", plan(rec(wire.PlanUser, wire.Raw{}.U32(1000, 100, 077))), "umask 77 uid 1000 gid 100", true},
		{"groups", plan(rec(wire.PlanGroups, wire.Raw{}.U32(5, 6))), "group 5\ngroup 6\n", true},
		{"rlimit", plan(rec(wire.PlanRlimit, wire.Raw{}.U32(7, 2).U64(10, 20).Str("RLIMIT_NOFILE"))), "rlimit 7 2 10 20 RLIMIT_NOFILE", true},
		{"oom negative", plan(rec(wire.PlanOOM, wire.Raw{}.U32(uint32(0xffffffff-999+1)))), "oom -999", true},
		{"seccomp", plan(rec(wire.PlanSeccomp, cat(wire.Raw{}.U32(1), sock, sock))), "seccomp 2 flags 1", true},
		{"seccomp empty", plan(rec(wire.PlanSeccomp, wire.Raw{}.U32(1))), "plan: bad seccomp program length 4", false},
		{"seccomp ragged", plan(rec(wire.PlanSeccomp, cat(wire.Raw{}.U32(1), sock[:5]))), "plan: bad seccomp program length 9", false},
		{"rootfs program", plan(rec(wire.PlanRootfs, rec(wire.RfPivot, nil))), "rootfs 8 ", true},
		{"console", plan(rec(wire.PlanConsole, wire.Raw{}.U32(5, 1, 24, 80, 1))), "console fd 5 proxied 1 size 24x80 bind 1", true},
		{"selinux", plan(rec(wire.PlanSelinux, []byte("u:r:t:s0\x00"))), "selinux u:r:t:s0", true},
		{"personality", plan(rec(wire.PlanPersonality, wire.Raw{}.U32(8))), "personality 0x8", true},
		{"mempolicy", plan(rec(wire.PlanMempolicy, cat(wire.Raw{}.U32(3, 65).Str("MPOL_INTERLEAVE", "0,2"), []byte{5, 0, 0, 0, 0, 0, 0, 0}))),
			"mempolicy 3 maxnode 65 MPOL_INTERLEAVE 0,2 mask 05 00 00 00 00 00 00 00", true},
		{"ioprio", plan(rec(wire.PlanIoprio, wire.Raw{}.U32(2<<13|6).Str("IOPRIO_CLASS_BE").U32(6))), "ioprio 0x4006 IOPRIO_CLASS_BE 6", true},
		{"sched", plan(rec(wire.PlanSched, wire.Raw{}.U32(3).U64(0).U32(uint32(0xffffffff-4+1), 0).U64(1, 2, 3).Str("SCHED_BATCH"))),
			"sched 3 flags 0 nice -4 prio 0 1 2 3 SCHED_BATCH", true},
		{"affinity", plan(rec(wire.PlanAffinity, cat(wire.Raw{}.Str("1"), []byte{2, 0, 0, 0, 0, 0, 0, 0}))), "affinity 1 mask 02 00", true},
		{"sched short", plan(rec(wire.PlanSched, wire.Raw{}.U32(3))), "plan: record 23 (sched)", false},
		{"no cwd", rec(wire.PlanMode, wire.Raw{}.U32(1)), "plan: no mode, args or cwd", false},
		{"bad mode", plan(rec(wire.PlanMode, wire.Raw{}.U32(9))), "plan: no mode, args or cwd", false},
		{"unknown record", plan(rec(99, nil)), "plan: unknown record 99", false},
		{"unterminated", plan(rec(wire.PlanEnv, []byte("A=b"))), "plan: record 3 (env): unterminated string", false},
		{"truncated", plan()[:7], "plan: truncated record", false},
	} {
		got, ok := Plan(tt.b)
		if ok != tt.ok || !strings.Contains(got, tt.want) {
			t.Errorf("%s: Plan = %v %q, want %v %q", tt.name, ok, got, tt.ok, tt.want)
		}
	}
}

// boot is a bootstrap written with the generated writer.
func boot(write func(w *wire.BootWriter)) []byte {
	w := &wire.BootWriter{}
	write(w)
	return w.Bytes()
}

// TestBootstrap: what Go's writer encodes, bootstrap.c reads back, every
// record; what it must refuse, it refuses with one line naming the record.
func TestBootstrap(t *testing.T) {
	const (
		user  = 0x10000000 // CLONE_NEWUSER
		mount = 0x20000    // CLONE_NEWNS
		time  = 0x80       // CLONE_NEWTIME
	)
	for _, tt := range []struct {
		name string
		b    []byte
		want string // the whole rendering, or the error
		ok   bool
	}{
		{"empty", nil, "clone 0\ncinit 0 affinity 0 setgroups 0 rootless 0\n", true},
		{"joins in order", boot(func(w *wire.BootWriter) {
			w.Join(user, "/proc/1/ns/user")
			w.Join(mount, "/proc/1/ns/mnt")
			w.Clone(0x20000)
		}), "join 0x10000000 /proc/1/ns/user\njoin 0x20000 /proc/1/ns/mnt\nclone 0x20000\ncinit 0 affinity 0 setgroups 0 rootless 0\n", true},
		{"maps and rootless", boot(func(w *wire.BootWriter) {
			w.Clone(user)
			w.UIDMap(0, 1000, 1)
			w.UIDMap(1, 100000, 65536)
			w.GIDMap(0, 4294967294, 1)
			w.Rootless()
			w.UIDHelper("/usr/bin/newuidmap")
			w.GIDHelper("/usr/bin/newgidmap")
			w.SetgroupsDeny()
			w.OOMScoreAdj(-999)
		}), "clone 0x10000000\nuidmap 0 1000 1\n1 100000 65536\n|\ngidmap 0 4294967294 1\n|\n" +
			"uidhelper /usr/bin/newuidmap\ngidhelper /usr/bin/newgidmap\noomscoreadj -999\ncinit 0 affinity 0 setgroups 1 rootless 1\n", true},
		{"time offsets", boot(func(w *wire.BootWriter) {
			w.Clone(time)
			w.TimeOffset("boottime", -5, 0)
			w.TimeOffset("monotonic", 1<<40, 999999999)
		}), "clone 0x80\ntimens boottime -5 0\nmonotonic 1099511627776 999999999\n|\ncinit 0 affinity 0 setgroups 0 rootless 0\n", true},
		{"flags", boot(func(w *wire.BootWriter) { w.Cinit(); w.KeepAffinity() }), "clone 0\ncinit 1 affinity 1 setgroups 0 rootless 0\n", true},
		{"host sources", boot(func(w *wire.BootWriter) { w.HostSource(1, "/a:b"); w.HostSource(0, "/c") }),
			"clone 0\nhostsrc 1 /a:b\nhostsrc 0 /c\ncinit 0 affinity 0 setgroups 0 rootless 0\n", true},
		{"unknown record", rec(99, nil), "unknown record 99", false},
		{"key=value text", []byte("clone=8\x00"), "record 1852796003 overruns the message", false},
		{"short map", rec(wire.BootUIDMap, wire.Raw{}.U32(0, 1000)), "record 3 (uid_map): short record", false},
		{"unterminated helper", rec(wire.BootUIDHelper, []byte("/x")), "record 10 (uid_helper): unterminated string", false},
		{"unknown namespace", boot(func(w *wire.BootWriter) { w.Join(1, "/x") }), "join: unknown namespace flag 0x1", false},
		{"two namespaces in one join", boot(func(w *wire.BootWriter) { w.Join(user|mount, "/x") }), "join: unknown namespace flag 0x10020000", false},
		{"no namespace", boot(func(w *wire.BootWriter) { w.Join(0, "/x") }), "join: unknown namespace flag 0", false},
		{"unknown clone flag", boot(func(w *wire.BootWriter) { w.Clone(user | 1) }), "clone: unknown flags 0x1", false},
		{"bad recursive", boot(func(w *wire.BootWriter) { w.HostSource(2, "/x") }), "host_source: recursive 2 is not 0 or 1", false},
		{"bad clock", boot(func(w *wire.BootWriter) { w.TimeOffset("monotonic 5", 1, 0) }), "time_offset: bad clock name", false},
		{"empty clock", boot(func(w *wire.BootWriter) { w.TimeOffset("", 1, 0) }), "time_offset: bad clock name", false},
	} {
		got, ok := Bootstrap(tt.b)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: Bootstrap = %v %q, want %v %q", tt.name, ok, got, tt.ok, tt.want)
		}
		// The Go twin of the reader agrees on what is well-formed.
		if tt.ok && wire.Check(&wire.Boot, tt.b) != nil {
			t.Errorf("%s: wire.Check refuses what C reads: %v", tt.name, wire.Check(&wire.Boot, tt.b))
		}
	}
	// More joins or host sources than nsexec.c keeps is an error, not an
	// overflow.
	for _, tt := range []struct {
		n     int
		write func(w *wire.BootWriter)
		want  string
	}{
		{17, func(w *wire.BootWriter) { w.Join(user, "/x") }, "join: more than 16 namespaces"},
		{65, func(w *wire.BootWriter) { w.HostSource(0, "/x") }, "host_source: more than 64"},
	} {
		w := &wire.BootWriter{}
		for range tt.n {
			tt.write(w)
		}
		if got, ok := Bootstrap(w.Bytes()); ok || got != tt.want {
			t.Errorf("%d records: %v %q, want %q", tt.n, ok, got, tt.want)
		}
		w = &wire.BootWriter{}
		for range tt.n - 1 {
			tt.write(w)
		}
		if got, ok := Bootstrap(w.Bytes()); !ok {
			t.Errorf("%d records: %q", tt.n-1, got)
		}
	}
}

func TestSyncParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want SyncMsg
		ok   bool
	}{
		{`{"type":"start"}`, SyncMsg{Type: "start"}, true},
		{` { "type" : "hooks-done" } `, SyncMsg{Type: "hooks-done"}, true},
		{`{"type":"pid","pid":42,"hostsrc":[3,4]}`, SyncMsg{Type: "pid", Pid: 42, HasPid: true}, true},
		{`{"type":"error","msg":"a \"b\" \\ \u00e9 \ud83d\ude00 \n"}`, SyncMsg{Type: "error", Msg: "a \"b\" \\ é 😀 \n"}, true},
		{`{"trace":[{"name":"x","ms":1.5e3,"ok":true,"n":null}],"type":"ready"}`, SyncMsg{Type: "ready"}, true},
		// What strstr accepted: "start" somewhere else in the packet.
		{`{"type":"error","msg":"\"start\""}`, SyncMsg{Type: "error", Msg: `"start"`}, true},
		{`{"type":"start"`, SyncMsg{}, false},
		{`{"type":"start"} x`, SyncMsg{}, false},
		{`{"type":start}`, SyncMsg{}, false},
		{`{"type":"start",}`, SyncMsg{}, false},
		{`{"pid":1.5}`, SyncMsg{}, false},
		{`{"pid":01}`, SyncMsg{}, false},
		{`{"type":"a\u12"}`, SyncMsg{}, false},
		{`{"type":"a\ud800"}`, SyncMsg{}, false},
		{"{\"type\":\"a\x01\"}", SyncMsg{}, false},
		{`{"type":"` + strings.Repeat("x", 40) + `"}`, SyncMsg{}, false},
		{`[]`, SyncMsg{}, false},
		{``, SyncMsg{}, false},
		{strings.Repeat(`{"a":`, 20) + `1` + strings.Repeat(`}`, 20), SyncMsg{}, false},
	} {
		got, ok := ParseSync([]byte(tt.in))
		if ok != tt.ok || got != tt.want {
			t.Errorf("%q: ParseSync = %+v %v, want %+v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// brief renders a brief as brief.go does, with the given values.
func brief(header string, values []string) []byte {
	var b strings.Builder
	b.WriteString(header)
	for i, name := range wire.BriefFields {
		fmt.Fprintf(&b, "%s %d\n%s\n", name, len(values[i]), values[i])
	}
	return []byte(b.String())
}

func TestBrief(t *testing.T) {
	head := BriefHeader()
	if want := fmt.Sprintf("berth-brief %d %s %s\n", wire.BriefVersion, wire.SchemaHash, buildid.Get()); buildid.Get() == "" || head != want {
		t.Fatalf("C wants header %q, Go writes %q", head, want)
	}
	values := make([]string, len(wire.BriefFields))
	for i, name := range wire.BriefFields {
		values[i] = name + "\nvalue\x01 "
	}
	values[3] = ""
	got, ok := Brief(brief(head, values))
	if !ok || strings.Join(got, "|") != strings.Join(values, "|") {
		t.Fatalf("Brief = %v %q", ok, got)
	}
	good := brief(head, values)
	for name, b := range map[string][]byte{
		"other schema": brief(strings.Replace(head, wire.SchemaHash, "0123456789abcdef", 1), values),
		"other build":  brief(strings.Replace(head, buildid.Get(), strings.Repeat("0", len(buildid.Get())), 1), values),
		"old version":  brief("berth-brief 3\n", values),
		"trailing":     append(good[:len(good):len(good)], 'x'),
		"cut":          good[:len(good)-1],
		"wrong name":   []byte(strings.Replace(string(good), "\nbundle ", "\nbundlx ", 1)),
		"long length":  []byte(strings.Replace(string(good), "\nowner 13\n", "\nowner 99\n", 1)),
		"sign":         []byte(strings.Replace(string(good), "\nowner 13\n", "\nowner +13\n", 1)),
	} {
		if _, ok := Brief(b); ok {
			t.Errorf("%s: brief accepted", name)
		}
	}
}

func TestParseGlobals(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want Globals
		ok   bool
	}{
		{[]string{"berth", "list"}, Globals{Next: 1}, true},
		{[]string{"berth", "--root", "/r", "state", "x"}, Globals{Root: "/r", RootSet: true, Next: 3}, true},
		{[]string{"berth", "--root=/r", "--log", "/l", "--log-format=json", "list"}, Globals{Root: "/r", RootSet: true, Log: "/l", LogJSON: true, Next: 5}, true},
		{[]string{"berth", "--systemd-cgroup", "list"}, Globals{Next: 2}, true},
		{[]string{"berth", "--root", "/a", "--root", "/b", "list"}, Globals{}, false},
		{[]string{"berth", "--root="}, Globals{}, false},
		{[]string{"berth", "--root"}, Globals{}, false},
		{[]string{"berth", "--log-format", "xml", "list"}, Globals{}, false},
		{[]string{"berth", "--debug", "list"}, Globals{Debug: true, Next: 2}, true},
		{[]string{"berth", "--debug", "--debug", "list"}, Globals{}, false},
		{[]string{"berth", "--debug=true", "list"}, Globals{}, false},
	} {
		got, ok := ParseGlobals(tt.args)
		if ok && !tt.want.RootSet {
			got.Root = "" // the default is the rootless work's to choose
		}
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%q: ParseGlobals = %+v %v, want %+v %v", tt.args, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "A-b_c.9": true, strings.Repeat("x", 1024): true,
		"": false, "-a": false, ".a": false, "a/b": false, "a b": false, strings.Repeat("x", 1025): false, "é": false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v", id, got)
		}
	}
}
