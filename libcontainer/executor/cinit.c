// The container's process without a Go runtime (docs/design-c-init.md).
//
// When the bootstrap carries "cinit=1", a second packet follows it: the
// process plan the Go parent resolved from the config (libcontainer/cinit.go).
// It is a list of records, each a 4-byte tag, a 4-byte length and that many
// bytes; integers are in host byte order, strings end in NUL. The records
// are declared in internal/wire/schema.go (tags in wire_gen.h); wire.c
// reads them. No JSON here.
//
//   exec:        the cloned child applies the plan and execs; no Go runtime
//                starts inside the container at all.
//   create, run: the cloned child (the container's pid 1) builds the root
//                filesystem from the rootfs program the plan carries
//                (crootfs.c). Then it applies the plan, says "ready",
//                waits for start and execs.
//                What waits in "created" is this C code.
//
// The order of the steps is the Go init's (process.go, init.go), so both
// paths give a container the same process; the e2e and escape suites run
// against this one whenever a config allows it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chooks.h"
#include "cproc.h"
#include "nsexec.h"
#include "syncmsg.h"
#include "trace.h"
#include "wire.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define MAX_RLIMITS 32
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum { CAP_BND, CAP_EFF, CAP_PRM, CAP_INH, CAP_AMB };

struct plan_rlimit {
	uint32_t resource, index;
	uint64_t soft, hard;
	const char *type;
};

struct cinit_plan {
	uint32_t mode;
	char **argv, **envp;
	int argc, envc;
	const char *cwd, *keyring, *apparmor;
	uint32_t uid, gid, umask;
	gid_t *groups;
	int ngroups;
	int has_caps;
	uint64_t caps[5];
	int nnp;
	struct plan_rlimit rlimits[MAX_RLIMITS];
	int nrlimits;
	struct sock_fprog filter;
	uint32_t filter_flags;
	int has_filter, filter_installed;
	int preserve_fds, fifo_fd, has_oom, oom;
	char *rootfs;
	uint32_t rootfs_len;
	char *start_hooks; // a hooks message (chooks.c)
	uint32_t start_hooks_len;
	struct proc_attrs attrs;
	struct proc_console console;
};

static char *str_of(struct wire_rec *r)
{
	return (char *)wire_str(r);
}

static void parse_rlimit(struct cinit_plan *p, struct wire_rec *r)
{
	if (p->nrlimits == MAX_RLIMITS)
		berth_step(STEP_PLAN_TOO_MANY, 0, BERTH_I(MAX_RLIMITS), "rlimits", NULL);
	struct plan_rlimit *l = &p->rlimits[p->nrlimits++];
	l->resource = wire_u32(r);
	l->index = wire_u32(r);
	l->soft = wire_u64(r);
	l->hard = wire_u64(r);
	l->type = wire_str(r);
}

static void parse_seccomp(struct cinit_plan *p, struct wire_rec *r)
{
	p->filter_flags = wire_u32(r);
	uint32_t len = r->len - r->off;
	size_t n = len / sizeof(struct sock_filter);
	if (n == 0 || n > 0xffff || len % sizeof(struct sock_filter) != 0)
		berth_step(STEP_PLAN_SECCOMP_LEN, 0, BERTH_U(r->len), NULL);
	// Copied: the record is not aligned for struct sock_filter.
	p->filter.filter = malloc(n * sizeof(struct sock_filter));
	if (p->filter.filter == NULL)
		berth_step(STEP_PLAN_MALLOC, errno, NULL);
	memcpy(p->filter.filter, r->d + r->off, n * sizeof(struct sock_filter));
	p->filter.len = n;
	p->has_filter = 1;
}

static void parse_groups(struct cinit_plan *p, struct wire_rec *r)
{
	p->ngroups = r->len / 4;
	p->groups = calloc(p->ngroups + 1, sizeof(gid_t));
	if (p->groups == NULL)
		berth_step(STEP_PLAN_MALLOC, errno, NULL);
	for (int i = 0; i < p->ngroups; i++)
		p->groups[i] = wire_u32(r);
}

