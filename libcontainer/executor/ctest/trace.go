package ctest

/*
#include <stdlib.h>
#include "../trace.h"
int ctest_trace_init(void);
int ctest_spans(char *buf, size_t len, char *out, size_t size);
*/
import "C"

import (
	"os"
	"unsafe"
)

// TraceMs is berth_trace_format_ms: ns as a log line's phase_ms.
func TraceMs(ns int64, json bool) string {
	var buf [64]C.char
	n := C.berth_trace_format_ms(&buf[0], C.size_t(len(buf)), C.longlong(ns), cbool(json))
	return C.GoStringN(&buf[0], C.int(n))
}

// TraceLine is berth_trace_format_line; side "" is none.
func TraceLine(json bool, point string, phase, total int64, side string) string {
	var buf [1024]C.char
	p := C.CString(point)
	defer C.free(unsafe.Pointer(p))
	var s *C.char
	if side != "" {
		s = C.CString(side)
		defer C.free(unsafe.Pointer(s))
	}
	n := C.berth_trace_format_line(&buf[0], C.size_t(len(buf)), cbool(json), p, C.longlong(phase), C.longlong(total), s)
	return C.GoStringN(&buf[0], C.int(n))
}

// TraceCollect runs trace.c's start-up as berth init under a tracing
// parent would (_BERTH_INITPIPE and _BERTH_TRACE=1 set), passes points,
// and returns what berth_trace_spans renders for the parent, then what a
// second call renders (nothing: the spans went out).
func TraceCollect(points []string) (first, second string) {
	os.Setenv("_BERTH_INITPIPE", "3")
	os.Setenv("_BERTH_TRACE", "1")
	defer os.Unsetenv("_BERTH_INITPIPE")
	defer os.Unsetenv("_BERTH_TRACE")
	C.ctest_trace_init()
	for _, name := range points {
		p := C.CString(name) // kept: the spans point at it until rendered
		defer C.free(unsafe.Pointer(p))
		C.berth_trace_point(p)
	}
	var buf [4096]C.char
	n := C.berth_trace_spans(&buf[0], C.size_t(len(buf)))
	first = C.GoStringN(&buf[0], C.int(n))
	n = C.berth_trace_spans(&buf[0], C.size_t(len(buf)))
	return first, C.GoStringN(&buf[0], C.int(n))
}

// TraceChildEnv is berth_trace_child_env after start-up with env set.
func TraceChildEnv(env map[string]string, logging bool) []string {
	for k, v := range env {
		os.Setenv(k, v)
		defer os.Unsetenv(k)
	}
	C.ctest_trace_init()
	if logging {
		devnull := C.CString("/dev/null")
		defer C.free(unsafe.Pointer(devnull))
		C.berth_trace_log(devnull, 0, 1)
	}
	var envp [4]*C.char
	C.berth_trace_child_env(&envp[0], C.int(len(envp)))
	var out []string
	for _, e := range envp {
		if e == nil {
			break
		}
		out = append(out, C.GoString(e))
	}
	return out
}

// SyncSpans is sync_spans: the spans of a message's "trace" array as
// "point phase total" lines, or false when it refuses the message.
func SyncSpans(b []byte) (string, bool) {
	return call(func(buf *C.char, n C.size_t, out *C.char, size C.size_t) C.int {
		return C.ctest_spans(buf, n, out, size)
	}, b)
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
