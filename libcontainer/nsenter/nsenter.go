// Package nsenter holds the C constructors that run before the Go runtime
// starts: nsexec.c joins and creates the container's namespaces (berth init),
// fastpath.c answers plain `berth state` and `berth list`, fastops.c
// plain `berth start` and `berth delete`, and fastexec.c runs a plain
// `berth exec`, from the pre-rendered state.brief files
// (docs/performance.md), returning to Go for anything else.
//
// setns into a user or mount namespace is refused for a multi-threaded process,
// and entering a new pid namespace only affects children, so this work cannot
// be done from Go. The constructor runs in every process that links this
// package, but acts only when the environment variable _BERTH_INITPIPE names
// the sync socket inherited from the parent (that is: in `berth init`). It
// reads one bootstrap message, joins and creates the namespaces, forks the
// container's init into them as a sibling of itself (CLONE_PARENT, so the
// berth parent can wait for it), reports the init's pid and exits; the init
// returns from the constructor into the Go runtime.
//
// The nsexec constructor below is the first after trace.c's (priority 101:
// the trace and crash points of all of them); fastpath.c, fastops.c and
// fastexec.c declare their own.
//
// Import it for its side effect only: import _ ".../libcontainer/nsenter".
package nsenter

/*
#cgo CFLAGS: -Wall -Wextra -O2
extern void berth_nsexec(void);
void __attribute__((constructor)) berth_nsenter_init(void) { berth_nsexec(); }
*/
import "C"
