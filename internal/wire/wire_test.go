package wire

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// The generated files carry the hash of the schema they came from; `make
// lint` compares the whole files, this catches the same in `go test`.
func TestGeneratedHashIsCurrent(t *testing.T) {
	if got := Hash(); got != SchemaHash {
		t.Fatalf("schema hash %s, generated files have %s: run go generate ./internal/wire", got, SchemaHash)
	}
}

func TestCheck(t *testing.T) {
	good := &PlanWriter{}
	good.Mode(PlanExec)
	good.Arg("true")
	good.Rlimit(7, 0, 1, 2, "RLIMIT_NOFILE")
	good.Groups(1, 2, 3)
	good.NNP()
	bind := &RfWriter{}
	bind.Bind(1, 2, 3, "/dst", "/src", 0)
	bw := &BootWriter{}
	bw.TimeOffset("monotonic", -1, 5)
	for _, tt := range []struct {
		name string
		m    *Message
		b    []byte
		want string
	}{
		{"plan", &Plan, good.Bytes(), ""},
		{"bind", &Rootfs, bind.Bytes(), ""},
		{"time offset", &Boot, bw.Bytes(), ""},
		{"empty", &Plan, nil, ""},
		{"truncated", &Plan, good.Bytes()[:5], "truncated"},
		{"overrun", &Plan, good.Bytes()[:10], "overruns"},
		{"unknown tag", &Rootfs, []byte{99, 0, 0, 0, 0, 0, 0, 0}, "unknown record 99"},
		{"short", &Plan, []byte{1, 0, 0, 0, 2, 0, 0, 0, 1, 0}, "short mode"},
		{"left over", &Plan, []byte{1, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0}, "left over"},
		{"unterminated", &Plan, []byte{2, 0, 0, 0, 2, 0, 0, 0, 'a', 'b'}, "unterminated arg"},
		{"not u32s", &Plan, []byte{6, 0, 0, 0, 2, 0, 0, 0, 1, 0}, "not a u32 list"},
		{"bind without slot", &Rootfs, bind.Bytes()[:len(bind.Bytes())-4], "overruns"},
		{"time offset without nanosecs", &Boot, []byte{6, 0, 0, 0, 10, 0, 0, 0, 'm', 0, 1, 2, 3, 4, 5, 6, 7, 8}, "short nanosecs"},
	} {
		err := Check(tt.m, tt.b)
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// writers are the generated writers of the TLV messages.
var writers = map[*Message]func() any{
	&Plan:   func() any { return &PlanWriter{} },
	&Rootfs: func() any { return &RfWriter{} },
	&Boot:   func() any { return &BootWriter{} },
}

// TestWriters: every record of every TLV message has a writer method that
// takes its arguments in order, as Go types of their kinds, and writes
// exactly one record with its tag and those bytes; nothing else is a
// method. A generator that wrote a wrong tag, kind or order fails here.
func TestWriters(t *testing.T) {
	for _, m := range Messages {
		if m.Format != TLV {
			continue
		}
		mk, ok := writers[m]
		if !ok {
			t.Fatalf("%s: no writer in this test", m.Name)
		}
		typ := reflect.TypeOf(mk())
		if typ.NumMethod() != len(m.Records)+1 { // and Bytes
			t.Errorf("%s: %d methods, want one per record and Bytes", m.Name, typ.NumMethod())
		}
		for _, r := range m.Records {
			w := mk()
			method := reflect.ValueOf(w).MethodByName(methodName(r.Name))
			if !method.IsValid() {
				t.Errorf("%s: no method for record %s", m.Name, r.Name)
				continue
			}
			args, want := sample(t, method.Type(), &r)
			method.Call(args)
			got := reflect.ValueOf(w).MethodByName("Bytes").Call(nil)[0].Bytes()
			if len(got) < 8 || binary.NativeEndian.Uint32(got) != r.Tag ||
				int(binary.NativeEndian.Uint32(got[4:])) != len(got)-8 || string(got[8:]) != string(want) {
				t.Errorf("%s.%s: wrote % x, want tag %d and % x", m.Name, r.Name, got, r.Tag, want)
			}
			if err := Check(m, got); err != nil {
				t.Errorf("%s.%s: %v", m.Name, r.Name, err)
			}
		}
	}
}

// methodName is the generator's name for a record's method.
func methodName(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		switch part {
		case "uid", "gid", "fs", "oom", "nnp":
			b.WriteString(strings.ToUpper(part))
		default:
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// sample makes an argument per parameter of a method of type mt, checks
// it against the record's kinds, and returns the bytes they encode to.
func sample(t *testing.T, mt reflect.Type, r *Record) ([]reflect.Value, []byte) {
	t.Helper()
	if mt.NumIn() != len(r.Args) {
		t.Fatalf("%s: %d parameters, want %d", r.Name, mt.NumIn(), len(r.Args))
	}
	var args []reflect.Value
	var want []byte
	for i, arg := range r.Args {
		v := uint64(0x0102030405060708) + uint64(i)
		var val any
		switch arg.Kind {
		case U32:
			val = uint32(v)
			want = binary.NativeEndian.AppendUint32(want, uint32(v))
		case I32:
			val = -int32(i + 1)
			want = binary.NativeEndian.AppendUint32(want, uint32(-int32(i+1)))
		case U64:
			val = v
			want = binary.NativeEndian.AppendUint64(want, v)
		case I64:
			val = -int64(v)
			want = binary.NativeEndian.AppendUint64(want, uint64(-int64(v)))
		case Str:
			val = arg.Name
			want = append(append(want, arg.Name...), 0)
		case U32s:
			val = uint32(v)
			want = binary.NativeEndian.AppendUint32(want, uint32(v))
			want = binary.NativeEndian.AppendUint32(want, uint32(v))
		case Bytes:
			val = []byte(arg.Name)
			want = append(want, arg.Name...)
		}
		if arg.Kind == U32s {
			if !mt.IsVariadic() || mt.In(i) != reflect.TypeOf([]uint32{}) {
				t.Fatalf("%s.%s: parameter %v, want ...uint32", r.Name, arg.Name, mt.In(i))
			}
			args = append(args, reflect.ValueOf(val), reflect.ValueOf(val))
			continue
		}
		if mt.In(i) != reflect.TypeOf(val) {
			t.Fatalf("%s.%s: parameter %v, want %T", r.Name, arg.Name, mt.In(i), val)
		}
		args = append(args, reflect.ValueOf(val))
	}
	return args, want
}

func TestDrop(t *testing.T) {
	w := &PlanWriter{}
	w.Mode(PlanExec)
	w.Arg("sh")
	w.Env("A=b")
	w.Arg("-c")
	want := &PlanWriter{}
	want.Mode(PlanExec)
	want.Env("A=b")
	if got := Drop(w.Bytes(), PlanArg); string(got) != string(want.Bytes()) {
		t.Errorf("Drop = % x, want % x", got, want.Bytes())
	}
	if got := Drop(w.Bytes(), RfPivot); string(got) != string(w.Bytes()) {
		t.Errorf("Drop of an absent tag changed the message")
	}
}
