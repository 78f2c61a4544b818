// cinit.c with its exits caught (harness.h), and a way in to its plan
// parser.
#include "harness.h"
#include <stdio.h>
#include <string.h>
#define _exit ctest_exit
#include "../cinit.c"
#include "../cattrs.c"
#include "../cterminal.c"
#undef _exit

static void render(struct cinit_plan *p, char *out, size_t size)
{
	size_t o = 0;
#define PUT(...) o += (size_t)snprintf(out + o, o < size ? size - o : 0, __VA_ARGS__)
	PUT("mode %u cwd %s umask %o uid %u gid %u\n", p->mode, p->cwd, p->umask, p->uid, p->gid);
	for (int i = 0; i < p->argc; i++)
		PUT("arg %s\n", p->argv[i]);
	for (int i = 0; i < p->envc; i++)
		PUT("env %s\n", p->envp[i]);
	for (int i = 0; i < p->ngroups; i++)
		PUT("group %u\n", (unsigned)p->groups[i]);
	if (p->has_caps)
		PUT("caps %llx %llx %llx %llx %llx\n", (unsigned long long)p->caps[0], (unsigned long long)p->caps[1],
		    (unsigned long long)p->caps[2], (unsigned long long)p->caps[3], (unsigned long long)p->caps[4]);
	for (int i = 0; i < p->nrlimits; i++)
		PUT("rlimit %u %u %llu %llu %s\n", p->rlimits[i].resource, p->rlimits[i].index,
		    (unsigned long long)p->rlimits[i].soft, (unsigned long long)p->rlimits[i].hard, p->rlimits[i].type);
	if (p->has_filter)
		PUT("seccomp %u flags %u\n", (unsigned)p->filter.len, p->filter_flags);
	if (p->has_oom)
		PUT("oom %d\n", p->oom);
	PUT("nnp %d preserve %d fifo %d rootfs %u keyring %s apparmor %s\n", p->nnp, p->preserve_fds, p->fifo_fd,
	    p->rootfs_len, p->keyring ? p->keyring : "-", p->apparmor ? p->apparmor : "-");
	struct proc_attrs *a = &p->attrs;
	if (p->console.has)
		PUT("console fd %d proxied %u size %ux%u bind %u\n", p->console.fd, p->console.proxied,
		    p->console.rows, p->console.cols, p->console.bind);
	if (a->selinux)
		PUT("selinux %s\n", a->selinux);
	if (a->has_persona)
		PUT("personality %#x\n", a->persona);
	if (a->has_mempolicy) {
		PUT("mempolicy %u maxnode %u %s %s mask", a->mpol_mode, a->mpol_maxnode, a->mpol_name, a->mpol_nodes);
		for (uint32_t i = 0; i < a->mpol_mask_len; i++)
			PUT(" %02x", (unsigned char)a->mpol_mask[i]);
		PUT("\n");
	}
	if (a->has_ioprio)
		PUT("ioprio %#x %s %d\n", a->ioprio, a->ioprio_class, a->ioprio_prio);
	if (a->has_sched)
		PUT("sched %u flags %llu nice %d prio %u %llu %llu %llu %s\n", a->sched_policy,
		    (unsigned long long)a->sched_flags, a->sched_nice, a->sched_priority,
		    (unsigned long long)a->sched_runtime, (unsigned long long)a->sched_deadline,
		    (unsigned long long)a->sched_period, a->sched_name);
	if (a->affinity_list) {
		PUT("affinity %s mask", a->affinity_list);
		for (uint32_t i = 0; i < a->affinity_len; i++)
			PUT(" %02x", (unsigned char)a->affinity_mask[i]);
		PUT("\n");
	}
#undef PUT
}

// ctest_plan parses a plan (kept: the plan points into it) and renders it;
// -1 with the error.
int ctest_plan(char *buf, size_t len, char *out, size_t size)
{
	jmp_buf jb;
	int fds[2];

	ctest_capture(fds);
	ctest_jmp = &jb;
	if (setjmp(jb) != 0) {
		ctest_jmp = NULL;
		ctest_failure(fds, out, size);
		return -1;
	}
	struct cinit_plan *p = cinit_parse(buf, len);
	ctest_jmp = NULL;
	ctest_failure(fds, out, size);
	render(p, out, size);
	free(p->filter.filter);
	free(p->groups);
	free(p->argv);
	free(p->envp);
	free(p);
	return 0;
}

// ctest_cinit_fail runs one of cinit.c's checks that fails on the host
// without changing anything (which: 0 enter_cwd, 1 look_path of arg) and
// renders what it reported; the raw record is left in ctest_last. 0 when
// it reported, -1 when the check passed.
int ctest_cinit_fail(int which, const char *arg, char *out, size_t size)
{
	static char name[4096];
	static char *argv[2] = { name, NULL };
	struct cinit_plan p = { .argv = argv, .argc = 1 };
	jmp_buf jb;
	int fds[2];

	snprintf(name, sizeof(name), "%s", arg);
	ctest_capture(fds);
	ctest_jmp = &jb;
	if (setjmp(jb) != 0) {
		ctest_jmp = NULL;
		ctest_failure(fds, out, size);
		return 0;
	}
	if (which == 0)
		enter_cwd(arg);
	else
		look_path(&p);
	ctest_jmp = NULL;
	ctest_failure(fds, out, size);
	return -1;
}
