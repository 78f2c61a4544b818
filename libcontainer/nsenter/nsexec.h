// Declarations shared by the C stages of berth init (nsexec.c, cinit.c).
#ifndef BERTH_NSEXEC_H
#define BERTH_NSEXEC_H

#include <stddef.h>

// The sync socket to the berth parent, or -1 once closed (errors then go to
// stderr: the parent of create is gone).
extern int berth_syncfd;

// berth_fail reports "<message>: <errno text>" (errno as it was at the
// call, left out when 0) to the parent as a JSON error and exits 1.
void berth_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
// berth_failx is berth_fail without the errno text.
void berth_failx(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

// The bind sources nsexec.c opened from the host side before entering the
// user namespace (bootstrap "hostsrc", rootfs.HostSources): detached clones
// (open_tree), by slot. A rootfs program's bind record names its slot.
#define BERTH_MAX_HOSTSRC 64
extern int berth_hostsrc[BERTH_MAX_HOSTSRC];
extern int berth_nhostsrc;
// berth_close_hostsrc closes them once the root is built: the waiting init
// holds nothing of the host's.
void berth_close_hostsrc(void);

struct cinit_plan;

// cinit_parse reads the process plan packet (cinit.c documents the format).
// The plan keeps pointers into buf.
struct cinit_plan *cinit_parse(char *buf, size_t len);
// cinit_run takes over the cloned child: it builds the root (create, run),
// applies the plan and execs the process; it never returns.
void cinit_run(struct cinit_plan *p);
// crootfs_build runs a rootfs program (crootfs.c) in the container's pid 1:
// the mounts, the parent's hooks, pivot_root and the root's settings.
void crootfs_build(char *prog, size_t len);

#endif
