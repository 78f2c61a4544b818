package ctest

import "github.com/berthrun/berth/internal/wire"

// Records built by hand, for the inputs the generated writers (package
// wire) cannot make: unknown tags, short, ragged or unterminated records.
// Well-formed messages are written with the writers.

// rec is one record of tag holding data.
func rec(tag uint32, data []byte) []byte { return wire.RawRecord(tag, data) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
