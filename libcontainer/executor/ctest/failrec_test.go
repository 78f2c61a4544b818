package ctest

import (
	"fmt"
	"testing"

	"github.com/berthrun/berth/internal/wire"
	"golang.org/x/sys/unix"
)

// failArgs are argument lists that exercise the quoting rules.
var failArgs = [][]string{
	nil,
	{"A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9"},
	{"/etc/passwd", "/etc/passwd", "x", "y"},
	{"a \"b\" \\c", "\n\t\x01\x7f", "é日本\U0001F600", "\xff\xc3(\xed\xa0\x80", "{0}{q1}"},
}

// TestEveryStepRendersAlike: for every declared step (and an unknown one),
// the record C encodes, rendered by C's fail_render and by Go's Render
// after DecodeFail, is byte for byte the text Go renders for the same
// record: the C renderer cannot drift from the templates.
func TestEveryStepRendersAlike(t *testing.T) {
	ids := []uint32{0, 9999}
	for _, st := range wire.Steps {
		ids = append(ids, st.ID)
	}
	for _, id := range ids {
		for _, args := range failArgs {
			for _, errno := range []uint32{0, uint32(unix.EACCES), uint32(unix.ENOTDIR), 4000} {
				for _, ctx := range []string{"", `mounts[7] destination "/x"`} {
					want := wire.Render(&wire.Failure{Ctx: ctx, Step: id, Args: args, Errno: unix.Errno(errno)})
					rec := FailEncode(ctx, id, errno, args...)
					c, ok := FailRender(rec)
					if !ok || c != want {
						t.Fatalf("step %d %q errno %d: C renders %q (ok %v), Go %q", id, args, errno, c, ok, want)
					}
					f, err := wire.DecodeFail(rec)
					if err != nil || f.Error() != want {
						t.Fatalf("step %d %q: Go decodes C's record to %v, %v; want %q", id, args, f, err, want)
					}
				}
			}
		}
	}
}

// TestErrnoAndSignalTexts: C's tables are Go's texts ("signal: killed",
// never strsignal's "Killed").
func TestErrnoAndSignalTexts(t *testing.T) {
	for e := uint32(0); e < 300; e++ {
		if c, g := ErrnoText(e), wire.ErrnoText(e); c != g {
			t.Errorf("errno %d: C %q, Go %q", e, c, g)
		}
	}
	for s := uint32(0); s < 80; s++ {
		if c, g := SignalText(s), wire.SignalText(s); c != g {
			t.Errorf("signal %d: C %q, Go %q", s, c, g)
		}
	}
	if SignalText(9) != "killed" {
		t.Errorf("signal 9 is %q", SignalText(9))
	}
}

// TestCInitRecordsOfRealFailures: cinit.c's own checks, failing on this
// host, send records that Go decodes to the texts the Go init gives.
func TestCInitRecordsOfRealFailures(t *testing.T) {
	for _, tt := range []struct {
		which int
		arg   string
		want  string
	}{
		{0, "/no/such/dir-e21", `process.cwd "/no/such/dir-e21": chdir /no/such/dir-e21: no such file or directory`},
		{0, "/etc/passwd", `process.cwd "/etc/passwd": chdir /etc/passwd: not a directory`},
		{1, "/no/such/binary", `process.args[0] "/no/such/binary": stat /no/such/binary: no such file or directory`},
		{1, "/etc/passwd", `process.args[0] "/etc/passwd": stat /etc/passwd: permission denied`},
		{1, "no-such-binary-e21", `process.args[0] "no-such-binary-e21": executable file not found in $PATH`},
	} {
		text, rec, ok := CInitFail(tt.which, tt.arg)
		if !ok {
			t.Fatalf("%d %s: the check passed", tt.which, tt.arg)
		}
		f, err := wire.DecodeFail(rec)
		if err != nil {
			t.Fatalf("%s: C sent no record (%v): %q", tt.arg, err, rec)
		}
		if got := f.Error(); got != tt.want || text != tt.want {
			t.Errorf("%s: Go renders %q, C %q; want %q", tt.arg, got, text, tt.want)
		}
	}
}

// FuzzFailRender: C's decoder and renderer (failrec.c) and Go's
// (wire.DecodeFail, Render) accept the same records and render them to
// the same bytes.
func FuzzFailRender(f *testing.F) {
	f.Add(FailEncode("", wire.StepCwdChdir, uint32(unix.ENOENT), "/x"))
	f.Add(FailEncode(`mounts[0] destination "/d"`, wire.StepOpenSource, 2, "/s\xff\n"))
	f.Add(FailEncode("", 9999, 0, "a", "b", "c"))
	f.Add(append(FailEncode("", wire.StepHookFailed, 0, "x"), wire.EncodeFail(&wire.Failure{Step: wire.StepHookFailed, Why: "w"})[16:]...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, cok := FailRender(b)
		g, err := wire.DecodeFail(b)
		if cok != (err == nil) {
			t.Fatalf("C accepts %v, Go says %v", cok, err)
		}
		if cok && len(c) < 60<<10 && c != g.Error() {
			t.Fatalf("C renders %q, Go %q", c, g.Error())
		}
	})
}

func ExampleFailRender() {
	text, _ := FailRender(FailEncode("", wire.StepCwdChdir, uint32(unix.ENOTDIR), "/etc/passwd"))
	fmt.Println(text)
	// Output: process.cwd "/etc/passwd": chdir /etc/passwd: not a directory
}

// FuzzFailText: for any step, errno, ctx and arguments, the record C
// encodes renders in C to what Go renders for the same record (the quoting
// of any bytes included).
func FuzzFailText(f *testing.F) {
	f.Add(wire.StepCwdChdir, uint32(2), "", "/x", "", "")
	f.Add(wire.StepOrdinaryDir, uint32(0), "ctx", "proc", "/etc/passwd\xff", "a symlink")
	f.Add(uint32(9999), uint32(4000), "", "\"\\\x01é", "{q0}", "{9}")
	f.Fuzz(func(t *testing.T, step, errno uint32, ctx, a0, a1, a2 string) {
		cut := func(s string) string { // what a C string of a record can hold
			for i := 0; i < len(s); i++ {
				if s[i] == 0 {
					s = s[:i]
					break
				}
			}
			if len(s) > 1024 {
				s = s[:1024]
			}
			return s
		}
		ctx, a0, a1, a2 = cut(ctx), cut(a0), cut(a1), cut(a2)
		want := wire.Render(&wire.Failure{Ctx: ctx, Step: step, Args: []string{a0, a1, a2}, Errno: unix.Errno(errno)})
		c, ok := FailRender(FailEncode(ctx, step, errno, a0, a1, a2))
		if !ok || (len(c) < 60<<10 && c != want) {
			t.Fatalf("C renders %q (ok %v), Go %q", c, ok, want)
		}
	})
}
