package ctest

import "encoding/binary"

// Records built by hand, for the inputs the generated writers (package
// wire) cannot make: unknown tags, short, ragged or unterminated records.
// Well-formed messages are written with the writers.

// rec is one record of tag holding data.
func rec(tag uint32, data []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, tag)
	b = binary.NativeEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// raw is a record's data under construction.
type raw []byte

func (d raw) u32(vs ...uint32) raw {
	for _, v := range vs {
		d = binary.NativeEndian.AppendUint32(d, v)
	}
	return d
}

func (d raw) u64(vs ...uint64) raw {
	for _, v := range vs {
		d = binary.NativeEndian.AppendUint64(d, v)
	}
	return d
}

func (d raw) str(ss ...string) raw {
	for _, s := range ss {
		d = append(append(d, s...), 0)
	}
	return d
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
