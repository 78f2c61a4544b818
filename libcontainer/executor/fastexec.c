// `berth exec [-d] ID COMMAND [ARG...]` run before the Go runtime starts.
//
// On the development VM a Go process costs ~12 ms before main() runs, about
// half of a whole `exec` (issue 7). A plain exec runs the container's own
// process settings with another command (execProcess in cmd/berth/exec.go),
// so Go resolves all of it when it saves the state: state.brief's "execboot"
// (the bootstrap message that joins the init's namespaces) and "execplan"
// (the C init's plan without argv; libcontainer/brief_exec.go). This
// constructor plays the Go parent of Container.Exec around them: it seals
// berth as Go does (libcontainer/seal), starts `berth init` from the sealed
// handle with the sync socket, places it in the container's cgroups, sends
// the bootstrap and the plan with the command appended, reads the pid,
// "ready" and the close at the execve, then forwards signals and waits as
// waitExec does, exiting with the process's status.
//
// It takes only the plain form: no flag but -d/--detach (and the global
// --root, --log, --log-format, --debug), a running or created container whose brief
// is current and has both records, a command that is printable ASCII (it
// appears in error messages). Anything else returns to Go, the reference,
// before anything was changed; once the init is started, errors are
// reported as Go reports them. BERTH_NO_FASTPATH=1 or BERTH_NO_CINIT=1
// turns it off.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "failrec.h"
#include "fastpath.h"
#include "syncmsg.h"
#include "trace.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define FALLBACK (-1)
// EXEC_FAILED is exec's status when berth, not the process, failed: 255,
// as runc's exec, so that it cannot be mistaken for the process's own
// exit status 1 (execFailed in cmd/berth/exec.go).
#define EXEC_FAILED 255
#define XARENA (BRIEF_MAX + (128UL << 10))
#define ARGS_MAX (64UL << 10)
#define SYNC_FD 3 // _BERTH_INITPIPE of the init, as initCmd passes it

struct xop {
	struct req q;
	int detach;
	char **args;
	int nargs;
	int rootfd, dfd, logfd, sealfd, sock;
	pid_t pid; // the exec'd process, once known
	struct row r;
	struct arena a;
	sigset_t oldmask;
};

