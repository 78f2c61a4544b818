package ctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/berthrun/berth/internal/trace"
	"github.com/berthrun/berth/internal/wire"
)

// The C code is not instrumented for coverage, so the fuzzer mutates
// these seeds blindly around the shapes Go really sends; the properties
// are differential where Go has a twin.

func seedPlans(f *testing.F) {
	f.Add(plan())
	f.Add(plan(rec(wire.PlanRlimit, wire.Raw{}.U32(7, 0).U64(1, 2).Str("RLIMIT_NOFILE")),
		rec(wire.PlanGroups, wire.Raw{}.U32(1, 2)), rec(wire.PlanSeccomp, append(wire.Raw{}.U32(0), make([]byte, 16)...)),
		rec(wire.PlanRootfs, cat(rec(wire.RfCtx, []byte("x\x00")), rec(wire.RfBind, wire.Raw{}.U64(1, 2, 3).Str("/d", "/s").U32(0))))))
	f.Add([]byte{})
}

// FuzzWireCheck: C's wire_check and Go's wire.Check accept the same
// messages, for every TLV message.
func FuzzWireCheck(f *testing.F) {
	seedPlans(f)
	f.Add(boot(func(w *wire.BootWriter) {
		w.Join(0x20000, "/m")
		w.TimeOffset("boottime", -1, 2)
		w.OOMScoreAdj(5)
	}))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range []*wire.Message{&wire.Plan, &wire.Rootfs, &wire.Boot, &wire.Hooks, &wire.HookState} {
			c, g := WireCheck(m, b), wire.Check(m, b)
			if (c == "") != (g == nil) {
				t.Fatalf("%s: C %q, Go %v", m.Name, c, g)
			}
		}
	})
}

// FuzzPlan: cinit_parse never crashes; it fails with a "plan:" error or
// accepts only what the schema does.
func FuzzPlan(f *testing.F) {
	seedPlans(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ok := Plan(b)
		if !ok && !strings.HasPrefix(out, "plan: ") {
			t.Fatalf("error %q", out)
		}
		if ok && wire.Check(&wire.Plan, b) != nil {
			t.Fatalf("C accepted a plan the schema refuses: %v", wire.Check(&wire.Plan, b))
		}
	})
}

