// Package ctest runs the C decoders of libcontainer/executor under Go tests,
// without root and without the constructors: the TLV reader and its
// generated tables (wire.c), the sync message reader (syncmsg.c), the
// bootstrap reader (bootstrap.c), the plan parser (cinit.c), the brief reader
// and the argument parsers of fastpath.c. Each *_tu.c file compiles one
// executor file as it is (#include), with _exit caught (harness.h) or the
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
#include "../chooks.h"
#include <string.h>
#include "../ccopyup.h"
#include "../failrec.h"
#include "harness.h"

int ctest_bootstrap(char *buf, size_t len, char *out, size_t size);
int ctest_plan(char *buf, size_t len, char *out, size_t size);
int ctest_mountinfo(char *buf, size_t len, char *out, size_t size);
int path_under(const char *path, const char *dir);
int ctest_cinit_fail(int which, const char *arg, char *out, size_t size);
int ctest_brief(const char *buf, size_t len, size_t *off, size_t *n);
const char *ctest_brief_header(void);
int ctest_hooks(char *msg, size_t len, char **penv, char *out, size_t size);
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

// WireCheck is wire_check of a TLV message (plan, rootfs, boot): "" or the
// reason.
func WireCheck(m *wire.Message, data []byte) string {
	var cm *C.struct_wire_msg
	switch m {
	case &wire.Plan:
		cm = &C.wire_plan
	case &wire.Rootfs:
		cm = &C.wire_rootfs
	case &wire.Boot:
		cm = &C.wire_boot
	case &wire.Hooks:
		cm = &C.wire_hooks
	case &wire.HookState:
		cm = &C.wire_hookstate
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

// Bootstrap is bootstrap.c's boot_parse, rendered as text (one line per
// setting, as bootstrap_tu.c prints them); or its error.
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

// Hooks is chooks_parse of msg with penv as the process's environment
// (nil: none), rendered as text; or its error.
func Hooks(msg []byte, penv []string) (string, bool) {
	var cenv **C.char
	if penv != nil {
		cenv = cStrings(penv)
		defer freeStrings(cenv, len(penv))
	}
	return call(func(buf *C.char, n C.size_t, out *C.char, size C.size_t) C.int {
		return C.ctest_hooks(buf, n, cenv, out, size)
	}, msg)
}

// HookStatus is chooks_status_text of a wait status.
func HookStatus(status int) string {
	var out [128]C.char
	C.chooks_status_text(C.int(status), &out[0], C.size_t(len(out)))
	return C.GoString(&out[0])
}

// HookOutput is chooks_output_text: err with what a hook printed appended.
func HookOutput(err string, output []byte) string {
	buf, n := cbytes(output)
	defer C.free(unsafe.Pointer(buf))
	out := (*C.char)(C.malloc(1024))
	defer C.free(unsafe.Pointer(out))
	ce := C.CString(err)
	defer C.free(unsafe.Pointer(ce))
	C.strncpy(out, ce, 1023)
	C.chooks_output_text(buf, n, out, 1024)
	return C.GoString(out)
}

// RunHooks is chooks_run: "" or its error.
func RunHooks(msg, state []byte, cwd string, penv []string) string {
	buf, n := cbytes(msg)
	defer C.free(unsafe.Pointer(buf))
	st, sn := cbytes(state)
	defer C.free(unsafe.Pointer(st))
	var ccwd *C.char
	if cwd != "" {
		ccwd = C.CString(cwd)
		defer C.free(unsafe.Pointer(ccwd))
	}
	cenv := cStrings(penv)
	defer freeStrings(cenv, len(penv))
	out := (*C.char)(C.malloc(1024))
	defer C.free(unsafe.Pointer(out))
	if C.chooks_run(buf, n, st, sn, ccwd, cenv, out, 1024) == 0 {
		return ""
	}
	return C.GoString(out)
}

// cStrings is ss as a NULL-terminated C array of C strings.
func cStrings(ss []string) **C.char {
	p := (**C.char)(C.calloc(C.size_t(len(ss)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	arr := unsafe.Slice(p, len(ss)+1)
	for i, s := range ss {
		arr[i] = C.CString(s)
	}
	return p
}

func freeStrings(p **C.char, n int) {
	for _, s := range unsafe.Slice(p, n) {
		C.free(unsafe.Pointer(s))
	}
	C.free(unsafe.Pointer(p))
}

// CopyUp is ccopyup.c's copyup_tree of the directory fds src and dst: ""
// or what failed, with the errno.
func CopyUp(src, dst int) (string, error) {
	var e C.struct_copyup_err
	if r, err := C.copyup_tree(C.int(src), C.int(dst), &e); r != 0 {
		return C.GoString(&e.what[0]), err
	}
	return "", nil
}

// Mountinfo is cmountinfo.c's parse of a mount table: one
// "root|point|fstype|shared" line per entry; false at an unreadable line.
func Mountinfo(b []byte) (string, bool) {
	return call(func(buf *C.char, n C.size_t, out *C.char, size C.size_t) C.int {
		return C.ctest_mountinfo(buf, n, out, size)
	}, b)
}

// PathUnder is cmountinfo.c's path_under.
func PathUnder(path, dir string) bool {
	p, d := C.CString(path), C.CString(dir)
	defer C.free(unsafe.Pointer(p))
	defer C.free(unsafe.Pointer(d))
	return C.path_under(p, d) != 0
}

// FailRender is failrec.c's fail_render: the text, or false when b is no
// Fail message.
func FailRender(b []byte) (string, bool) {
	buf, n := cbytes(b)
	defer C.free(unsafe.Pointer(buf))
	out := make([]byte, 64<<10)
	op := (*C.char)(C.CBytes(out))
	defer C.free(unsafe.Pointer(op))
	if C.fail_render(buf, n, op, C.size_t(len(out))) < 0 {
		return "", false
	}
	return C.GoString(op), true
}

// FailEncode is failrec.c's fail_encode.
func FailEncode(ctx string, step, errno uint32, args ...string) []byte {
	cargs := make([]*C.char, len(args)+1)
	for i, a := range args {
		cargs[i] = C.CString(a)
		defer C.free(unsafe.Pointer(cargs[i]))
	}
	argv := (**C.char)(C.malloc(C.size_t(len(cargs)) * C.size_t(unsafe.Sizeof(cargs[0]))))
	defer C.free(unsafe.Pointer(argv))
	copy(unsafe.Slice(argv, len(cargs)), cargs)
	var cctx *C.char
	if ctx != "" {
		cctx = C.CString(ctx)
		defer C.free(unsafe.Pointer(cctx))
	}
	buf := (*C.char)(C.malloc(C.FAIL_MAX_PACKET))
	defer C.free(unsafe.Pointer(buf))
	n := C.fail_encode(buf, cctx, C.uint32_t(step), C.uint32_t(errno), argv, C.int(len(args)))
	return C.GoBytes(unsafe.Pointer(buf), C.int(n))
}

// ErrnoText and SignalText are failrec.c's texts.
func ErrnoText(e uint32) string {
	var buf [24]C.char
	return C.GoString(C.fail_errno_text(C.uint32_t(e), &buf[0]))
}

func SignalText(s uint32) string {
	var buf [24]C.char
	return C.GoString(C.fail_signal_text(C.uint32_t(s), &buf[0]))
}

// CInitFail runs cinit.c's enter_cwd (which 0) or look_path (1) on arg:
// the text C rendered and the record it sent, or ok false when the check
// passed.
func CInitFail(which int, arg string) (text string, rec []byte, ok bool) {
	a := C.CString(arg)
	defer C.free(unsafe.Pointer(a))
	out := make([]byte, 8192)
	op := (*C.char)(C.CBytes(out))
	defer C.free(unsafe.Pointer(op))
	if C.ctest_cinit_fail(C.int(which), a, op, C.size_t(len(out))) != 0 {
		return "", nil, false
	}
	return C.GoString(op), C.GoBytes(unsafe.Pointer(&C.ctest_last), C.int(C.ctest_last_len)), true
}
