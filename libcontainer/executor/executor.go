// Package executor is where berth's decisions are carried out: the C code
// that builds a container, run before the Go runtime starts. Go decides
// (package libcontainer renders the wire messages of internal/wire); this
// package executes them, and nothing it does is done a second time in Go:
//
//   - nsexec.c, stage 0 of `berth init`: reads the bootstrap (bootstrap.c),
//     joins and creates the namespaces, forks the container's init;
//   - cinit.c, the container's pid 1 (or an exec's process): the plan's
//     process settings (cattrs.c, cterminal.c), seccomp, the execve;
//   - crootfs.c, the root filesystem program (ccopyup.c, cmountinfo.c);
//   - chooks.c, the hooks that run inside the container;
//   - fastpath.c, fastops.c, fastexec.c: plain state/list, start/delete and
//     exec answered from the pre-rendered state.brief files
//     (docs/performance.md), returning to Go for anything else;
//   - wire.c, syncmsg.c, failrec.c, trace.c: the one reader of every
//     message, the error records and the trace points, each generated from
//     or checked against the Go schema.
//
// setns into a user or mount namespace is refused for a multi-threaded
// process, and entering a new pid namespace only affects children, so this
// work cannot be done from Go. The constructors run in every process that
// links this package, but act only when their environment or arguments say
// so (_BERTH_INITPIPE names the sync socket in `berth init`). The nsexec
// constructor below is the first after trace.c's (priority 101: the trace
// and crash points of all of them); fastpath.c, fastops.c and fastexec.c
// declare their own. The cgo tests and fuzzers of the C code are in
// ./ctest, which compiles the same files without the constructors.
//
// The berth command imports it for the constructors.
package executor

/*
#cgo CFLAGS: -Wall -Wextra -O2
extern void berth_nsexec(void);
void __attribute__((constructor)) berth_nsenter_init(void) { berth_nsexec(); }
*/
import "C"
