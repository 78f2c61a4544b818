package ctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/buildid"
	"github.com/berthrun/berth/internal/tlv"
	"github.com/berthrun/berth/internal/wire"
)

func rec(tag uint32, data []byte) []byte {
	w := &tlv.Writer{}
	w.Rec(tag, data)
	return w.B
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestWireCheck(t *testing.T) {
	bind := tlv.Data{}.U64(1, 2, 3).Str("/dst", "/src").U32(1)
	for _, tt := range []struct {
		name string
		m    *wire.Message
		b    []byte
		want string
	}{
		{"empty", &wire.Plan, nil, ""},
		{"mode", &wire.Plan, rec(wire.PlanMode, tlv.Data{}.U32(1)), ""},
		{"empty record", &wire.Plan, rec(wire.PlanNNP, nil), ""},
		{"rlimit", &wire.Plan, rec(wire.PlanRlimit, tlv.Data{}.U32(7, 0).U64(1, 2).Str("RLIMIT_NOFILE")), ""},
		{"rlimit without type", &wire.Plan, rec(wire.PlanRlimit, tlv.Data{}.U32(7, 0).U64(1, 2)), "record 9 (rlimit): unterminated string"},
		{"groups", &wire.Plan, rec(wire.PlanGroups, tlv.Data{}.U32(1, 2)), ""},
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
		{"rootfs tag in plan space", &wire.Rootfs, rec(wire.RfRoMount+1, nil), "unknown record 27"},
		{"program", &wire.Rootfs, cat(rec(wire.RfCtx, []byte("x\x00")), rec(wire.RfPivot, nil),
			rec(wire.RfDev, tlv.Data{}.U32(1, 2, 3, 4, 5, 6, 7).Str("/dev/x"))), ""},
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
	w := &tlv.Writer{}
	w.U32(wire.PlanMode, wire.PlanExec)
	w.Str(wire.PlanArg, "/bin/true")
	w.Str(wire.PlanCwd, "/")
	return cat(append([][]byte{w.B}, extra...)...)
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
		{"user", plan(rec(wire.PlanUser, tlv.Data{}.U32(1000, 100, 077))), "umask 77 uid 1000 gid 100", true},
		{"groups", plan(rec(wire.PlanGroups, tlv.Data{}.U32(5, 6))), "group 5\ngroup 6\n", true},
		{"rlimit", plan(rec(wire.PlanRlimit, tlv.Data{}.U32(7, 2).U64(10, 20).Str("RLIMIT_NOFILE"))), "rlimit 7 2 10 20 RLIMIT_NOFILE", true},
		{"oom negative", plan(rec(wire.PlanOOM, tlv.Data{}.U32(uint32(0xffffffff-999+1)))), "oom -999", true},
		{"seccomp", plan(rec(wire.PlanSeccomp, cat(tlv.Data{}.U32(1), sock, sock))), "seccomp 2 flags 1", true},
		{"seccomp empty", plan(rec(wire.PlanSeccomp, tlv.Data{}.U32(1))), "plan: bad seccomp program length 4", false},
		{"seccomp ragged", plan(rec(wire.PlanSeccomp, cat(tlv.Data{}.U32(1), sock[:5]))), "plan: bad seccomp program length 9", false},
		{"rootfs program", plan(rec(wire.PlanRootfs, rec(wire.RfPivot, nil))), "rootfs 8 ", true},
		{"no cwd", rec(wire.PlanMode, tlv.Data{}.U32(1)), "plan: no mode, args or cwd", false},
		{"bad mode", plan(rec(wire.PlanMode, tlv.Data{}.U32(9))), "plan: no mode, args or cwd", false},
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

func TestBootstrap(t *testing.T) {
	kv := func(entries ...string) []byte { return []byte(strings.Join(entries, "\x00") + "\x00") }
	for _, tt := range []struct {
		name string
		b    []byte
		want string
		ok   bool
	}{
		{"empty", nil, "clone 0\ncinit 0 affinity 0 setgroups 0\n", true},
		{"joins in order", kv(wire.BootJoin+"=user:/proc/1/ns/user", wire.BootJoin+"=mount:/proc/1/ns/mnt", wire.BootClone+"=131072"),
			"join 0x10000000 /proc/1/ns/user\njoin 0x20000 /proc/1/ns/mnt\nclone 0x20000\n", true},
		{"maps", kv(wire.BootUidmap+"=0 1000 1\n", wire.BootGidmap+"=0 1000 1\n", wire.BootSetgroups+"=deny"),
			"uidmap 0 1000 1\n|\ngidmap 0 1000 1\n|\n", true},
		{"flags", kv(wire.BootCinit+"=1", wire.BootAffinity+"=keep"), "cinit 1 affinity 1", true},
		{"hostsrc", kv(wire.BootHostsrc+"=1:/a:b", wire.BootHostsrc+"=0:/c"), "hostsrc 1 /a:b\nhostsrc 0 /c\n", true},
		{"unknown keys and entries without = are ignored", kv("future=1", "junk"), "clone 0\n", true},
		{"unterminated last entry", []byte(wire.BootClone + "=8"), "clone 0x8\n", true},
		{"unknown namespace", kv(wire.BootJoin + "=bogus:/x"), "bootstrap: unknown namespace bogus", false},
		{"join without path", kv(wire.BootJoin + "=user"), "bootstrap: bad join entry", false},
		{"bad hostsrc", kv(wire.BootHostsrc + "=2:/x"), "bootstrap: bad hostsrc entry", false},
		{"short hostsrc", kv(wire.BootHostsrc + "=1"), "bootstrap: bad hostsrc entry", false},
	} {
		got, ok := Bootstrap(tt.b)
		if ok != tt.ok || !strings.Contains(got, tt.want) {
			t.Errorf("%s: Bootstrap = %v %q, want %v %q", tt.name, ok, got, tt.ok, tt.want)
		}
		// A parse error is the whole message: no errno left over from
		// an earlier call appended to it.
		if !tt.ok && !strings.HasSuffix(strings.TrimSpace(got), tt.want) {
			t.Errorf("%s: Bootstrap error %q, want it to end with %q", tt.name, got, tt.want)
		}
	}
	// More joins than nsexec.c keeps is an error, not an overflow.
	var many []string
	for range 17 {
		many = append(many, wire.BootJoin+"=network:/x")
	}
	if got, ok := Bootstrap(kv(many...)); ok || !strings.Contains(got, "bad join entry") {
		t.Errorf("17 joins: %v %q", ok, got)
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
