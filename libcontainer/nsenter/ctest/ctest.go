// Package ctest runs the C decoders of libcontainer/nsenter under Go tests,
// without root and without the constructors: the TLV reader and its
// generated tables (wire.c), the sync message reader (syncmsg.c), the
// bootstrap parser (nsexec.c), the plan parser (cinit.c), the brief reader
// and the argument parsers of fastpath.c. Each *_tu.c file compiles one
// nsenter file as it is (#include), with _exit caught (harness.h) or the
// constructor turned off (fastpath_tu.c); nothing is copied.
//
// The functions below are the tests' entry points. C keeps pointers into
// what it parsed, so every input is copied into C memory first.
package ctest

/*
#cgo CFLAGS: -Wall -Wextra -O2
#include <stdlib.h>
#include "../wire.h"
#include "../syncmsg.h"
#include "../fastpath.h"

int ctest_bootstrap(char *buf, size_t len, char *out, size_t size);
int ctest_plan(char *buf, size_t len, char *out, size_t size);
int ctest_brief(const char *buf, size_t len, size_t *off, size_t *n);
const char *ctest_brief_header(void);
*/
import "C"

import (
	"unsafe"

	"github.com/berthrun/berth/internal/wire"
)

// cbytes is b in C memory, NUL-terminated (the parsers may look one past
// the end for a terminator they were promised); free it.
func cbytes(b []byte) (*C.char, C.size_t) {
	p := C.malloc(C.size_t(len(b) + 1))
	copy(unsafe.Slice((*byte)(p), len(b)+1), append(b, 0))
	return (*C.char)(p), C.size_t(len(b))
}

// call runs a parser that fills out with its result or its error.
func call(f func(buf *C.char, n C.size_t, out *C.char, size C.size_t) C.int, in []byte) (string, bool) {
	buf, n := cbytes(in)
	defer C.free(unsafe.Pointer(buf))
	out := make([]byte, 64<<10)
	op := (*C.char)(C.CBytes(out))
	defer C.free(unsafe.Pointer(op))
	ok := f(buf, n, op, C.size_t(len(out))) == 0
	return C.GoString(op), ok
}

// WireCheck is wire_check of msg ("plan" or "rootfs"): "" or the reason.
func WireCheck(m *wire.Message, data []byte) string {
	var cm *C.struct_wire_msg
	switch m {
	case &wire.Plan:
		cm = &C.wire_plan
	case &wire.Rootfs:
		cm = &C.wire_rootfs
	default:
		panic("not a TLV message: " + m.Name)
	}
	buf, n := cbytes(data)
	defer C.free(unsafe.Pointer(buf))
	var err [128]C.char
	if C.wire_check(cm, buf, n, &err[0], C.size_t(len(err))) == 0 {
		return ""
	}
	return C.GoString(&err[0])
}

// SyncMsg is what syncmsg.c reads of a sync message.
type SyncMsg struct {
	Type, Msg string
	Pid       int64
	HasPid    bool
}

// ParseSync is sync_parse.
func ParseSync(b []byte) (SyncMsg, bool) {
	buf, n := cbytes(b)
	defer C.free(unsafe.Pointer(buf))
	var m C.struct_sync_msg
	if C.sync_parse(buf, n, &m) != 0 {
		return SyncMsg{}, false
	}
	return SyncMsg{Type: C.GoString(&m._type[0]), Msg: C.GoString(&m.msg[0]), Pid: int64(m.pid), HasPid: m.has_pid != 0}, true
}

// Bootstrap is nsexec.c's parse, rendered as text; or its error.
func Bootstrap(b []byte) (string, bool) {
	return call(func(buf *C.char, n C.size_t, out *C.char, size C.size_t) C.int {
		return C.ctest_bootstrap(buf, n, out, size)
	}, b)
}

// Plan is cinit_parse, rendered as text; or its error.
func Plan(b []byte) (string, bool) {
	return call(func(buf *C.char, n C.size_t, out *C.char, size C.size_t) C.int {
		return C.ctest_plan(buf, n, out, size)
	}, b)
}

// BriefHeader is the header fastpath.c wants on a brief, with its newline.
func BriefHeader() string { return C.GoString(C.ctest_brief_header()) }

// Brief is fastpath.c's parse_brief: the fields' values, or false.
func Brief(b []byte) ([]string, bool) {
	buf, n := cbytes(b)
	defer C.free(unsafe.Pointer(buf))
	var off, ln [C.F_COUNT]C.size_t
	if C.ctest_brief(buf, n, &off[0], &ln[0]) != 0 {
		return nil, false
	}
	out := make([]string, C.F_COUNT)
	for k := range out {
		out[k] = string(b[off[k] : off[k]+ln[k]])
	}
	return out, true
}

// Globals is what fastpath_parse_globals took from args (args[0] is the
// program): the root, whether it was given, the log, json logs, and the
// index of the first argument it left.
type Globals struct {
	Root    string
	RootSet bool
	Log     string
	LogJSON bool
	Debug   bool
	Next    int
}

// ParseGlobals is fastpath_parse_globals.
func ParseGlobals(args []string) (Globals, bool) {
	argv := make([]*C.char, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
		defer C.free(unsafe.Pointer(argv[i]))
	}
	cargv := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	defer C.free(unsafe.Pointer(cargv))
	copy(unsafe.Slice(cargv, len(argv)), argv)
	var r C.struct_req
	i := C.int(1)
	if C.fastpath_parse_globals(C.int(len(args)), cargv, &i, &r) != 0 {
		return Globals{}, false
	}
	g := Globals{RootSet: r.root_set != 0, LogJSON: r.logjson != 0, Debug: r.debug != 0, Next: int(i)}
	if r.root != nil {
		g.Root = C.GoString(r.root)
	}
	if r.log != nil {
		g.Log = C.GoString(r.log)
	}
	return g, true
}

// ValidID is fastpath_valid_id.
func ValidID(id string) bool {
	s := C.CString(id)
	defer C.free(unsafe.Pointer(s))
	return C.fastpath_valid_id(s) != 0
}
