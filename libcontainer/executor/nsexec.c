// The pre-Go half of `berth init`: see executor.go for why it exists.
//
// Bootstrap (one SOCK_SEQPACKET packet from the parent): the wire.Boot
// records of internal/wire/schema.go, read by bootstrap.c into struct
// bootstrap (bootstrap.h): namespaces to join (user first) and to create,
// id maps and their helpers, setgroups, time offsets, an early
// oom_score_adj, the host's bind sources, whether the CPU affinity stays,
// whether the caller is rootless and whether a process plan packet follows
// (cinit.c).
// Replies: a JSON packet {"type":"pid","pid":N}, or a Fail record (failrec.h).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"
#include "failrec.h"
#include "nsexec.h"
#include "trace.h"
#include "wire_gen.h"

int berth_syncfd = -1;
int berth_hostsrc[BERTH_MAX_HOSTSRC];
int berth_nhostsrc;

// report sends the record to the parent as a Fail message (not text: the
// parent renders it, failrec.h), or renders it to stderr once the socket
// is closed; then exits.
static void __attribute__((noreturn)) report(const char *ctx, uint32_t step, int err, const char *const *args, int nargs)
{
	static char rec[FAIL_MAX_PACKET];
	size_t n = fail_encode(rec, ctx, step, (uint32_t)err, args, nargs);

	if (berth_syncfd < 0) {
		char text[4096];
		fail_render(rec, n, text, sizeof(text));
		fprintf(stderr, "berth init: %s\n", text);
		_exit(1);
	}
	if (write(berth_syncfd, rec, n) < 0) {
		/* nothing more we can do: the parent sees the socket close */
	}
	_exit(1);
}

void berth_vstep(const char *ctx, uint32_t step, int err, va_list ap)
{
	const char *args[FAIL_MAX_ARGS];
	int n = 0;
	const char *a;

	while (n < FAIL_MAX_ARGS && (a = va_arg(ap, const char *)) != NULL)
		args[n++] = a;
	report(ctx, step, err, args, n);
}

void berth_step(uint32_t step, int err, ...)
{
	va_list ap;

	va_start(ap, err);
	berth_vstep(NULL, step, err, ap);
	va_end(ap);
}

const char *berth_num(char *buf, unsigned long long v, char conv)
{
	if (conv == 'd')
		snprintf(buf, 24, "%lld", (long long)v);
	else if (conv == 'x')
		snprintf(buf, 24, "%#llx", v);
	else
		snprintf(buf, 24, "%llu", v);
	return buf;
}

const char *berth_cut(char *buf, size_t size, const char *s)
{
	snprintf(buf, size, "%s", s);
	return buf;
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		berth_step(STEP_OPEN, errno, path, NULL);
	size_t len = strlen(data);
	if (write(fd, data, len) != (ssize_t)len)
		berth_step(STEP_WRITE, errno, path, NULL);
	close(fd);
}

// write_oom_early sets a rootless container's oom_score_adj in stage 0,
// which the init inherits. /proc/self of a non-dumpable process is root's,
// which an unprivileged caller is not: dumpable for the one write.
static void write_oom_early(const char *val)
{
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		berth_step(STEP_DUMPABLE, errno, NULL);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		berth_step(STEP_OOM_EARLY, errno, val, NULL);
	close(fd);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		berth_step(STEP_DUMPABLE, errno, NULL);
}

// join_namespaces opens every path first (later setns calls may change what
// a path means), then joins what it can before the user namespace, and the
// rest after it. A namespace the joined user namespace does not own (a
// host network namespace beside another container's user namespace) can
// only be joined while we still hold the host's capabilities; one that only
// its own user namespace lets us into (a rootless caller's) only after it.
// In a joined user namespace we become its root, so that what we create
// (/dev/pts in a new mount namespace) is owned by a mapped id, not by an
// unmapped one that fails with EOVERFLOW.
static void join_namespaces(struct bootstrap *b)
{
	for (int i = 0; i < b->njoin; i++) {
		b->joins[i].fd = open(b->joins[i].path, O_RDONLY | O_CLOEXEC);
		if (b->joins[i].fd < 0)
			berth_step(STEP_OPEN_NS, errno, b->joins[i].path, NULL);
	}
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < b->njoin; i++) {
			struct join *j = &b->joins[i];
			if (j->fd < 0 || (pass == 1) != (j->flag == CLONE_NEWUSER))
				continue;
			if (setns(j->fd, j->flag) < 0) {
				if (pass == 0 && errno == EPERM)
					continue; /* after the user namespace */
				berth_step(STEP_SETNS, errno, j->path, NULL);
			}
			close(j->fd);
			j->fd = -1;
			if (j->flag == CLONE_NEWUSER && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
				berth_step(STEP_ROOT_IN_USERNS, errno, j->path, NULL);
		}
	}
}

