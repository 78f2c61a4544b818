// Declarations shared by the C stages of berth init (nsexec.c, cinit.c).
#ifndef BERTH_NSEXEC_H
#define BERTH_NSEXEC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

// The sync socket to the berth parent, or -1 once closed (errors then go to
// stderr: the parent of create is gone).
extern int berth_syncfd;

// berth_step reports that step (STEP_*, wire.Steps) failed with errno err
// (0: none) to the parent as a record (failrec.h), and exits 1. The
// arguments, strings ending with NULL, fill the step's {N}; the parent
// renders the text, as it does the Go init's wire.Failure.
void berth_step(uint32_t step, int err, ...) __attribute__((noreturn, sentinel));
// berth_vstep is berth_step with ctx (what the step was about, or NULL).
void berth_vstep(const char *ctx, uint32_t step, int err, va_list ap) __attribute__((noreturn));
// BERTH_U and BERTH_I are a number as a step argument (decimal, as Go's %d).
// BERTH_X is one in hexadecimal as %#llx ("0x20", "0").
#define BERTH_U(v) berth_num((char[24]){ 0 }, (unsigned long long)(v), 'u')
#define BERTH_I(v) berth_num((char[24]){ 0 }, (unsigned long long)(long long)(v), 'd')
#define BERTH_X(v) berth_num((char[24]){ 0 }, (unsigned long long)(v), 'x')
const char *berth_num(char *buf, unsigned long long v, char conv);
// berth_trunc is s cut to the size of buf (a char array) less its NUL.
#define berth_trunc(buf, s) berth_cut(buf, sizeof(buf), s)
const char *berth_cut(char *buf, size_t size, const char *s);

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
