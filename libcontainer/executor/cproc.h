// The C init's process attributes and terminal (cattrs.c, cterminal.c):
// what the plan asks of the process besides credentials, capabilities,
// rlimits and seccomp (cinit.c). Declared here so that cinit.c parses
// them with the rest of the plan and calls them in its order.
#ifndef BERTH_CPROC_H
#define BERTH_CPROC_H

#include <stdint.h>

#include "wire.h"

// proc_attrs is what the kernel keeps across execve: personality, NUMA
// memory policy, I/O priority, the final CPU affinity (exec), the SELinux
// label and the scheduling policy. has_* says a record was sent.
struct proc_attrs {
	int has_persona, has_mempolicy, has_ioprio, has_sched;
	uint32_t persona;
	uint32_t mpol_mode, mpol_maxnode;
	const char *mpol_name, *mpol_nodes;
	const char *mpol_mask; // unsigned longs, unaligned in the record
	uint32_t mpol_mask_len;
	uint32_t ioprio;
	const char *ioprio_class;
	int32_t ioprio_prio;
	uint32_t sched_policy, sched_priority;
	int32_t sched_nice;
	uint64_t sched_flags, sched_runtime, sched_deadline, sched_period;
	const char *sched_name;
	const char *affinity_list, *affinity_mask;
	uint32_t affinity_len;
	const char *selinux;
};

// proc_console is process.terminal: a pty made in the container, its
// master sent over fd (the --console-socket connection or berth's own
// proxy). proxied: berth relays it byte for byte, so ONLCR is cleared.
struct proc_console {
	int has;
	int fd;
	uint32_t proxied, rows, cols, bind;
};

// cproc_parse takes the records of either: 1 if r was one of them.
int cproc_parse(struct proc_attrs *a, struct proc_console *c, struct wire_rec *r);

// cattrs_apply sets the attributes on the calling (only) thread. It runs
// before the capabilities are dropped (a realtime policy needs
// CAP_SYS_NICE) and before seccomp, which may forbid the calls.
void cattrs_apply(const struct proc_attrs *a);

// cterm_setup makes the pty on the container's devpts, gives its peer to
// uid, sends the master away and makes the peer this process's
// controlling terminal and stdio. bind_console: also bind the peer on
// /dev/console (the container's init, in its own mount namespace).
void cterm_setup(const struct proc_console *c, uint32_t uid, int bind_console);

// cinit_open_attr opens attr (or fallback, when attr does not exist) of
// this thread in a private procfs instance, for writing; what names the
// setting in errors. cinit.c has it.
int cinit_open_attr(const char *field, const char *value, const char *attr, const char *fallback);

#endif
