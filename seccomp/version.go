package seccomp

/*
#cgo pkg-config: libseccomp
#include <seccomp.h>
*/
import "C"

import "fmt"

// LibraryVersion is the version of the libseccomp berth runs with.
func LibraryVersion() string {
	v := C.seccomp_version()
	if v == nil {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.micro)
}
