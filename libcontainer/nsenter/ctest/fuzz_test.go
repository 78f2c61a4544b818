package ctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/berthrun/berth/internal/wire"
)

// The C code is not instrumented for coverage, so the fuzzer mutates
// these seeds blindly around the shapes Go really sends; the properties
// are differential where Go has a twin.

func seedPlans(f *testing.F) {
	f.Add(plan())
	f.Add(plan(rec(wire.PlanRlimit, raw{}.u32(7, 0).u64(1, 2).str("RLIMIT_NOFILE")),
		rec(wire.PlanGroups, raw{}.u32(1, 2)), rec(wire.PlanSeccomp, append(raw{}.u32(0), make([]byte, 16)...)),
		rec(wire.PlanRootfs, cat(rec(wire.RfCtx, []byte("x\x00")), rec(wire.RfBind, raw{}.u64(1, 2, 3).str("/d", "/s").u32(0))))))
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
		for _, m := range []*wire.Message{&wire.Plan, &wire.Rootfs, &wire.Boot} {
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