static void parse_one(struct cinit_plan *p, struct wire_rec *r)
{
	switch (r->tag) {
	case PLAN_MODE: p->mode = wire_u32(r); break;
	case PLAN_ARG: p->argv[p->argc++] = str_of(r); break;
	case PLAN_ENV: p->envp[p->envc++] = str_of(r); break;
	case PLAN_CWD: p->cwd = wire_str(r); break;
	case PLAN_KEYRING: p->keyring = wire_str(r); break;
	case PLAN_USER:
		p->uid = wire_u32(r);
		p->gid = wire_u32(r);
		p->umask = wire_u32(r);
		break;
	case PLAN_GROUPS: parse_groups(p, r); break;
	case PLAN_CAPS:
		for (int i = 0; i < 5; i++)
			p->caps[i] = wire_u64(r);
		p->has_caps = 1;
		break;
	case PLAN_NNP: p->nnp = 1; break;
	case PLAN_RLIMIT: parse_rlimit(p, r); break;
	case PLAN_SECCOMP: parse_seccomp(p, r); break;
	case PLAN_PRESERVE: p->preserve_fds = wire_u32(r); break;
	case PLAN_FIFO: p->fifo_fd = wire_u32(r); break;
	case PLAN_OOM: p->oom = (int32_t)wire_u32(r); p->has_oom = 1; break;
	case PLAN_ROOTFS: p->rootfs = r->d; p->rootfs_len = r->len; break;
	case PLAN_APPARMOR: p->apparmor = wire_str(r); break;
	case PLAN_START_HOOKS: p->start_hooks = r->d; p->start_hooks_len = r->len; break;
	default: cproc_parse(&p->attrs, &p->console, r); break;
	}
}

// cinit_parse checks the whole plan against the schema (wire_check) before
// reading any of it: a record the schema does not declare, or one whose
// data is not its layout, fails the init here.
struct cinit_plan *cinit_parse(char *buf, size_t len)
{
	struct cinit_plan *p = calloc(1, sizeof(*p));
	char *cur, *end = buf + len, err[128];
	struct wire_rec r;
	int nargs = 0, nenv = 0;

	if (p == NULL)
		berth_step(STEP_PLAN_MALLOC, errno, NULL);
	if (wire_check(&wire_plan, buf, len, err, sizeof(err)) < 0)
		berth_step(STEP_PLAN_BAD, 0, err, NULL);
	for (cur = buf; wire_next(&cur, end, &r);) {
		nargs += r.tag == PLAN_ARG;
		nenv += r.tag == PLAN_ENV;
	}
	// One spare slot in envp for HOME.
	p->argv = calloc(nargs + 1, sizeof(char *));
	p->envp = calloc(nenv + 2, sizeof(char *));
	if (p->argv == NULL || p->envp == NULL)
		berth_step(STEP_PLAN_MALLOC, errno, NULL);
	p->fifo_fd = -1;
	p->umask = 022;
	for (cur = buf; wire_next(&cur, end, &r);)
		parse_one(p, &r);
	if (p->argc == 0 || p->cwd == NULL || p->mode < MODE_EXEC || p->mode > MODE_RUN)
		berth_step(STEP_PLAN_BAD, 0, "no mode, args or cwd", NULL);
	return p;
}

static void set_rlimits(struct cinit_plan *p)
{
	for (int i = 0; i < p->nrlimits; i++) {
		struct plan_rlimit *r = &p->rlimits[i];
		struct rlimit lim = { r->soft, r->hard }, cur;
		if (setrlimit(r->resource, &lim) == 0)
			continue;
		if (errno == EPERM && getrlimit(r->resource, &cur) == 0 && r->hard > cur.rlim_max)
			berth_step(STEP_RLIMIT_HARD, 0, BERTH_U(r->index), r->type, BERTH_U(r->hard),
				   BERTH_U(cur.rlim_max), NULL);
		berth_step(STEP_RLIMIT, errno, BERTH_U(r->index), r->type, BERTH_U(r->soft), BERTH_U(r->hard), NULL);
	}
}

// executable is the Go init's checkExecutable: 0, or -1 with errno set.
static int executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode) || (st.st_mode & 0111) == 0) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

