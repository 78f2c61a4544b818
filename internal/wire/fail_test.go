package wire

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRender(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    *Failure
		want string
	}{
		{"plain", &Failure{Step: StepSetsid}, "setsid"},
		{"errno", &Failure{Step: StepSetsid, Errno: unix.EPERM}, "setsid: operation not permitted"},
		{"arg", &Failure{Step: StepSetns, Args: []string{"/proc/1/ns/net"}, Errno: unix.EINVAL}, "setns /proc/1/ns/net: invalid argument"},
		{"quoted and plain", &Failure{Step: StepCwdChdir, Args: []string{"/etc/passwd"}, Errno: unix.ENOTDIR},
			`process.cwd "/etc/passwd": chdir /etc/passwd: not a directory`},
		{"ctx", &Failure{Ctx: `mounts[7] destination "/x"`, Step: StepOpenSource, Args: []string{"/no"}, Errno: unix.ENOENT},
			`mounts[7] destination "/x": open source "/no": no such file or directory`},
		{"missing arg", &Failure{Step: StepRlimit, Args: []string{"0"}}, "process.rlimits[0]  soft  hard "},
		{"extra args", &Failure{Step: StepSetsid, Args: []string{"x"}}, "setsid"},
		{"why", &Failure{Step: StepHookFailed, Args: []string{"boom"}, Why: "it broke"}, "boom: it broke"},
		{"unknown step", &Failure{Step: 99999, Errno: unix.EIO}, "unknown step 99999: input/output error"},
		{"unknown errno", &Failure{Step: StepSetsid, Errno: 4000}, "setsid: errno 4000"},
		{"quote escapes", &Failure{Step: StepExec, Args: []string{"a\"b\\c\n\x01\x7f\xffé"}},
			`exec "a\"b\\c\n\x01\x7f\xffé"`},
	} {
		if got := Render(tt.f); got != tt.want {
			t.Errorf("%s: Render = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestQuote: Quote is %q for every string but those with a non-printable
// non-ASCII rune.
func TestQuote(t *testing.T) {
	for _, s := range []string{"", "/a b", `"\`, "\a\b\f\n\r\t\v", "\x00\x1f\x7f", "é日本\U0001F600", "\xff\xc3", "\xed\xa0\x80", "\xef\xbf\xbd"} {
		if got, want := Quote(s), fmt.Sprintf("%q", s); got != want {
			t.Errorf("Quote(%q) = %s, want %s", s, got, want)
		}
	}
	if got := Quote("\u0085"); got != "\"\u0085\"" {
		t.Errorf("Quote(U+0085) = %q: a non-printable rune stays as it is", got)
	}
}

func TestFailedKeepsTheCause(t *testing.T) {
	pe := &fs.PathError{Op: "stat", Path: "/x", Err: unix.EACCES}
	f := Failed(StepArgs0Stat, pe, "/x", "/x")
	if f.Errno != unix.EACCES || !errors.Is(f, unix.EACCES) || !errors.Is(f, fs.ErrPermission) {
		t.Errorf("Failed(PathError) = %+v: errno or cause lost", f)
	}
	if got := f.Error(); got != `process.args[0] "/x": stat /x: permission denied` {
		t.Errorf("Error() = %q", got)
	}
	other := errors.New("no such profile")
	if f := Failed(StepApparmor, other, "p"); f.Errno != 0 || f.Why != "no such profile" || !errors.Is(f, other) {
		t.Errorf("Failed(non-errno) = %+v", f)
	}
}

func TestFailRoundTrip(t *testing.T) {
	in := &Failure{Ctx: "ctx", Step: StepSymlink, Args: []string{"a", "b"}, Errno: unix.EEXIST, Why: "w"}
	b := EncodeFail(in)
	if !IsFailRecord(b) || IsFailRecord([]byte(`{"type":"error"}`)) {
		t.Fatal("IsFailRecord cannot tell a record from JSON")
	}
	out, err := DecodeFail(b)
	if err != nil {
		t.Fatal(err)
	}
	if Render(out) != Render(in) {
		t.Errorf("round trip: %q, want %q", Render(out), Render(in))
	}
	for name, bad := range map[string][]byte{
		"no step":   EncodeFail(in)[16:],
		"two steps": append(EncodeFail(in), EncodeFail(&Failure{Step: StepHookFailed})...),
		"11 args":   EncodeFail(&Failure{Step: StepHookFailed, Args: strings.Split("0,1,2,3,4,5,6,7,8,9,10", ",")}),
		"truncated": b[:len(b)-1],
	} {
		if _, err := DecodeFail(bad); err == nil {
			t.Errorf("%s: DecodeFail accepted it", name)
		}
	}
}
