// The pre-Go half of `berth init`: see nsenter.go for why it exists.
//
// Bootstrap message (one SOCK_SEQPACKET packet from the parent): a sequence of
// NUL-terminated "key=value" entries (keys: wire.Boot in
// internal/wire/schema.go, BOOT_* in wire_gen.h):
//   join=<nstype>:<path>   join this namespace (in the order given; user first)
//   clone=<flags>          CLONE_NEW* flags of the namespaces to create
//   uidmap=<text>          /proc/<pid>/uid_map contents for a new user namespace
//   gidmap=<text>          /proc/<pid>/gid_map contents
//   setgroups=deny         write "deny" to /proc/<pid>/setgroups first
//   uidhelper=<path>       write uid_map by running this newuidmap with the
//                          map's numbers instead of writing it (rootless)
//   gidhelper=<path>       likewise gid_map with newgidmap
//   oomscoreadj=<n>        write /proc/self/oom_score_adj before anything else
//                          (rootless: later this process could not open it)
//   rootless=1             the caller is unprivileged: stay dumpable while the
//                          maps are written, so the writer may open them
//   timens=<text>          /proc/self/timens_offsets contents for a new time ns
//   cinit=1                a process plan packet follows: the container's
//                          process is set up in C (cinit.c), not by Go
//   hostsrc=<r>:<path>     a bind source to open from the host side (open_tree
//                          clone; r=1 with its submounts), in slot order
//   affinity=keep          keep the CPU affinity the parent set (an exec's
//                          execCPUAffinity.initial); else every CPU the
//                          cpuset allows
// Replies, as JSON packets: {"type":"pid","pid":N} or {"type":"error","msg":"..."}.
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

#include "nsexec.h"
#include "trace.h"
#include "wire_gen.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#define MAX_JOIN 16

int berth_syncfd = -1;
int berth_hostsrc[BERTH_MAX_HOSTSRC];
int berth_nhostsrc;

// report sends msg to the parent as a JSON error, with quotes, backslashes
// and control bytes escaped, or to stderr once the socket is closed; then exits.
static void report(const char *msg)
{
	char out[2304];
	size_t o = 0;

	if (berth_syncfd < 0) {
		fprintf(stderr, "berth init: %s\n", msg);
		_exit(1);
	}
	o += snprintf(out, sizeof(out), "{\"type\":\"error\",\"msg\":\"");
	for (const char *p = msg; *p && o < sizeof(out) - 8; p++) {
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		if (*p == '\n') {
			out[o++] = ' ';
		} else if ((unsigned char)*p < 0x20) {
			// JSON forbids raw control bytes in a string: Go would
			// refuse the whole message.
			o += snprintf(out + o, sizeof(out) - o, "\\u%04x", (unsigned char)*p);
		} else {
			out[o++] = *p;
		}
	}
	o += snprintf(out + o, sizeof(out) - o, "\"}");
	if (write(berth_syncfd, out, o) < 0) {
		/* nothing more we can do: the parent sees the socket close */
	}
	_exit(1);
}

// vfail formats the message and appends errno's text the way Go prints it
// (lower case first letter), so both init paths read alike.
static void vfail(int saved, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (saved != 0) {
		size_t l = strlen(msg);
		snprintf(msg + l, sizeof(msg) - l, ": %s", strerror(saved));
		if (msg[l + 2] >= 'A' && msg[l + 2] <= 'Z')
			msg[l + 2] += 'a' - 'A';
	}
	report(msg);
}

void berth_fail(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vfail(saved, fmt, ap);
	va_end(ap);
	_exit(1);
}

void berth_failx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(0, fmt, ap);
	va_end(ap);
	_exit(1);
}

#define fail berth_fail

struct join {
	int flag;
	char *path;
	int fd;
};

struct bootstrap {
	struct join joins[MAX_JOIN];
	int njoin;
	int clone_flags;
	char *uidmap, *gidmap, *timens;
	char *uidhelper, *gidhelper;
	int setgroups_deny;
	int rootless;
	char *oomscoreadj;
	int cinit;
	int keep_affinity;
	char *hostsrc[BERTH_MAX_HOSTSRC];
	int hostsrc_rec[BERTH_MAX_HOSTSRC];
	int nhostsrc;
};

