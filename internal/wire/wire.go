package wire

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Hash is the schema's hash: what a reader must agree on with the writer
// (formats, versions, tags, names, kinds, enum values, keys), not the
// comments or the constants' prefixes. The generator writes it as
// SchemaHash; wire_test.go checks the two agree.
func Hash() string {
	var b bytes.Buffer
	for _, m := range Messages {
		fmt.Fprintf(&b, "message %s format %d version %d\n", m.Name, m.Format, m.Version)
		for _, r := range m.Records {
			fmt.Fprintf(&b, " record %d %s", r.Tag, r.Name)
			for _, arg := range r.Args {
				fmt.Fprintf(&b, " %s:%c", arg.Name, arg.Kind)
			}
			b.WriteByte('\n')
		}
		for _, e := range m.Enums {
			for i, n := range e.Names {
				fmt.Fprintf(&b, " enum %s %s %d\n", e.Go, n, e.Values[i])
			}
		}
		for _, k := range m.Keys {
			fmt.Fprintf(&b, " key %s\n", k)
		}
	}
	for _, st := range Steps {
		fmt.Fprintf(&b, "step %d %s %q\n", st.ID, st.Name, st.Text)
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:8])
}

// Layout is a record's kinds as one string, as the C table holds it.
func (r *Record) Layout() string {
	l := make([]byte, len(r.Args))
	for i, arg := range r.Args {
		l[i] = byte(arg.Kind)
	}
	return string(l)
}

// Record returns m's record with tag, or nil.
func (m *Message) Record(tag uint32) *Record {
	for i := range m.Records {
		if m.Records[i].Tag == tag {
			return &m.Records[i]
		}
	}
	return nil
}

// Check reports whether data is a well-formed TLV message m: every record
// declared, and its data exactly its arguments. It is the Go twin of the C
// reader's check (executor/wire.c); the encoders' tests run it.
func Check(m *Message, data []byte) error {
	for len(data) > 0 {
		if len(data) < 8 {
			return fmt.Errorf("%s: truncated record", m.Name)
		}
		tag, n := binary.NativeEndian.Uint32(data), binary.NativeEndian.Uint32(data[4:])
		if uint64(n) > uint64(len(data)-8) {
			return fmt.Errorf("%s: record %d overruns the message", m.Name, tag)
		}
		r := m.Record(tag)
		if r == nil {
			return fmt.Errorf("%s: unknown record %d", m.Name, tag)
		}
		if err := checkArgs(r, data[8:8+n]); err != nil {
			return fmt.Errorf("%s: record %d (%s): %w", m.Name, tag, r.Name, err)
		}
		data = data[8+n:]
	}
	return nil
}

func checkArgs(r *Record, d []byte) error {
	for _, arg := range r.Args {
		switch arg.Kind {
		case U32, I32, U64, I64:
			size := 4
			if arg.Kind == U64 || arg.Kind == I64 {
				size = 8
			}
			if len(d) < size {
				return fmt.Errorf("short %s", arg.Name)
			}
			d = d[size:]
		case Str:
			i := bytes.IndexByte(d, 0)
			if i < 0 {
				return fmt.Errorf("unterminated %s", arg.Name)
			}
			d = d[i+1:]
		case U32s:
			if len(d)%4 != 0 {
				return fmt.Errorf("%s not a u32 list", arg.Name)
			}
			d = nil
		case Bytes:
			d = nil
		}
	}
	if len(d) != 0 {
		return fmt.Errorf("%d bytes left over", len(d))
	}
	return nil
}

// Drop is msg, a message Check accepts, without its records of tag: the
// brief's exec plan is the plan without its argv, to which C appends the
// command's.
func Drop(msg []byte, tag uint32) []byte {
	out := make([]byte, 0, len(msg))
	for len(msg) >= 8 {
		n := 8 + int(binary.NativeEndian.Uint32(msg[4:8]))
		if n > len(msg) {
			break
		}
		if binary.NativeEndian.Uint32(msg[:4]) != tag {
			out = append(out, msg[:n]...)
		}
		msg = msg[n:]
	}
	return out
}