// look_path finds args[0] as execvp would, with the container's PATH, so a
// missing binary fails before "ready" (lookPath in process.go).
static char *look_path(struct cinit_plan *p)
{
	const char *name = p->argv[0], *path = DEFAULT_PATH;
	static char found[PATH_MAX];

	if (strchr(name, '/') != NULL) {
		if (executable(name) < 0)
			berth_step(STEP_ARGS0_STAT, errno, name, name, NULL);
		return (char *)name;
	}
	for (int i = 0; i < p->envc; i++)
		if (strncmp(p->envp[i], "PATH=", 5) == 0)
			path = p->envp[i] + 5;
	for (const char *dir = path;; dir++) {
		const char *colon = strchrnul(dir, ':');
		int n = colon - dir;
		if (n == 0)
			snprintf(found, sizeof(found), "./%s", name);
		else
			snprintf(found, sizeof(found), "%.*s/%s", n, dir, name);
		if (executable(found) == 0)
			return found;
		if (*colon == '\0')
			break;
		dir = colon;
	}
	berth_step(STEP_ARGS0_NOT_FOUND, 0, name, NULL);
}

// enter_cwd changes to the cwd and checks it is inside the container's root:
// one reached through a leaked fd would not be (CVE-2024-21626).
static void enter_cwd(const char *cwd)
{
	char buf[PATH_MAX];

	if (chdir(cwd) < 0)
		berth_step(STEP_CWD_CHDIR, errno, cwd, NULL);
	// The raw system call: it marks an unreachable directory "(unreachable)".
	if (syscall(SYS_getcwd, buf, sizeof(buf)) < 0) {
		if (errno == ENOENT)
			berth_step(STEP_CWD_OUTSIDE, 0, cwd, NULL);
		berth_step(STEP_CWD_GETCWD, errno, cwd, NULL);
	}
	if (buf[0] != '/')
		berth_step(STEP_CWD_OUTSIDE, 0, cwd, NULL);
}

