package wire

import "encoding/binary"

// Raw is a record's data built by hand, for the tests of the generated
// writers and of the C readers: the expected bytes, or inputs the writers
// cannot make (short, ragged or unterminated records). Production code
// writes records with the generated writers only.
type Raw []byte

// U32 appends each v in the machine's byte order.
func (d Raw) U32(vs ...uint32) Raw {
	for _, v := range vs {
		d = binary.NativeEndian.AppendUint32(d, v)
	}
	return d
}

// U64 appends each v in the machine's byte order.
func (d Raw) U64(vs ...uint64) Raw {
	for _, v := range vs {
		d = binary.NativeEndian.AppendUint64(d, v)
	}
	return d
}

// Str appends each s with its NUL.
func (d Raw) Str(ss ...string) Raw {
	for _, s := range ss {
		d = append(append(d, s...), 0)
	}
	return d
}

// RawRecord is one record of tag holding data, header included.
func RawRecord(tag uint32, data []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, tag)
	b = binary.NativeEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}
