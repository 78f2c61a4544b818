// Package tlv writes the records the C stages of berth init read
// (libcontainer/nsenter/cinit.c, crootfs.c): a u32 tag, a u32 length and
// that many bytes of data, integers in host byte order, strings ending in
// NUL. No JSON reaches C.
package tlv

import "encoding/binary"

// Writer appends records to B.
type Writer struct{ B []byte }

// Rec appends one record.
func (w *Writer) Rec(tag uint32, data []byte) {
	w.B = binary.NativeEndian.AppendUint32(w.B, tag)
	w.B = binary.NativeEndian.AppendUint32(w.B, uint32(len(data)))
	w.B = append(w.B, data...)
}

// Str appends a record holding one string.
func (w *Writer) Str(tag uint32, s string) { w.Rec(tag, Data{}.Str(s)) }

// U32 appends a record holding the numbers vs.
func (w *Writer) U32(tag uint32, vs ...uint32) { w.Rec(tag, Data{}.U32(vs...)) }

// U64 appends a record holding the numbers vs.
func (w *Writer) U64(tag uint32, vs ...uint64) { w.Rec(tag, Data{}.U64(vs...)) }

// Data is one record's data under construction: its numbers first, then
// its strings, as the C readers take them.
type Data []byte

// U32 appends numbers.
func (d Data) U32(vs ...uint32) Data {
	for _, v := range vs {
		d = binary.NativeEndian.AppendUint32(d, v)
	}
	return d
}

// U64 appends numbers.
func (d Data) U64(vs ...uint64) Data {
	for _, v := range vs {
		d = binary.NativeEndian.AppendUint64(d, v)
	}
	return d
}

// Str appends NUL-terminated strings.
func (d Data) Str(ss ...string) Data {
	for _, s := range ss {
		d = append(append(d, s...), 0)
	}
	return d
}