// open_host_sources clones each bind source the bootstrap names into a
// detached mount while this process is still the host's root in the host's
// mount namespace (rootfs/hostsource.go says why).
static void open_host_sources(struct bootstrap *b)
{
	for (int i = 0; i < b->nhostsrc; i++) {
		unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (b->hostsrc_rec[i] ? AT_RECURSIVE : 0);
		int fd = syscall(SYS_open_tree, AT_FDCWD, b->hostsrc[i], flags);
		if (fd < 0)
			berth_step(STEP_OPEN_HOSTSRC, errno, b->hostsrc[i], NULL);
		berth_hostsrc[berth_nhostsrc++] = fd;
	}
}

void berth_close_hostsrc(void)
{
	for (int i = 0; i < berth_nhostsrc; i++)
		close(berth_hostsrc[i]);
	berth_nhostsrc = 0;
}

// run_map_helper maps pid's user namespace with newuidmap or newgidmap
// (helper): "helper PID ID HOSTID SIZE ..." from the map's text. The
// setuid helper checks the ranges against /etc/subuid or /etc/subgid; what
// it prints when it refuses becomes the error.
static void run_map_helper(const char *helper, pid_t pid, const char *map)
{
	char *copy = strdup(map), *save = NULL, pidstr[16];
	size_t cap = 8, n = 0;
	char **argv = malloc(cap * sizeof(char *));
	if (copy == NULL || argv == NULL)
		berth_step(STEP_MALLOC, errno, NULL);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	argv[n++] = (char *)helper;
	argv[n++] = pidstr;
	for (char *t = strtok_r(copy, " \n", &save); t != NULL; t = strtok_r(NULL, " \n", &save)) {
		if (n + 2 > cap && (argv = realloc(argv, (cap *= 2) * sizeof(char *))) == NULL)
			berth_step(STEP_MALLOC, errno, NULL);
		argv[n++] = t;
	}
	argv[n] = NULL;
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		berth_step(STEP_PIPE, errno, NULL);
	pid_t child = fork();
	if (child < 0)
		berth_step(STEP_FORK, errno, helper, NULL);
	if (child == 0) {
		dup2(out[1], 1);
		dup2(out[1], 2);
		char *envp[] = { NULL };
		execve(helper, argv, envp);
		dprintf(out[1], "exec: %s", strerror(errno));
		_exit(127);
	}
	close(out[1]);
	char msg[512];
	size_t got = 0;
	ssize_t r;
	while (got < sizeof(msg) - 1 && ((r = read(out[0], msg + got, sizeof(msg) - 1 - got)) > 0 || (r < 0 && errno == EINTR)))
		got += r > 0 ? (size_t)r : 0;
	close(out[0]);
	while (got > 0 && (msg[got - 1] == '\n' || msg[got - 1] == ' '))
		got--;
	msg[got] = '\0';
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			berth_step(STEP_WAIT, errno, helper, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		berth_step(STEP_HELPER_FAILED, 0, helper, got > 0 ? msg : "failed", NULL);
	free(copy);
	free(argv);
}

// map_user_namespace creates a new user namespace and has a helper left in
// the parent namespace write its id maps: writing a full map needs
// CAP_SETUID in the parent namespace, which we lose by unsharing.
//
// A rootless caller is not the host's root: /proc/<pid>/ files of a
// non-dumpable process belong to root, so neither the helper nor newuidmap
// (which checks that the target is the caller's) could open them. This
// process is made dumpable from before the unshare until its maps are
// written, as runc does; nothing of the container runs yet, and only the
// caller's own uid could make use of it.
static void map_user_namespace(struct bootstrap *b)
{
	int p[2];
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		berth_step(STEP_PIPE, errno, NULL);
	pid_t self = getpid();
	pid_t helper = fork();
	if (helper < 0)
		berth_step(STEP_FORK, errno, "id-map helper", NULL);
	if (helper == 0) {
		char path[64];
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		if (b->setgroups_deny) {
			snprintf(path, sizeof(path), "/proc/%d/setgroups", self);
			write_file(path, "deny");
		}
		if (b->uidmap && b->uidhelper) {
			run_map_helper(b->uidhelper, self, b->uidmap);
		} else if (b->uidmap) {
			snprintf(path, sizeof(path), "/proc/%d/uid_map", self);
			write_file(path, b->uidmap);
		}
		if (b->gidmap && b->gidhelper) {
			run_map_helper(b->gidhelper, self, b->gidmap);
		} else if (b->gidmap) {
			snprintf(path, sizeof(path), "/proc/%d/gid_map", self);
			write_file(path, b->gidmap);
		}
		_exit(0);
	}
	close(p[0]);
	if (b->rootless && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		berth_step(STEP_DUMPABLE, errno, NULL);
	if (unshare(CLONE_NEWUSER) < 0)
		berth_step(STEP_UNSHARE_USER, errno, NULL);
	if (write(p[1], "1", 1) != 1)
		berth_step(STEP_SIGNAL, errno, "id-map helper", NULL);
	close(p[1]);
	int status;
	if (waitpid(helper, &status, 0) < 0)
		berth_step(STEP_WAIT, errno, "id-map helper", NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		_exit(1); /* the helper already reported why */
	if (b->rootless && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		berth_step(STEP_DUMPABLE, errno, NULL);
	// Become root of the new namespace so the Go init can set its ids.
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		berth_step(STEP_ROOT_IN_NEW_USERNS, errno, NULL);
}

// loopback_up brings lo of a new network namespace up, as runc does: one
// ioctl here instead of a netlink round trip into the namespace from Go.
static void loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		berth_step(STEP_LO_SOCKET, errno, NULL);
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		berth_step(STEP_LO_FIND, errno, NULL);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		berth_step(STEP_LO_UP, errno, NULL);
	close(fd);
}

static char *read_packet(size_t *len)
{
	ssize_t n = recv(berth_syncfd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n < 0)
		berth_step(STEP_BOOTSTRAP_READ, errno, NULL);
	if (n == 0)
		_exit(1); /* parent went away before sending anything */
	char *buf = malloc(n + 1);
	if (buf == NULL)
		berth_step(STEP_MALLOC, errno, NULL);
	if (recv(berth_syncfd, buf, n, 0) != n)
		berth_step(STEP_BOOTSTRAP_READ, errno, NULL);
	buf[n] = '\0';
	*len = n;
	return buf;
}

// reset_signals hands the container none of its caller's signal state:
// an engine started under nohup or by a service manager that ignores
// SIGHUP, or blocks signals, would otherwise pass that on through
// every exec (an ignored disposition and the mask survive execve). Every
// signal goes back to its default action and none stays blocked, as runc
// does. The raw system call reaches the two signals glibc keeps to
// itself (32, 33).
static void reset_signals(void)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} dfl = { SIG_DFL, 0, NULL, 0 };
	uint64_t none = 0;

	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
}

// reset_affinity lets the container use every CPU its cpuset allows
// instead of the caller's pinning (`taskset -c 0 berth run`): the kernel
// keeps a caller's affinity across a cpuset move, so the full mask is
// asked for and the kernel cuts it down to the cpuset. The parent has
// placed this process in the container's cgroup before the bootstrap.
static void reset_affinity(void)
{
	cpu_set_t all;

	memset(&all, 0xff, sizeof(all));
	sched_setaffinity(0, sizeof(all), &all); /* best effort, as runc */
}

// report_pid tells the parent the init's pid and exits. The init's
// builders find the host's bind sources by these fd numbers, which the
// clone shares; a tracing parent gets this stage's spans. Its buffers are
// in a frame of their own, entered only after the clone: the stack pages
// stage 0 touches before it are the init's too, for as long as it waits.
static void __attribute__((noinline, noreturn)) report_pid(pid_t child)
{
	char spans[1024], msg[64 + 12 * BERTH_MAX_HOSTSRC + sizeof(spans)];
	int n = snprintf(msg, sizeof(msg), "{\"type\":\"pid\",\"pid\":%d,\"hostsrc\":[", child);
	for (int i = 0; i < berth_nhostsrc; i++)
		n += snprintf(msg + n, sizeof(msg) - n, "%s%d", i ? "," : "", berth_hostsrc[i]);
	if (berth_trace_spans(spans, sizeof(spans)) > 0)
		n += snprintf(msg + n, sizeof(msg) - n, "],\"trace\":%s}", spans);
	else
		n += snprintf(msg + n, sizeof(msg) - n, "]}");
	if (write(berth_syncfd, msg, n) != n)
		berth_step(STEP_REPORT_PID, errno, NULL);
	_exit(0);
}

void berth_nsexec(void)
{
	const char *env = getenv("_BERTH_INITPIPE");
	struct bootstrap b;
	size_t len;

	if (env == NULL || *env == '\0')
		return;
	berth_syncfd = atoi(env);
	// Not dumpable: nothing in the container may ptrace or open /proc/<pid>
	// files of this process while it holds host resources.
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	reset_signals();
	char err[256];
	char *buf = read_packet(&len);
	if (boot_parse(buf, len, &b, err, sizeof(err)) < 0)
		berth_step(STEP_BOOTSTRAP, 0, err, NULL);
	if (!b.keep_affinity)
		reset_affinity();
	struct cinit_plan *plan = NULL;
	if (b.cinit) {
		size_t plen;
		char *pbuf = read_packet(&plen);
		plan = cinit_parse(pbuf, plen);
	}
	berth_trace_point(POINT_STAGE0_BOOTSTRAP);

	// timens_offsets is written after the unshare of the time namespace,
	// but opened now: the write is allowed by the opener's capabilities,
	// and in a new user namespace this process is no longer the host's
	// root (a non-dumpable process's /proc/self files stay the host
	// root's), so opening it later fails with EPERM.
	if (b.oomscoreadj != NULL)
		write_oom_early(b.oomscoreadj);
	int timens_fd = -1;
	if (b.timens != NULL && (timens_fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC)) < 0)
		berth_step(STEP_OPEN, errno, "/proc/self/timens_offsets", NULL);
	open_host_sources(&b);
	join_namespaces(&b);
	if (b.clone_flags & CLONE_NEWUSER)
		map_user_namespace(&b);
	int rest = b.clone_flags & ~CLONE_NEWUSER;
	if (rest != 0 && unshare(rest) < 0) {
		int e = errno;
		char hex[16];
		snprintf(hex, sizeof(hex), "0x%x", rest);
		berth_step(STEP_UNSHARE, e, hex, NULL);
	}
	if (rest & CLONE_NEWNET)
		loopback_up();
	if (timens_fd >= 0) {
		ssize_t n = strlen(b.timens);
		if (write(timens_fd, b.timens, n) != n)
			berth_step(STEP_WRITE, errno, "/proc/self/timens_offsets", NULL);
		close(timens_fd);
	}
	berth_trace_point(POINT_STAGE0_NAMESPACES);

	// The C init must not write to the sync socket before the pid is
	// there: it waits for this gate to close, at this stage's exit.
	int gate[2] = { -1, -1 };
	if (plan != NULL && pipe2(gate, O_CLOEXEC) < 0)
		berth_step(STEP_PIPE, errno, NULL);
	// Fork the init into the pid and time namespaces (both take effect only
	// for children) as a sibling, so the berth parent is its parent.
	pid_t child = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (child < 0)
		berth_step(STEP_CLONE_INIT, errno, NULL);
	if (child == 0) {
		berth_trace_forget(); // stage 0's spans are stage 0's to send
		free(buf);
		// A session of its own, as runc's init and exec'd processes
		// have: the caller's terminal and job control stay the caller's.
		if (setsid() < 0)
			berth_step(STEP_SETSID, errno, NULL);
		if (plan == NULL)
			berth_step(STEP_BOOTSTRAP, 0, "no process plan", NULL); /* there is no Go init */
		char c;
		close(gate[1]);
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		close(gate[0]);
		cinit_run(plan);
		_exit(1); /* not reached: cinit_run execs the process or fails */
	}
	berth_trace_point(POINT_STAGE0_CLONED);
	report_pid(child);
}
