// The process attributes the kernel keeps across execve, set by the C init
// from its plan (cproc.h): Go resolved every name to its number
// (libcontainer/cinit_attrs.go), C only makes the calls. Errors read as the
// Go init's did (process_attrs.go before issue 21).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cproc.h"
#include "nsexec.h"

#define IOPRIO_WHO_PROCESS 1
#ifndef SCHED_FIFO
#define SCHED_FIFO 1
#endif
#define SCHED_RR_ 2
#define SCHED_DEADLINE_ 6

// sched_attr is the kernel's struct (sched_setattr(2)); glibc has none
// before 2.41.
struct sched_attr_ {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

int cproc_parse(struct proc_attrs *a, struct proc_console *c, struct wire_rec *r)
{
	switch (r->tag) {
	case PLAN_CONSOLE:
		c->has = 1;
		c->fd = (int)wire_u32(r);
		c->proxied = wire_u32(r);
		c->rows = wire_u32(r);
		c->cols = wire_u32(r);
		c->bind = wire_u32(r);
		return 1;
	case PLAN_SELINUX: a->selinux = wire_str(r); return 1;
	case PLAN_PERSONALITY:
		a->has_persona = 1;
		a->persona = wire_u32(r);
		return 1;
	case PLAN_MEMPOLICY:
		a->has_mempolicy = 1;
		a->mpol_mode = wire_u32(r);
		a->mpol_maxnode = wire_u32(r);
		a->mpol_name = wire_str(r);
		a->mpol_nodes = wire_str(r);
		a->mpol_mask = r->d + r->off;
		a->mpol_mask_len = r->len - r->off;
		return 1;
	case PLAN_IOPRIO:
		a->has_ioprio = 1;
		a->ioprio = wire_u32(r);
		a->ioprio_class = wire_str(r);
		a->ioprio_prio = (int32_t)wire_u32(r);
		return 1;
	case PLAN_SCHED:
		a->has_sched = 1;
		a->sched_policy = wire_u32(r);
		a->sched_flags = wire_u64(r);
		a->sched_nice = (int32_t)wire_u32(r);
		a->sched_priority = wire_u32(r);
		a->sched_runtime = wire_u64(r);
		a->sched_deadline = wire_u64(r);
		a->sched_period = wire_u64(r);
		a->sched_name = wire_str(r);
		return 1;
	case PLAN_AFFINITY:
		a->affinity_list = wire_str(r);
		a->affinity_mask = r->d + r->off;
		a->affinity_len = r->len - r->off;
		return 1;
	}
	return 0;
}

// aligned copies an unaligned mask out of the record into unsigned longs.
static unsigned long *aligned(const char *mask, uint32_t len)
{
	unsigned long *out = calloc(len / sizeof(unsigned long) + 1, sizeof(unsigned long));
	if (out == NULL)
		berth_step(STEP_PLAN_MALLOC, errno, NULL);
	memcpy(out, mask, len);
	return out;
}

static void set_mempolicy_(const struct proc_attrs *a)
{
	unsigned long *mask = NULL;
	if (a->mpol_mask_len > 0)
		mask = aligned(a->mpol_mask, a->mpol_mask_len);
	if (syscall(SYS_set_mempolicy, a->mpol_mode, mask, (unsigned long)a->mpol_maxnode) < 0)
		berth_step(STEP_MEMPOLICY, errno, a->mpol_name, a->mpol_nodes, NULL);
	free(mask);
}

static int realtime(uint32_t policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR_ || policy == SCHED_DEADLINE_;
}

static void set_scheduler(const struct proc_attrs *a)
{
	struct sched_attr_ attr = {
		.size = sizeof(attr), .sched_policy = a->sched_policy, .sched_flags = a->sched_flags,
		.sched_nice = a->sched_nice, .sched_priority = a->sched_priority,
		.sched_runtime = a->sched_runtime, .sched_deadline = a->sched_deadline,
		.sched_period = a->sched_period,
	};
	if (syscall(SYS_sched_setattr, 0, &attr, 0) == 0)
		return;
	if (errno == EPERM && realtime(a->sched_policy))
		berth_step(STEP_SCHED_REALTIME, 0, a->sched_name, NULL);
	berth_step(STEP_SCHED, errno, a->sched_name, NULL);
}

// set_selinux names the label the execve enters, through a private procfs
// instance (cinit_open_attr), as the AppArmor profile is (CVE-2019-16884).
static void set_selinux(const char *label)
{
	int fd = cinit_open_attr("process.selinuxLabel", label, "attr/exec", NULL);
	ssize_t n = (ssize_t)strlen(label);
	if (write(fd, label, n) != n)
		berth_step(STEP_SELINUX_LABEL, errno, label, NULL);
	close(fd);
}

void cattrs_apply(const struct proc_attrs *a)
{
	// errno is saved before BERTH_X/BERTH_I format: the order in which
	// berth_step's arguments are evaluated is unspecified.
	if (a->has_persona && personality(a->persona) < 0) {
		int err = errno;
		berth_step(STEP_PERSONALITY, err, BERTH_X(a->persona), NULL);
	}
	if (a->has_mempolicy)
		set_mempolicy_(a);
	if (a->has_ioprio && syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, a->ioprio) < 0) {
		int err = errno;
		berth_step(STEP_IOPRIO, err, a->ioprio_class, BERTH_I(a->ioprio_prio), NULL);
	}
	if (a->affinity_list != NULL) {
		unsigned long *mask = aligned(a->affinity_mask, a->affinity_len);
		if (syscall(SYS_sched_setaffinity, 0, a->affinity_len, mask) < 0)
			berth_step(STEP_CPU_AFFINITY, errno, a->affinity_list, NULL);
		free(mask);
	}
	if (a->selinux != NULL)
		set_selinux(a->selinux);
	if (a->has_sched)
		set_scheduler(a);
}