// report prints an error as cmd/berth's exec does; it returns 1.
static int report(struct xop *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int report(struct xop *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fastpath_vreport(&o->q, o->logfd, "exec", fmt, ap);
	va_end(ap);
	return EXEC_FAILED;
}

static int printable(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

// parse_exec accepts `[globals] exec [-d|--detach] ID COMMAND [ARG...]`.
// As Go's flag parsing, everything after the id is the command.
static int parse_exec(int argc, char **argv, struct xop *o)
{
	int i = 1;
	size_t total = 0;
	if (fastpath_parse_globals(argc, argv, &i, &o->q) < 0 || i >= argc || strcmp(argv[i], "exec") != 0)
		return -1;
	for (i++; i < argc && argv[i][0] == '-'; i++) {
		if (o->detach || (strcmp(argv[i], "-d") != 0 && strcmp(argv[i], "--detach") != 0))
			return -1;
		o->detach = 1;
	}
	if (i + 2 > argc || !fastpath_valid_id(argv[i]) || !fastpath_plain_root(o->q.root) || !printable(argv[i + 1]))
		return -1;
	o->q.id = argv[i];
	o->args = argv + i + 1;
	o->nargs = argc - i - 1;
	for (int k = 0; k < o->nargs; k++)
		total += strlen(o->args[k]) + 9;
	return total <= ARGS_MAX ? 0 : -1;
}

// eligible loads the brief (no lock: Go's exec takes none either) and tells
// whether Go would do nothing here but what the records describe.
static int eligible(struct xop *o)
{
	o->rootfd = open(o->q.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->rootfd < 0)
		return 0;
	o->dfd = openat(o->rootfd, o->q.id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (o->dfd < 0 || fastpath_load_row_at(o->dfd, o->q.id, &o->a, &o->r) < 0)
		return 0;
	if (strcmp(o->r.status, "running") != 0 && strcmp(o->r.status, "created") != 0)
		return 0;
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0) // a closed stdio fd would be reused below
			return 0;
	return o->r.f[F_EXECBOOT].n > 0 && o->r.f[F_EXECPLAN].n > 0 && o->r.f[F_CGROUPS].n > 0;
}

// detached_mount is seal.detachedMount: a read-only, nodev, nosuid mount in
// no mount table.
static int detached_mount(const char *type, const char *lowerdir)
{
	int mnt = -1, fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	if ((lowerdir == NULL || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", lowerdir, 0) == 0) &&
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
				   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	close(fs);
	return mnt;
}

// seal_self is seal.Overlay("/proc/self/exe"): berth's own binary through a
// detached, lower-only overlay of its directory, checked to be the very
// file this process runs. Where that cannot be made, Go (with its memfd
// fallback) does the exec.
static int seal_self(void)
{
	char path[PATH_MAX], lower[2 * PATH_MAX + 32];
	struct stat want, got;
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0 || stat("/proc/self/exe", &want) < 0)
		return -1;
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	if (path[0] != '/' || slash == NULL || slash[1] == '\0')
		return -1;
	*slash = '\0';
	size_t o = 0;
	// ':' separates the layers and '\' escapes: escapeLower in seal.go.
	for (const char *p = slash == path ? "/" : path; *p != '\0' && o < sizeof(lower) - 32; p++) {
		if (*p == ':' || *p == '\\')
			lower[o++] = '\\';
		lower[o++] = *p;
	}
	int empty = detached_mount("tmpfs", NULL);
	if (empty < 0)
		return -1;
	snprintf(lower + o, sizeof(lower) - o, ":/proc/self/fd/%d", empty);
	int mnt = detached_mount("overlay", lower);
	close(empty);
	if (mnt < 0)
		return -1;
	int fd = openat(mnt, slash + 1, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(mnt);
	if (fd >= 0 && (fstat(fd, &got) < 0 || got.st_ino != want.st_ino || got.st_size != want.st_size ||
			got.st_mtim.tv_sec != want.st_mtim.tv_sec || got.st_mtim.tv_nsec != want.st_mtim.tv_nsec)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

// build_plan is the brief's plan with the command's argv records appended
// (the C init reads records in any order).
static int build_plan(struct xop *o, struct str *plan)
{
	struct str tpl = o->r.f[F_EXECPLAN];
	char *p = fastpath_arena_alloc(&o->a, tpl.n + ARGS_MAX);
	if (p == NULL)
		return -1;
	memcpy(p, tpl.p, tpl.n);
	size_t n = tpl.n;
	for (int k = 0; k < o->nargs; k++) {
		uint32_t hdr[2] = {PLAN_ARG, (uint32_t)strlen(o->args[k]) + 1};
		memcpy(p + n, hdr, sizeof(hdr));
		memcpy(p + n + sizeof(hdr), o->args[k], hdr[1]);
		n += sizeof(hdr) + hdr[1];
	}
	*plan = (struct str){p, n};
	return 0;
}

// exec_init is the child's side of spawn: `berth init` from the sealed
// handle with the sync socket as fd 3 and nothing else in its environment,
// with the default signal handling a Go parent's children get.
static void exec_init(struct xop *o, int child_end, int errfd)
{
	char *const argv[] = {"/proc/self/exe", "init", NULL};
	char *envp[4] = {"_BERTH_INITPIPE=3", NULL};
	berth_trace_child_env(envp + 1, 3); // a traced or crash-tested exec passes it on
	struct sigaction dfl = {.sa_handler = SIG_DFL}, cur;
	for (int sig = 1; sig < NSIG; sig++) {
		// Go keeps SIGHUP and SIGINT ignored when they were at its start.
		if ((sig == SIGHUP || sig == SIGINT) && sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == SIG_IGN)
			continue;
		sigaction(sig, &dfl, NULL);
	}
	int seal = fcntl(o->sealfd, F_DUPFD_CLOEXEC, 10), err = fcntl(errfd, F_DUPFD_CLOEXEC, 10);
	// dup2 onto itself would leave the close-on-exec flag set.
	int sync_ok = child_end == SYNC_FD ? fcntl(SYNC_FD, F_SETFD, 0) == 0 : dup2(child_end, SYNC_FD) == SYNC_FD;
	// Nothing the caller left open may reach the init, which joins the
	// container's namespaces (CVE-2024-21626's class): only stdio and the
	// sync socket go on; seal and err are close-on-exec already.
	int fds_ok = syscall(SYS_close_range, SYNC_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) == 0;
	if (seal >= 0 && err >= 0 && sync_ok && fds_ok) {
		sigprocmask(SIG_SETMASK, &o->oldmask, NULL);
		syscall(SYS_execveat, seal, "", argv, envp, AT_EMPTY_PATH);
	}
	int e = errno;
	if (write(err >= 0 ? err : errfd, &e, sizeof(e)) < 0) {
		/* the parent then sees the socket close */
	}
	_exit(127);
}

// spawn starts the init and returns its pid, or 0 after reporting why not.
static pid_t spawn(struct xop *o)
{
	int sv[2], ep[2], e;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		report(o, "sync socketpair: %s", fastpath_errno(errno));
		return 0;
	}
	if (pipe2(ep, O_CLOEXEC) < 0) {
		report(o, "start exec: pipe: %s", fastpath_errno(errno));
		return 0;
	}
	pid_t child = fork();
	if (child == 0)
		exec_init(o, sv[1], ep[1]);
	e = errno;
	close(sv[1]);
	close(ep[1]);
	close(o->sealfd);
	o->sealfd = -1;
	o->sock = sv[0];
	if (child < 0) {
		close(ep[0]);
		report(o, "start exec: fork/exec /proc/self/exe: %s", fastpath_errno(e));
		return 0;
	}
	ssize_t n;
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(child, NULL, 0);
		report(o, "start exec: fork/exec /proc/self/exe: %s", fastpath_errno(e));
		return 0;
	}
	return child;
}

// place_in_cgroups is Manager.AddPid: pid into cgroup.procs of every
// directory of the cgroups record, retrying a task not yet attachable.
static int place_in_cgroups(struct xop *o, pid_t pid)
{
	struct str rest = o->r.f[F_CGROUPS];
	char path[PATH_MAX], num[24];
	int n = snprintf(num, sizeof(num), "%d", pid);
	while (rest.n > 0) {
		const char *nl = memchr(rest.p, '\n', rest.n);
		size_t len = nl != NULL ? (size_t)(nl - rest.p) : rest.n;
		if (len + sizeof("/cgroup.procs") > sizeof(path))
			return report(o, "cgroup: place pid %d: path too long", pid);
		snprintf(path, sizeof(path), "%.*s/cgroup.procs", (int)len, rest.p);
		rest.p += len + (nl != NULL);
		rest.n -= len + (nl != NULL);
		int fd = open(path, O_WRONLY | O_CLOEXEC), ok = 0;
		for (int try = 0; fd >= 0 && try < 5 && !ok; try++) {
			ok = write(fd, num, n) == n;
			if (!ok && errno != EINVAL)
				break;
			if (!ok)
				nanosleep(&(struct timespec){0, 30000000}, NULL);
		}
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (!ok)
			return report(o, "cgroup: place pid %d: failed to write %d: %s: %s", pid, pid, path,
				      fastpath_errno(e));
	}
	return 0;
}

// recv_msg reads one sync message into buf (NUL-terminated); 0 is the
// peer's close.
static ssize_t recv_msg(struct xop *o, char *buf, size_t size)
{
	ssize_t n;
	do
		n = recv(o->sock, buf, size - 1, 0);
	while (n < 0 && errno == EINTR);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

// error_text is the text of an init's error record (nsexec.c's report(),
// rendered by failrec.c as the Go parent renders it) or of an
// {"type":"error","msg":"..."} packet, into m; NULL for any other packet.
static const char *error_text(const char *buf, ssize_t n, struct sync_msg *m)
{
	if (n > 0 && fail_is_record(buf, (size_t)n)) {
		if (fail_render(buf, (size_t)n, m->msg, sizeof(m->msg)) < 0)
			return NULL;
		snprintf(m->type, sizeof(m->type), "%s", SYNC_ERROR);
		return m->msg;
	}
	if (n <= 0 || sync_parse(buf, (size_t)n, m) < 0 || strcmp(m->type, SYNC_ERROR) != 0)
		return NULL;
	return m->msg;
}

// report_span logs a span of berth init's with its side, as Go's
// trace.Report does with what bootstrap() and expectReady receive.
static void report_span(const struct sync_span *s, void *side)
{
	berth_trace_report(s->point, s->phase, s->total, side);
}

// kill_process is what Exec does when the process got a pid but failed.
static void kill_process(struct xop *o)
{
	if (o->pid > 0) {
		kill(o->pid, SIGKILL);
		waitpid(o->pid, NULL, 0);
	}
}

// bootstrap is libcontainer's bootstrap(): send the records, read the pid,
// reap the nsenter stage. 0, or the exit code after reporting.
static int bootstrap(struct xop *o, pid_t stage0, struct str plan)
{
	struct str boot = o->r.f[F_EXECBOOT];
	char buf[FAIL_MAX_PACKET + 1];
	int status = 0;
	if (send(o->sock, boot.p, boot.n, MSG_NOSIGNAL) != (ssize_t)boot.n ||
	    send(o->sock, plan.p, plan.n, MSG_NOSIGNAL) != (ssize_t)plan.n) {
		int e = errno;
		kill(stage0, SIGKILL);
		waitpid(stage0, NULL, 0);
		return report(o, "exec: send bootstrap: write sync-parent: %s", fastpath_errno(e));
	}
	ssize_t n = recv_msg(o, buf, sizeof(buf));
	while (waitpid(stage0, &status, 0) < 0 && errno == EINTR)
		;
	struct sync_msg m;
	const char *msg = error_text(buf, n, &m);
	if (msg != NULL)
		return report(o, "exec: namespaces: %s", msg);
	if (n > 0 && strcmp(m.type, SYNC_PID) == 0 && m.has_pid && m.pid > 0 && m.pid <= INT32_MAX) {
		o->pid = (pid_t)m.pid;
		sync_spans(buf, (size_t)n, report_span, "stage0");
		return 0;
	}
	if (n == 0 && WIFEXITED(status))
		return report(o, "exec: namespaces: init exited early: exit status %d", WEXITSTATUS(status));
	if (n == 0 && WIFSIGNALED(status))
		return report(o, "exec: namespaces: init exited early: signal: %s",
			      fail_signal_text((uint32_t)WTERMSIG(status), (char[24]){ 0 }));
	return report(o, "exec: namespaces: bad sync message: %s", buf);
}

// await_exec is enterExec after the bootstrap: "ready", then the socket's
// close at the execve (it is close-on-exec) or the error that stopped it.
static int await_exec(struct xop *o)
{
	char buf[FAIL_MAX_PACKET + 1];
	const char *msg;
	struct sync_msg m;
	ssize_t n = recv_msg(o, buf, sizeof(buf));
	if (n <= 0 || sync_parse(buf, (size_t)n, &m) < 0 || strcmp(m.type, SYNC_READY) != 0) {
		kill_process(o);
		if ((msg = error_text(buf, n, &m)) != NULL)
			return report(o, "exec: %s", msg);
		return report(o, n == 0 ? "exec: the other side closed the sync socket" : "exec: sync: got %s, want \"ready\"",
			      buf);
	}
	sync_spans(buf, (size_t)n, report_span, "init");
	berth_trace_point(POINT_EXEC_READY);
	n = recv_msg(o, buf, sizeof(buf));
	if (n == 0) {
		berth_trace_point(POINT_EXEC_EXEC);
		return 0;
	}
	kill_process(o);
	if ((msg = error_text(buf, n, &m)) != NULL)
		return report(o, "%s", msg);
	return report(o, "exec: unexpected sync message %s", buf);
}

// wait_process is waitExec: forward every signal but SIGCHLD, SIGURG and
// SIGPIPE to the process, reap orphans on the way (we are their subreaper),
// and return the process's exit code, 128+N when killed by signal N.
static int wait_process(struct xop *o)
{
	sigset_t all;
	sigfillset(&all);
	for (;;) {
		int status;
		pid_t got;
		while ((got = waitpid(-1, &status, WNOHANG)) > 0) {
			if (got != o->pid)
				continue;
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		}
		if (got < 0 && errno != EINTR) // reapUntil's error: never wait on nothing
			return report(o, "wait for exec'd process: wait for pid %d: %s", o->pid, fastpath_errno(errno));
		int sig = sigwaitinfo(&all, NULL);
		if (sig > 0 && sig != SIGCHLD && sig != SIGURG && sig != SIGPIPE)
			kill(o->pid, sig);
	}
}

// run_exec does the exec once eligible; signals wait blocked from here on,
// to be forwarded once the process runs, as Go catches them from the start.
static int run_exec(struct xop *o)
{
	sigset_t all;
	struct str plan;
	if (build_plan(o, &plan) < 0)
		return FALLBACK;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &o->oldmask);
	// An ignored SIGCHLD inherited from the caller would have the kernel
	// reap our children unseen: no exit status to return, and the wait
	// below would never end. (Go's signal.Notify undoes it the same way.)
	sigaction(SIGCHLD, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
	if (!o->detach && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return report(o, "set child subreaper: %s", fastpath_errno(errno));
	pid_t stage0 = spawn(o);
	if (stage0 == 0)
		return EXEC_FAILED;
	berth_trace_point(POINT_EXEC_STARTED);
	if (place_in_cgroups(o, stage0) != 0) {
		kill(stage0, SIGKILL);
		waitpid(stage0, NULL, 0);
		return EXEC_FAILED;
	}
	berth_trace_point(POINT_EXEC_CGROUP);
	if (bootstrap(o, stage0, plan) != 0)
		return EXEC_FAILED;
	berth_trace_point(POINT_EXEC_NAMESPACES);
	if (await_exec(o) != 0)
		return EXEC_FAILED;
	return o->detach ? 0 : wait_process(o);
}

__attribute__((constructor)) static void berth_fastexec(int argc, char **argv)
{
	struct xop o = {.rootfd = -1, .dfd = -1, .logfd = -1, .sealfd = -1, .sock = -1};
	int saved_errno = errno, code = FALLBACK;
	const char *nocinit = getenv("BERTH_NO_CINIT");
	if (!fastpath_enabled() || argv == NULL || (nocinit != NULL && strcmp(nocinit, "1") == 0) ||
	    parse_exec(argc, argv, &o) < 0)
		return;
	o.a.base = mmap(NULL, XARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (o.a.base == MAP_FAILED)
		return;
	o.a.cap = XARENA;
	berth_trace_log(o.q.log, o.q.logjson, o.q.debug);
	if (eligible(&o) && (o.sealfd = seal_self()) >= 0 && fastpath_open_log(o.q.log, &o.logfd) == 0) {
		// Go passes these as it loads, checks and seals; C knows it will
		// do the exec only once all three are done.
		berth_trace_point(POINT_EXEC_LOADED);
		berth_trace_point(POINT_EXEC_STATUS);
		berth_trace_point(POINT_EXEC_SEALED);
		code = run_exec(&o);
	}
	if (code != FALLBACK)
		_exit(code);
	if (o.sealfd >= 0)
		close(o.sealfd);
	if (o.logfd >= 0)
		close(o.logfd);
	if (o.dfd >= 0)
		close(o.dfd);
	if (o.rootfd >= 0)
		close(o.rootfd);
	munmap(o.a.base, XARENA);
	errno = saved_errno;
}
