package executor

/*
#include <stdlib.h>
#include "chooks.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// RunHooks runs the hooks of msg (a wire.Hooks message) with the C hook
// runner the C init uses (chooks.c), so that a Go init runs createContainer
// and startContainer hooks exactly as the C init does: state on stdin, in
// cwd ("": this process's), env for the hooks that take the process's
// environment. The error is the runner's "<name>: <why>".
func RunHooks(msg, state []byte, cwd string, env []string) error {
	if len(msg) == 0 {
		return nil
	}
	cmsg := C.CBytes(msg)
	defer C.free(cmsg)
	var cstate unsafe.Pointer
	if len(state) > 0 {
		cstate = C.CBytes(state)
		defer C.free(cstate)
	}
	var ccwd *C.char
	if cwd != "" {
		ccwd = C.CString(cwd)
		defer C.free(unsafe.Pointer(ccwd))
	}
	cenv := make([]*C.char, len(env)+1)
	for i, e := range env {
		cenv[i] = C.CString(e)
		defer C.free(unsafe.Pointer(cenv[i]))
	}
	penv := (**C.char)(C.malloc(C.size_t(len(cenv)) * C.size_t(unsafe.Sizeof(cenv[0]))))
	defer C.free(unsafe.Pointer(penv))
	copy(unsafe.Slice(penv, len(cenv)), cenv)
	errBuf := (*C.char)(C.malloc(1024))
	defer C.free(unsafe.Pointer(errBuf))
	if C.chooks_run((*C.char)(cmsg), C.size_t(len(msg)), (*C.char)(cstate), C.size_t(len(state)), ccwd,
		penv, errBuf, 1024) != 0 {
		return errors.New(C.GoString(errBuf))
	}
	return nil
}