// FuzzHooks: chooks_parse never crashes; it accepts only what the schema
// does, and every hook it accepts has an argv.
func FuzzHooks(f *testing.F) {
	f.Add(hookRec(1, wire.HookFlagProcessEnv, "/bin/sh", "h", []string{"sh"}, []string{"A=1"}))
	f.Add(cat(hookRec(0, 0, "/a", "h0", nil, nil), hookRec(0, 0, "/b", "h1", []string{"b"}, nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ok := Hooks(b, []string{"P=1"})
		if ok && wire.Check(&wire.Hooks, b) != nil {
			t.Fatalf("C accepted hooks the schema refuses: %v", wire.Check(&wire.Hooks, b))
		}
		if ok && len(b) > 0 && !strings.Contains(out, "argv [") {
			t.Fatalf("a hook without argv: %q", out)
		}
	})
}

// FuzzBootstrap: bootstrap.c never crashes or overflows its tables, reads
// only what the schema accepts (wire.Check), and fails with one line.
func FuzzBootstrap(f *testing.F) {
	f.Add(boot(func(w *wire.BootWriter) {
		w.Join(0x10000000, "/proc/1/ns/user")
		w.Clone(0x20000)
		w.UIDMap(0, 0, 1)
		w.GIDMap(0, 0, 1)
		w.Cinit()
	}))
	f.Add(boot(func(w *wire.BootWriter) {
		w.HostSource(1, "/a")
		w.HostSource(0, "/b")
		w.KeepAffinity()
		w.SetgroupsDeny()
		w.TimeOffset("monotonic", 1, 0)
		w.OOMScoreAdj(-1)
		w.UIDHelper("/usr/bin/newuidmap")
		w.Rootless()
	}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ok := Bootstrap(b)
		if !ok && (out == "" || strings.Contains(out, "\n")) {
			t.Fatalf("error %q", out)
		}
		if ok && wire.Check(&wire.Boot, b) != nil {
			t.Fatalf("C read a bootstrap the schema refuses: %v", wire.Check(&wire.Boot, b))
		}
	})
}

// FuzzSyncParse: what syncmsg.c accepts is JSON, and the type, msg and
// pid it reads are what encoding/json reads.
func FuzzSyncParse(f *testing.F) {
	for _, s := range []string{`{"type":"start"}`, `{"type":"pid","pid":42,"hostsrc":[3,4]}`,
		`{"type":"error","msg":"x \"y\" \u00e9\ud83d\ude00"}`, `{"type":"ready","trace":[{"a":1.5e-3,"b":null,"c":[true,false]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := ParseSync(b)
		if !ok {
			return
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("C accepted what encoding/json refuses (%v)", err)
		}
		if !utf8.Valid(b) {
			return // encoding/json replaces bad bytes, C keeps them
		}
		if s, _ := v["type"].(string); s != m.Type {
			t.Fatalf("type: C %q, Go %q", m.Type, s)
		}
		if s, _ := v["msg"].(string); s != m.Msg && !strings.ContainsRune(s, 0) {
			t.Fatalf("msg: C %q, Go %q", m.Msg, s)
		}
		if p, has := v["pid"].(float64); has != m.HasPid || has && p != float64(m.Pid) {
			t.Fatalf("pid: C %v %d, Go %v %v", m.HasPid, m.Pid, has, p)
		}
	})
}

// FuzzSyncSpans: the spans syncmsg.c reads from a message (fastexec.c
// logs berth init's with them) are the ones the Go parent decodes into
// trace.Span, and it accepts only what encoding/json decodes so.
func FuzzSyncSpans(f *testing.F) {
	for _, s := range []string{`{"type":"ready","trace":[{"point":"init:process","phase":1500,"total":17350}]}`,
		`{"type":"pid","pid":4,"hostsrc":[],"trace":[{"point":"a","phase":1,"total":2},{"point":"b","phase":3,"total":5}]}`,
		`{"type":"ready"}`, `{"trace":null}`, `{"trace":[{"point":"x","phase":1.5}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := SyncSpans(b)
		if !ok {
			return
		}
		var m struct {
			Trace []trace.Span `json:"trace"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("C accepted what encoding/json refuses (%v)", err)
		}
		if !utf8.Valid(b) || bytes.Contains(b, []byte(`\u0000`)) || !plainKeys(b) {
			// encoding/json replaces bad bytes, C keeps them; C strings
			// end at NUL; Go matches keys without case and keeps the
			// last of two, C reads exact keys as they come. berth init
			// sends none of these.
			return
		}
		var want strings.Builder
		for _, s := range m.Trace {
			fmt.Fprintf(&want, "%s %d %d\n", s.Point, s.Phase, s.Total)
		}
		if got != want.String() {
			t.Fatalf("C read spans %q, Go %q", got, want.String())
		}
	})
}

// plainKeys reports whether every object key in the JSON b is lower-case
// ASCII-folded and none repeats in its object: the keys berth's messages use.
func plainKeys(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	type level struct {
		obj, key bool // key: the next string is a key
		seen     map[string]bool
	}
	var stack []*level
	for {
		tok, err := d.Token()
		if err != nil {
			return true
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if v, ok := tok.(json.Delim); ok {
			if v == '{' || v == '[' {
				stack = append(stack, &level{obj: v == '{', key: v == '{', seen: map[string]bool{}})
				continue
			}
			stack = stack[:len(stack)-1]
		} else if s, ok := tok.(string); ok && top != nil && top.obj && top.key {
			if top.seen[s] || strings.ToLower(s) != s || strings.ContainsAny(s, "\u017f\u212a") {
				return false
			}
			top.seen[s] = true
			top.key = false
			continue
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}

// FuzzBrief: fastpath.c's brief reader never crashes, and what it accepts
// splits into exactly the fields a strict Go reading finds.
func FuzzBrief(f *testing.F) {
	values := make([]string, len(wire.BriefFields))
	for i := range values {
		values[i] = fmt.Sprint(i, "\n")
	}
	f.Add(brief(BriefHeader(), values))
	f.Add(brief("berth-brief 3\n", values))
	head := []byte(BriefHeader())
	f.Fuzz(func(t *testing.T, b []byte) {
		// Most mutations break the header; keep it, fuzz the rest too.
		for _, in := range [][]byte{b, append(head[:len(head):len(head)], b...)} {
			got, ok := Brief(in)
			if !ok {
				continue
			}
			rest, found := bytes.CutPrefix(in, head)
			if !found {
				t.Fatalf("accepted without the header: %q", in)
			}
			for i, name := range wire.BriefFields {
				want := fmt.Sprintf("%s %d\n%s\n", name, len(got[i]), got[i])
				if !bytes.HasPrefix(rest, []byte(want)) {
					t.Fatalf("field %s: %q is not %q", name, rest, want)
				}
				rest = rest[len(want):]
			}
			if len(rest) != 0 {
				t.Fatalf("accepted with %q left", rest)
			}
		}
	})
}

// FuzzParseGlobals: the flag parser never reads past argv and leaves a
// non-empty root when it accepts.
func FuzzParseGlobals(f *testing.F) {
	f.Add("--root\x00/r\x00--log=/l\x00--log-format\x00json\x00list")
	f.Add("--systemd-cgroup\x00--root=\x00state")
	f.Fuzz(func(t *testing.T, s string) {
		args := append([]string{"berth"}, strings.Split(s, "\x00")...)
		for _, a := range args {
			if strings.ContainsRune(a, 0) {
				return
			}
		}
		g, ok := ParseGlobals(args)
		if ok && (g.Next < 1 || g.Next > len(args) || g.Root == "") {
			t.Fatalf("%q: %+v", args, g)
		}
	})
}
