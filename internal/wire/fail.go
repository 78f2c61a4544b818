package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Failure is one init error as a record: the step, what it was about, and
// the errno. The C stages send it as a Fail message (EncodeFail's layout);
// the Go init builds it instead of formatting text, so that Render words
// both the same.
type Failure struct {
	Ctx   string     // what the step belongs to (a mount, a field); "" for none
	Step  uint32     // Steps[].ID
	Args  []string   // the template's {N}
	Errno unix.Errno // 0: none
	Why   string     // the cause when it is not an errno
	cause error      // the Go error it was built from, for errors.Is/As
}

// Failed builds the record of a failed step: err's errno when it has one,
// else its text as the cause; nil err for a step that failed by itself.
func Failed(step uint32, err error, args ...string) *Failure {
	f := &Failure{Step: step, Args: args, cause: err}
	var e unix.Errno
	switch {
	case err == nil:
	case errors.As(err, &e):
		f.Errno = e
	default:
		f.Why = err.Error()
	}
	return f
}

// In sets the record's context, as a rootfs program's ctx does.
func (f *Failure) In(ctx string) *Failure {
	f.Ctx = ctx
	return f
}

func (f *Failure) Error() string { return Render(f) }

// Unwrap lets errors.Is and errors.As see the cause: the Go error the
// record was built from, or the errno of a decoded one.
func (f *Failure) Unwrap() error {
	if f.cause != nil {
		return f.cause
	}
	if f.Errno == 0 {
		return nil
	}
	return f.Errno
}

// stepText is the template of step id; ok false for an unknown id.
func stepText(id uint32) (string, bool) {
	for i := range Steps {
		if Steps[i].ID == id {
			return Steps[i].Text, true
		}
	}
	return "", false
}

// Render is the one formatter: "[ctx: ]<step's text>[: <errno text>][: why]".
// An unknown step (a record from another build) still says what it has.
func Render(f *Failure) string {
	var b strings.Builder
	if f.Ctx != "" {
		b.WriteString(f.Ctx)
		b.WriteString(": ")
	}
	text, ok := stepText(f.Step)
	if !ok {
		fmt.Fprintf(&b, "unknown step %d", f.Step)
	}
	expand(&b, text, f.Args)
	if f.Errno != 0 {
		b.WriteString(": ")
		b.WriteString(ErrnoText(uint32(f.Errno)))
	}
	if f.Why != "" {
		b.WriteString(": ")
		b.WriteString(f.Why)
	}
	return b.String()
}

// expand writes text with {N} and {qN} replaced by args[N] (missing: "").
// A brace that starts no placeholder is itself.
func expand(b *strings.Builder, text string, args []string) {
	for i := 0; i < len(text); i++ {
		quote, n, ok := placeholder(text[i:])
		if !ok {
			b.WriteByte(text[i])
			continue
		}
		arg := ""
		if idx := int(text[i+n-2] - '0'); idx < len(args) {
			arg = args[idx]
		}
		if quote {
			b.WriteString(Quote(arg))
		} else {
			b.WriteString(arg)
		}
		i += n - 1
	}
}

// placeholder reports whether s starts with {N} or {qN}, and its length.
func placeholder(s string) (quote bool, n int, ok bool) {
	if len(s) < 3 || s[0] != '{' {
		return false, 0, false
	}
	i := 1
	if s[i] == 'q' {
		quote, i = true, 2
	}
	if i+1 >= len(s) || s[i] < '0' || s[i] > '9' || s[i+1] != '}' {
		return false, 0, false
	}
	return quote, i + 2, true
}

// Quote is how the steps quote a path or name: in double quotes, with
// printable ASCII and valid UTF-8 as they are and every other byte
// escaped as Go's %q would (\n, \t, \x7f, ...). It is %q for every
// string but one with a non-printable non-ASCII rune, which it leaves as
// it is: the rule is this simple so that the C renderer is the same.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				fmt.Fprintf(&b, `\x%02x`, c)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			if e := strings.IndexByte("\a\b\f\n\r\t\v", c); e >= 0 {
				b.WriteByte('\\')
				b.WriteByte("abfnrtv"[e])
			} else {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
		i++
	}
	b.WriteByte('"')
	return b.String()
}

// ErrnoText is Go's text of errno e, which the C side's table
// (wire_errno_text) is generated from.
func ErrnoText(e uint32) string { return unix.Errno(e).Error() }

// SignalText is Go's name of signal s ("killed"), as in "signal: killed".
func SignalText(s uint32) string { return unix.Signal(s).String() }

// EncodeFail is f as a Fail message, the packet C sends: Go writes one
// only in tests.
func EncodeFail(f *Failure) []byte {
	var b []byte
	rec := func(tag uint32, data []byte) {
		b = binary.NativeEndian.AppendUint32(b, tag)
		b = binary.NativeEndian.AppendUint32(b, uint32(len(data)))
		b = append(b, data...)
	}
	str := func(s string) []byte { return append([]byte(s), 0) }
	step := binary.NativeEndian.AppendUint32(nil, f.Step)
	rec(FailStep, binary.NativeEndian.AppendUint32(step, uint32(f.Errno)))
	if f.Ctx != "" {
		rec(FailCtx, str(f.Ctx))
	}
	for _, a := range f.Args {
		rec(FailArg, str(a))
	}
	if f.Why != "" {
		rec(FailWhy, str(f.Why))
	}
	return b
}

// IsFailRecord reports whether a sync packet is a Fail message rather
// than JSON: C writes the step record first, and no JSON text starts with
// its tag's first byte (1).
func IsFailRecord(b []byte) bool {
	return len(b) >= 4 && binary.NativeEndian.Uint32(b) == FailStep
}

// DecodeFail reads a Fail message: exactly one step record, at most one
// ctx and why, args in order.
func DecodeFail(data []byte) (*Failure, error) {
	if err := Check(&Fail, data); err != nil {
		return nil, err
	}
	f := &Failure{}
	steps := 0
	for len(data) > 0 {
		tag, n := binary.NativeEndian.Uint32(data), binary.NativeEndian.Uint32(data[4:])
		d := data[8 : 8+n]
		data = data[8+n:]
		str := func() string { return string(d[:len(d)-1]) }
		switch tag {
		case FailStep:
			steps++
			f.Step, f.Errno = binary.NativeEndian.Uint32(d), unix.Errno(binary.NativeEndian.Uint32(d[4:]))
		case FailCtx:
			f.Ctx = str()
		case FailArg:
			if len(f.Args) == maxFailArgs {
				return nil, fmt.Errorf("fail: more than %d args", maxFailArgs)
			}
			f.Args = append(f.Args, str())
		case FailWhy:
			f.Why = str()
		}
	}
	if steps != 1 {
		return nil, fmt.Errorf("fail: %s step records, want 1", strconv.Itoa(steps))
	}
	return f, nil
}

// maxFailArgs bounds a record's arguments: {0}..{9}.
const maxFailArgs = 10
