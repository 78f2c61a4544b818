// Package buildid gives Go the running binary's GNU build id, read by the
// same C code the constructors use (libcontainer/executor/buildid.c), so
// that what Go stamps on state.brief is what C compares it with.
package buildid

/*
#cgo CFLAGS: -Wall -Wextra -O2 -I${SRCDIR}/../../libcontainer/executor
#define berth_build_id berth_build_id_go
#include "buildid.h"
*/
import "C"

import (
	"sync"
	"unsafe"
)

// Get returns the build id, or "" when the binary has none.
var Get = sync.OnceValue(func() string {
	var buf [129]C.char
	if C.berth_build_id(&buf[0], C.size_t(len(buf))) != 0 {
		return ""
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
})
