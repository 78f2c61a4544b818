package wire

import "encoding/binary"

// encoder appends TLV records: a u32 tag, a u32 length and that many
// bytes, integers in host byte order (both ends are this machine), strings
// ending in NUL. Only the generated writers (wire_gen.go) use it, one
// method per record of the schema, so a tag is always written with the
// kinds it is declared with.
type encoder struct{ b []byte }

// begin starts a record of tag; end(begin(...)) fills in its length.
func (e *encoder) begin(tag uint32) int {
	e.b = binary.NativeEndian.AppendUint32(e.b, tag)
	e.b = append(e.b, 0, 0, 0, 0)
	return len(e.b)
}

func (e *encoder) end(start int) {
	binary.NativeEndian.PutUint32(e.b[start-4:start], uint32(len(e.b)-start))
}

func (e *encoder) u32(v uint32) { e.b = binary.NativeEndian.AppendUint32(e.b, v) }
func (e *encoder) i32(v int32)  { e.u32(uint32(v)) }
func (e *encoder) u64(v uint64) { e.b = binary.NativeEndian.AppendUint64(e.b, v) }
func (e *encoder) i64(v int64)  { e.u64(uint64(v)) }
func (e *encoder) str(s string) { e.b = append(append(e.b, s...), 0) }

func (e *encoder) u32s(vs []uint32) {
	for _, v := range vs {
		e.u32(v)
	}
}

func (e *encoder) bytes(b []byte) { e.b = append(e.b, b...) }