// notifies reports whether the filter hands out a notify listener.
static int notifies(struct cinit_plan *p)
{
	return p->has_filter && (p->filter_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
}

// send_listener hands the notify listener to the parent, which passes it
// to linux.seccomp.listenerPath, and waits until the agent has it: from
// then on only the agent can hold up a notified call. A parent that gave
// up closes the socket (it reports why itself).
static void send_listener(int fd)
{
	static const char msg[] = "{\"type\":\"" SYNC_SECCOMP_FD "\"}";
	struct iovec iov = { (void *)msg, sizeof(msg) - 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	char buf[256];
	struct sync_msg m;

	memset(u.buf, 0, sizeof(u.buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(berth_syncfd, &mh, 0) < 0)
		berth_step(STEP_SECCOMP_SEND_LISTENER, errno, NULL);
	close(fd);
	ssize_t n = recv(berth_syncfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		_exit(1);
	buf[n] = '\0';
	if (sync_parse(buf, (size_t)n, &m) < 0 || strcmp(m.type, SYNC_AGENT_HAS) != 0)
		berth_step(STEP_SYNC_WANT, 0, buf, SYNC_AGENT_HAS, NULL);
}

static void install_filter(struct cinit_plan *p)
{
	if (!p->has_filter || p->filter_installed)
		return;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->filter_flags, &p->filter);
	if (r < 0)
		berth_step(STEP_SECCOMP_INSTALL, errno, NULL);
	p->filter_installed = 1;
	if (notifies(p))
		send_listener((int)r);
}

// drop_bounding needs CAP_SETPCAP, so it runs before the user switch. Past
// the kernel's last capability PR_CAPBSET_DROP says EINVAL.
static void drop_bounding(uint64_t keep)
{
	for (int c = 0; c < 64; c++) {
		if (keep & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			berth_step(STEP_CAP_BOUNDING, errno, BERTH_I(c), NULL);
	}
}

static void set_user(struct cinit_plan *p)
{
	if (setgroups(p->ngroups, p->groups) < 0 && errno != EPERM)
		berth_step(STEP_SETGROUPS, errno, NULL);
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		berth_step(STEP_SETGID, errno, BERTH_U(p->gid), NULL);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		berth_step(STEP_SETUID, errno, BERTH_U(p->uid), NULL);
}

// set_capabilities sets effective, permitted and inheritable, then raises
// each ambient capability (the parent kept only permitted-and-inheritable
// ones, as setCapabilities in capabilities.go skips the others).
static void set_capabilities(struct cinit_plan *p)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t *c = p->caps;

	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(c[CAP_EFF] >> (32 * i));
		data[i].permitted = (uint32_t)(c[CAP_PRM] >> (32 * i));
		data[i].inheritable = (uint32_t)(c[CAP_INH] >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		berth_step(STEP_CAPSET, errno, NULL);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		berth_step(STEP_AMBIENT_CLEAR, errno, NULL);
	for (int n = 0; n < 64; n++)
		if ((c[CAP_AMB] & (1ULL << n)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, n, 0, 0) < 0)
			berth_step(STEP_AMBIENT_RAISE, errno, BERTH_I(n), NULL);
}

// cinit_open_attr opens one of this process's LSM attributes (attr, or
// fallback when attr does not exist) for writing through a procfs instance
// of its own pid namespace, mounted nowhere: a write through the
// container's /proc could be turned into a write to another file by a
// mount over /proc/self/attr (CVE-2019-16884; libcontainer/procfs does the
// same for Go). The process is single-threaded here, so /proc/thread-self,
// read as a link, names it. field and value (the spec's field and its
// value) name the setting in errors.
int cinit_open_attr(const char *field, const char *value, const char *attr, const char *fallback)
{
	struct open_how how = {
		.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	char self[64], name[128];
	struct statfs sf;

	int fs = syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		berth_step(STEP_LSM_STEP, errno, field, value, "fsopen proc", NULL);
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		berth_step(STEP_LSM_STEP, errno, field, value, "create procfs", NULL);
	int proc = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (proc < 0)
		berth_step(STEP_LSM_STEP, errno, field, value, "fsmount procfs", NULL);
	close(fs);
	ssize_t n = readlinkat(proc, "thread-self", self, sizeof(self) - 1);
	if (n <= 0)
		berth_step(STEP_LSM_STEP, errno, field, value, "readlink /proc/thread-self", NULL);
	self[n] = '\0';
	snprintf(name, sizeof(name), "%s/%s", self, attr);
	int fd = syscall(SYS_openat2, proc, name, &how, sizeof(how));
	if (fd < 0 && errno == ENOENT && fallback != NULL) {
		snprintf(name, sizeof(name), "%s/%s", self, fallback);
		fd = syscall(SYS_openat2, proc, name, &how, sizeof(how));
	}
	if (fd < 0)
		berth_step(STEP_LSM_OPEN, errno, field, value, name, NULL);
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		berth_step(STEP_LSM_NOT_PROCFS, 0, field, value, name, NULL);
	close(proc);
	return fd;
}

// apply_apparmor has the final execve enter the profile (what libapparmor's
// aa_change_onexec does): the write only names it, so nothing berth runs
// before the execve is confined by it. A profile that is not loaded fails
// the write with ENOENT.
static void apply_apparmor(const char *profile)
{
	char cmd[4096];

	if (profile == NULL)
		return;
	int n = snprintf(cmd, sizeof(cmd), "exec %s", profile);
	if (n >= (int)sizeof(cmd))
		berth_step(STEP_APPARMOR_TOO_LONG, 0, profile, NULL);
	// Linux 5.1 gave AppArmor a directory of its own; the shared attr/exec
	// belongs to whichever LSM is first, which is AppArmor on older kernels.
	int fd = cinit_open_attr("process.apparmorProfile", profile, "attr/apparmor/exec", "attr/exec");
	if (write(fd, cmd, n) != n) {
		if (errno == ENOENT)
			berth_step(STEP_APPARMOR_NOT_LOADED, 0, profile, NULL);
		berth_step(STEP_APPARMOR, errno, profile, NULL);
	}
	close(fd);
}

// become_process is applyLabels and becomeProcess in process.go, step for
// step: the AppArmor profile is named for the execve, nothing of
// berth's leaks past the execve, the cwd is checked, a filter without
// no_new_privs goes in while CAP_SYS_ADMIN is held, bounding before the
// user switch, keepcaps across it, no_new_privs last.
static void become_process(struct cinit_plan *p)
{
	// Before the filter, which may forbid fsopen or openat2, and while the
	// process is still root (applyProcessAttrs runs first in the Go init).
	apply_apparmor(p->apparmor);
	if (syscall(SYS_close_range, 3 + p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		berth_step(STEP_CLOSE_FDS, errno, NULL);
	enter_cwd(p->cwd);
	if (!p->nnp)
		install_filter(p);
	if (p->has_caps)
		drop_bounding(p->caps[CAP_BND]);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		berth_step(STEP_KEEPCAPS, errno, NULL);
	set_user(p);
	if (p->has_caps)
		set_capabilities(p);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		berth_step(STEP_NNP, errno, NULL);
	// A notify listener must reach the parent before "ready": the parent
	// of create is gone by the execve.
	if (p->nnp && notifies(p))
		install_filter(p);
	umask(p->umask);
}

// uid_field_is reports whether a passwd uid field is exactly uid in
// decimal: "abc" or "0x" must not read as 0 (root's home for another user),
// as the Go init's string comparison does not.
static int uid_field_is(const char *field, uint32_t uid)
{
	char *end;
	unsigned long v;

	if (field == NULL || field[0] < '0' || field[0] > '9')
		return 0;
	errno = 0;
	v = strtoul(field, &end, 10);
	return errno == 0 && *end == '\0' && v == uid;
}

// home_of is the home directory of uid in the container's /etc/passwd.
static const char *home_of(uint32_t uid)
{
	static char line[4096];
	const char *home = "/";
	FILE *f = fopen("/etc/passwd", "re");

	if (f == NULL)
		return home;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fields[7] = { 0 }, *s = line;
		int n = 0;
		line[strcspn(line, "\n")] = '\0';
		while (n < 7 && (fields[n++] = strsep(&s, ":")) != NULL)
			;
		if (n >= 6 && fields[5] != NULL && uid_field_is(fields[2], uid) && fields[5][0] != '\0') {
			home = fields[5];
			break;
		}
	}
	fclose(f);
	return home;
}

// exec_process runs the startContainer hooks, as the Go init did: after
// start, with the process's environment, under the seccomp filter even
// when no_new_privs would have it wait for the execve. Then it tells start
// (exec.fifo, for create) and execs.
static void exec_process(struct cinit_plan *p, const char *path, int fifo)
{
	static char home[4096 + 8];
	int has_home = 0;

	for (int i = 0; i < p->envc; i++)
		has_home |= strncmp(p->envp[i], "HOME=", 5) == 0;
	if (!has_home) {
		snprintf(home, sizeof(home), "HOME=%s", home_of(p->uid));
		p->envp[p->envc++] = home;
	}
	if (p->start_hooks != NULL) {
		install_filter(p);
		chooks_start(p->start_hooks, p->start_hooks_len, p->envp);
	}
	// start sees the fifo close at the execve (close-on-exec).
	if (fifo >= 0 && write(fifo, "0", 1) != 1)
		berth_step(STEP_FIFO_WRITE, errno, NULL);
	// Last: after this only execve has to pass the filter.
	if (p->nnp)
		install_filter(p);
	execve(path, p->argv, p->envp);
	berth_step(STEP_EXEC, errno, p->argv[0], NULL);
}

// send_traced_ready is send_ready with the init's spans: its buffers are
// on the stack only when the parent traces (a waiting init's stack pages
// are its memory for as long as the container is created).
static void __attribute__((noinline)) send_traced_ready(void)
{
	char spans[2048], ready[sizeof(spans) + 64];
	int n;
	if (berth_trace_spans(spans, sizeof(spans)) > 0)
		n = snprintf(ready, sizeof(ready), "{\"type\":\"" SYNC_READY "\",\"trace\":%s}", spans);
	else
		n = snprintf(ready, sizeof(ready), "{\"type\":\"" SYNC_READY "\"}");
	if (write(berth_syncfd, ready, n) != n)
		_exit(1); /* the parent gave up on us and reports why itself */
}

// send_ready says "ready", with the init's spans when the parent traces
// (the Go init's "ready" carried them the same way).
static void send_ready(void)
{
	static const char ready[] = "{\"type\":\"" SYNC_READY "\"}";
	berth_trace_point(POINT_INIT_PROCESS);
	if (berth_trace_active) {
		send_traced_ready();
		return;
	}
	if (write(berth_syncfd, ready, sizeof(ready) - 1) != (ssize_t)(sizeof(ready) - 1))
		_exit(1); /* the parent gave up on us and reports why itself */
}

// same_file reports whether a and b are the same inode.
static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

// reopen_fifo opens exec.fifo for writing, which blocks until `berth
// start` opens it for reading, and closes the host /proc/self/fd handle
// before it does: nothing of the host's procfs may sit in the init for the
// whole wait (issue 19). The container's own /proc is used when it is a
// procfs whose fd/N is the fifo (only berth has mounted anything in the
// container yet), and the opened file must be that fifo; a container
// without a usable /proc keeps the handle for the open.
static int reopen_fifo(int fifo_fd, int fddir)
{
	char path[64], name[16];
	struct stat want, got;
	struct statfs sf;
	int fd;

	if (fstat(fifo_fd, &want) < 0)
		berth_step(STEP_FIFO_STAT, errno, NULL);
	snprintf(name, sizeof(name), "%d", fifo_fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fifo_fd);
	if (statfs("/proc/self/fd", &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC &&
	    stat(path, &got) == 0 && same_file(&got, &want)) {
		close(fddir);
		fd = open(path, O_WRONLY | O_CLOEXEC);
	} else {
		fd = openat(fddir, name, O_WRONLY | O_CLOEXEC);
		close(fddir);
	}
	if (fd < 0)
		berth_step(STEP_FIFO_OPEN, errno, NULL);
	if (fstat(fd, &got) < 0 || !same_file(&got, &want))
		berth_step(STEP_FIFO_NOT_FIFO, 0, BERTH_I(fifo_fd), NULL);
	return fd;
}

// wait_for_start blocks until `berth start` (create: exec.fifo, reopened for
// writing through the host /proc/self/fd handle, returned for the byte that
// follows the startContainer hooks) or the "start" message (run: -1).
static int wait_for_start(struct cinit_plan *p, int fddir)
{
	char buf[256];
	struct sync_msg m;

	if (p->mode == MODE_RUN) {
		ssize_t n = recv(berth_syncfd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			_exit(1); /* the parent is gone */
		buf[n] = '\0';
		if (sync_parse(buf, (size_t)n, &m) < 0 || strcmp(m.type, SYNC_START) != 0)
			berth_step(STEP_SYNC_WANT, 0, buf, "start", NULL);
		return -1;
	}
	// The parent of create is gone: later errors go to stderr.
	close(berth_syncfd);
	berth_syncfd = -1;
	int fd = reopen_fifo(p->fifo_fd, fddir);
	close(p->fifo_fd);
	return fd;
}

// open_oom opens this process's oom_score_adj while /proc is still the
// host's; write_oom writes it once the parent listens for errors again.
static int open_oom(struct cinit_plan *p)
{
	if (!p->has_oom)
		return -1;
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		berth_step(STEP_OOM, errno, BERTH_I(p->oom), NULL);
	return fd;
}

static void write_oom(struct cinit_plan *p, int fd)
{
	char val[16];
	int n = snprintf(val, sizeof(val), "%d", p->oom);
	if (fd < 0)
		return;
	if (write(fd, val, n) != n)
		berth_step(STEP_OOM, errno, BERTH_I(p->oom), NULL);
	close(fd);
}

static void run_exec(struct cinit_plan *p)
{
	set_rlimits(p);
	const char *path = look_path(p);
	cterm_setup(&p->console, p->uid, 0);
	cattrs_apply(&p->attrs);
	become_process(p);
	send_ready();
	// The sync socket is close-on-exec: the parent sees it close at the execve.
	exec_process(p, path, -1);
}

void cinit_run(struct cinit_plan *p)
{
	int fddir = -1;

	if (p->mode == MODE_EXEC)
		run_exec(p);
	// Still the host's /proc (nothing of the container's is mounted yet):
	// the handle exec.fifo is reopened through, and this process's oom score.
	if (p->fifo_fd >= 0 && (fddir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		berth_step(STEP_OPEN, errno, "/proc/self/fd", NULL);
	int oomfd = open_oom(p);
	// The parent sends a create or run plan only with its rootfs program
	// (libcontainer/create.go): there is no Go helper to build the root.
	if (p->rootfs == NULL)
		berth_step(STEP_NO_ROOTFS_PROGRAM, 0, NULL);
	crootfs_build(p->rootfs, p->rootfs_len);
	berth_close_hostsrc();
	write_oom(p, oomfd);
	set_rlimits(p);
	if (p->keyring != NULL &&
	    syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->keyring) < 0 && errno != ENOSYS)
		berth_step(STEP_KEYRING, errno, NULL);
	const char *path = look_path(p);
	cterm_setup(&p->console, p->uid, (int)p->console.bind);
	cattrs_apply(&p->attrs);
	become_process(p);
	send_ready();
	int fifo = wait_for_start(p, fddir);
	exec_process(p, path, fifo);
}