static int ns_flag(const char *name)
{
	static const struct { const char *name; int flag; } table[] = {
		{ "user", CLONE_NEWUSER }, { "pid", CLONE_NEWPID },
		{ "mount", CLONE_NEWNS }, { "network", CLONE_NEWNET },
		{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
		{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].flag;
	return 0;
}

static void parse(char *buf, size_t len, struct bootstrap *b)
{
	char *p = buf, *end = buf + len;

	while (p < end) {
		char *entry = p;
		size_t l = strnlen(p, end - p);
		p += l + 1;
		char *val = strchr(entry, '=');
		if (val == NULL)
			continue;
		*val++ = '\0';
		if (strcmp(entry, BOOT_JOIN) == 0) {
			char *path = strchr(val, ':');
			if (path == NULL || b->njoin == MAX_JOIN)
				berth_failx("bootstrap: bad join entry");
			*path++ = '\0';
			int flag = ns_flag(val);
			if (flag == 0)
				berth_failx("bootstrap: unknown namespace %s", val);
			b->joins[b->njoin++] = (struct join){ flag, path, -1 };
		} else if (strcmp(entry, BOOT_CLONE) == 0) {
			b->clone_flags = atoi(val);
		} else if (strcmp(entry, BOOT_UIDMAP) == 0) {
			b->uidmap = val;
		} else if (strcmp(entry, BOOT_GIDMAP) == 0) {
			b->gidmap = val;
		} else if (strcmp(entry, BOOT_TIMENS) == 0) {
			b->timens = val;
		} else if (strcmp(entry, BOOT_CINIT) == 0) {
			b->cinit = strcmp(val, "1") == 0;
		} else if (strcmp(entry, BOOT_HOSTSRC) == 0) {
			if (b->nhostsrc == BERTH_MAX_HOSTSRC || (val[0] != '0' && val[0] != '1') || val[1] != ':')
				berth_failx("bootstrap: bad hostsrc entry");
			b->hostsrc_rec[b->nhostsrc] = val[0] == '1';
			b->hostsrc[b->nhostsrc++] = val + 2;
		} else if (strcmp(entry, BOOT_AFFINITY) == 0) {
			b->keep_affinity = strcmp(val, "keep") == 0;
		} else if (strcmp(entry, BOOT_SETGROUPS) == 0) {
			b->setgroups_deny = strcmp(val, "deny") == 0;
		} else if (strcmp(entry, BOOT_UIDHELPER) == 0) {
			b->uidhelper = val;
		} else if (strcmp(entry, BOOT_GIDHELPER) == 0) {
			b->gidhelper = val;
		} else if (strcmp(entry, BOOT_OOMSCOREADJ) == 0) {
			b->oomscoreadj = val;
		} else if (strcmp(entry, BOOT_ROOTLESS) == 0) {
			b->rootless = strcmp(val, "1") == 0;
		}
	}
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open %s", path);
	size_t len = strlen(data);
	if (write(fd, data, len) != (ssize_t)len)
		fail("write %s", path);
	close(fd);
}

// write_oom_early sets a rootless container's oom_score_adj in stage 0,
// which the init inherits. /proc/self of a non-dumpable process is root's,
// which an unprivileged caller is not: dumpable for the one write.
static void write_oom_early(const char *val)
{
	char what[64];
	snprintf(what, sizeof(what), "process.oomScoreAdj %s: write /proc/self/oom_score_adj", val);
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		fail("prctl PR_SET_DUMPABLE");
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		fail("%s", what);
	close(fd);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("prctl PR_SET_DUMPABLE");
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
			fail("open namespace %s", b->joins[i].path);
	}
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < b->njoin; i++) {
			struct join *j = &b->joins[i];
			if (j->fd < 0 || (pass == 1) != (j->flag == CLONE_NEWUSER))
				continue;
			if (setns(j->fd, j->flag) < 0) {
				if (pass == 0 && errno == EPERM)
					continue; /* after the user namespace */
				fail("setns %s", j->path);
			}
			close(j->fd);
			j->fd = -1;
			if (j->flag == CLONE_NEWUSER && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
				fail("become root in user namespace %s", j->path);
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
			fail("open bind source \"%s\" from the host", b->hostsrc[i]);
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
		fail("malloc");
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	argv[n++] = (char *)helper;
	argv[n++] = pidstr;
	for (char *t = strtok_r(copy, " \n", &save); t != NULL; t = strtok_r(NULL, " \n", &save)) {
		if (n + 2 > cap && (argv = realloc(argv, (cap *= 2) * sizeof(char *))) == NULL)
			fail("malloc");
		argv[n++] = t;
	}
	argv[n] = NULL;
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		fail("pipe");
	pid_t child = fork();
	if (child < 0)
		fail("fork %s", helper);
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
			fail("wait for %s", helper);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		berth_failx("%s: %s", helper, got > 0 ? msg : "failed");
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
		fail("pipe");
	pid_t self = getpid();
	pid_t helper = fork();
	if (helper < 0)
		fail("fork id-map helper");
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
		fail("prctl PR_SET_DUMPABLE");
	if (unshare(CLONE_NEWUSER) < 0)
		fail("unshare user namespace");
	if (write(p[1], "1", 1) != 1)
		fail("signal id-map helper");
	close(p[1]);
	int status;
	if (waitpid(helper, &status, 0) < 0)
		fail("wait for id-map helper");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		_exit(1); /* the helper already reported why */
	if (b->rootless && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("prctl PR_SET_DUMPABLE");
	// Become root of the new namespace so the Go init can set its ids.
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		fail("become root in the user namespace");
}

// loopback_up brings lo of a new network namespace up, as runc does: one
// ioctl here instead of a netlink round trip into the namespace from Go.
static void loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("network: socket for lo");
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		fail("network: find lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		fail("network: bring lo up");
	close(fd);
}

static char *read_packet(size_t *len)
{
	ssize_t n = recv(berth_syncfd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n < 0)
		fail("read bootstrap");
	if (n == 0)
		_exit(1); /* parent went away before sending anything */
	char *buf = malloc(n + 1);
	if (buf == NULL)
		fail("malloc");
	if (recv(berth_syncfd, buf, n, 0) != n)
		fail("read bootstrap");
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
	memset(&b, 0, sizeof(b));
	char *buf = read_packet(&len);
	parse(buf, len, &b);
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
		fail("open /proc/self/timens_offsets");
	open_host_sources(&b);
	join_namespaces(&b);
	if (b.clone_flags & CLONE_NEWUSER)
		map_user_namespace(&b);
	int rest = b.clone_flags & ~CLONE_NEWUSER;
	if (rest != 0 && unshare(rest) < 0)
		fail("unshare namespaces 0x%x", rest);
	if (rest & CLONE_NEWNET)
		loopback_up();
	if (timens_fd >= 0) {
		ssize_t n = strlen(b.timens);
		if (write(timens_fd, b.timens, n) != n)
			fail("write /proc/self/timens_offsets");
		close(timens_fd);
	}
	berth_trace_point(POINT_STAGE0_NAMESPACES);

	// The C init must not write to the sync socket before the pid is
	// there: it waits for this gate to close, at this stage's exit.
	int gate[2] = { -1, -1 };
	if (plan != NULL && pipe2(gate, O_CLOEXEC) < 0)
		fail("pipe");
	// Fork the init into the pid and time namespaces (both take effect only
	// for children) as a sibling, so the berth parent is its parent.
	pid_t child = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (child < 0)
		fail("clone init");
	if (child == 0) {
		berth_trace_forget(); // stage 0's spans are stage 0's to send
		free(buf);
		// A session of its own, as runc's init and exec'd processes
		// have: the caller's terminal and job control stay the caller's.
		if (setsid() < 0)
			fail("setsid");
		if (plan == NULL)
			return; /* into the Go runtime, as the container's init */
		char c;
		close(gate[1]);
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		close(gate[0]);
		cinit_run(plan);
		return; /* the rootfs helper, into the Go runtime */
	}
	berth_trace_point(POINT_STAGE0_CLONED);
	// The Go builders find the host's bind sources by these fd numbers,
	// which the clone shares. A tracing parent gets this stage's spans.
	char spans[1024], msg[64 + 12 * BERTH_MAX_HOSTSRC + sizeof(spans)];
	int n = snprintf(msg, sizeof(msg), "{\"type\":\"pid\",\"pid\":%d,\"hostsrc\":[", child);
	for (int i = 0; i < berth_nhostsrc; i++)
		n += snprintf(msg + n, sizeof(msg) - n, "%s%d", i ? "," : "", berth_hostsrc[i]);
	if (berth_trace_spans(spans, sizeof(spans)) > 0)
		n += snprintf(msg + n, sizeof(msg) - n, "],\"trace\":%s}", spans);
	else
		n += snprintf(msg + n, sizeof(msg) - n, "]}");
	if (write(berth_syncfd, msg, n) != n)
		fail("report init pid");
	_exit(0);
}
