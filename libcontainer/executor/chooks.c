// OCI hooks run in C (chooks.h). A hook is run as config.md says and runc
// does: fork, execve(path, args, env) with exactly the hook's environment,
// the container's state (rendered by Go) on stdin, stdout and stderr
// captured for the error, in a process group of its own that is killed
// whole when the hook outlives its timeout. Failures read as the Go runner
// of earlier versions wrote them: "<name>: exit status 3: <output>",
// "<name>: signal: killed", "<name>: timed out after 2s",
// "<name>: fork/exec <path>: <errno text>".
//
// It runs in the C init (pid 1, or the process about to execve, possibly
// under its seccomp filter) and, through cgo, in the Go inits: nothing here
// may rely on signal handlers, and waiting uses a pidfd when the kernel (or
// the filter) allows one, else polls.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chooks.h"
#include "nsexec.h"
#include "wire.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// What a failed hook printed is kept up to here (the error shows 200).
#define OUT_KEEP 256
// How long output is read after the hook exited (Go's WaitDelay): a child
// it left behind may hold the pipe open for ever.
#define DRAIN_MS 1000

// Go's names of the Linux signals (syscall.Signal.String), so that a hook
// killed by a signal is reported as it was.
static const char *const signal_names[] = {
	[1] = "hangup", [2] = "interrupt", [3] = "quit", [4] = "illegal instruction",
	[5] = "trace/breakpoint trap", [6] = "aborted", [7] = "bus error",
	[8] = "floating point exception", [9] = "killed", [10] = "user defined signal 1",
	[11] = "segmentation fault", [12] = "user defined signal 2", [13] = "broken pipe",
	[14] = "alarm clock", [15] = "terminated", [16] = "stack fault", [17] = "child exited",
	[18] = "continued", [19] = "stopped (signal)", [20] = "stopped", [21] = "stopped (tty input)",
	[22] = "stopped (tty output)", [23] = "urgent I/O condition", [24] = "CPU time limit exceeded",
	[25] = "file size limit exceeded", [26] = "virtual timer expired",
	[27] = "profiling timer expired", [28] = "window changed", [29] = "I/O possible",
	[30] = "power failure", [31] = "bad system call",
};

void chooks_status_text(int status, char *out, size_t size)
{
	if (WIFEXITED(status)) {
		snprintf(out, size, "exit status %d", WEXITSTATUS(status));
		return;
	}
	int sig = WTERMSIG(status);
	const char *core = WCOREDUMP(status) ? " (core dumped)" : "";
	if (sig > 0 && sig < (int)(sizeof(signal_names) / sizeof(signal_names[0])))
		snprintf(out, size, "signal: %s%s", signal_names[sig], core);
	else
		snprintf(out, size, "signal: signal %d%s", sig, core);
}

// errno_text is strerror as Go spells it: lower case first letter.
static const char *errno_text(int e)
{
	static char text[128];
	snprintf(text, sizeof(text), "%s", strerror(e));
	if (text[0] >= 'A' && text[0] <= 'Z' && !(text[1] >= 'A' && text[1] <= 'Z'))
		text[0] += 'a' - 'A';
	return text;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void chooks_output_text(const char *out, size_t len, char *err, size_t size)
{
	while (len > 0 && is_space(out[0]))
		out++, len--;
	while (len > 0 && is_space(out[len - 1]))
		len--;
	if (len == 0)
		return;
	size_t l = strlen(err);
	if (len > 200)
		snprintf(err + l, size - l, ": %.200s...", out);
	else
		snprintf(err + l, size - l, ": %.*s", (int)len, out);
}

// count_recs counts the records of one hook, from the HOOK_HOOK at cur.
static void count_recs(char *cur, char *end, int *nargs, int *nenv)
{
	struct wire_rec r;
	*nargs = *nenv = 0;
	wire_next(&cur, end, &r);
	while (wire_next(&cur, end, &r) && r.tag != HOOK_HOOK) {
		*nargs += r.tag == HOOK_ARG;
		*nenv += r.tag == HOOK_ENV;
	}
}

// parse_one fills h from the records of one hook and returns where the
// next one starts.
static char *parse_one(struct chook *h, char *cur, char *end, char *const *penv)
{
	struct wire_rec r;
	int nargs, nenv, a = 0, e = 0;

	count_recs(cur, end, &nargs, &nenv);
	wire_next(&cur, end, &r);
	h->timeout = wire_u32(&r);
	h->flags = wire_u32(&r);
	h->path = wire_str(&r);
	h->name = wire_str(&r);
	h->argv = calloc(nargs + 2, sizeof(char *));
	h->envp = calloc(nenv + 1, sizeof(char *));
	h->own_env = 1;
	if (h->argv == NULL || h->envp == NULL)
		return NULL;
	for (char *next = cur; wire_next(&next, end, &r) && r.tag != HOOK_HOOK; cur = next) {
		if (r.tag == HOOK_ARG)
			h->argv[a++] = (char *)wire_str(&r);
		else
			h->envp[e++] = (char *)wire_str(&r);
	}
	if (a == 0)
		h->argv[0] = (char *)h->path; // config.md: args[0] is the path when args is empty
	if (e == 0 && (h->flags & HOOK_FLAG_PROCESS_ENV) && penv != NULL) {
		free(h->envp);
		h->envp = (char **)penv;
		h->own_env = 0;
	}
	return cur;
}

static uint32_t msg_first_tag(char *cur, char *end)
{
	struct wire_rec r;
	return wire_next(&cur, end, &r) ? r.tag : 0;
}

int chooks_parse(char *msg, size_t len, char *const *penv, struct chook **out, int *n, char *err,
		 size_t size)
{
	char *cur = msg, *end = msg + len;
	struct wire_rec r;
	int count = 0;

	*out = NULL;
	*n = 0;
	if (wire_check(&wire_hooks, msg, len, err, size) < 0)
		return -1;
	for (char *c = msg; wire_next(&c, end, &r);)
		count += r.tag == HOOK_HOOK;
	if (len > 0 && msg_first_tag(msg, end) != HOOK_HOOK) {
		snprintf(err, size, "hooks: record %u before the first hook", msg_first_tag(msg, end));
		return -1;
	}
	struct chook *h = calloc(count + 1, sizeof(*h));
	if (h == NULL)
		goto nomem;
	for (int i = 0; i < count; i++) {
		cur = parse_one(&h[i], cur, end, penv);
		*n = i + 1;
		if (cur == NULL)
			goto nomem;
	}
	*out = h;
	return 0;
nomem:
	chooks_free(h, *n);
	*n = 0;
	snprintf(err, size, "hooks: out of memory");
	return -1;
}

void chooks_free(struct chook *h, int n)
{
	if (h == NULL)
		return;
	for (int i = 0; i < n; i++) {
		free(h[i].argv);
		if (h[i].own_env)
			free(h[i].envp);
	}
	free(h);
}

// One hook being run: its pipes (stdin, output, exec error), pid, pidfd
// and the start of its output.
struct run {
	int in[2], out[2], ex[2];
	pid_t pid;
	int pidfd;
	char buf[OUT_KEEP];
	size_t n;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

// pipe_high makes a close-on-exec pipe whose ends are above stdio: a
// closed stdin must not make the state pipe fd 0, which the child's dup2
// onto 0 would leave close-on-exec.
static int pipe_high(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (p[i] > 2)
			continue;
		int fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
		close(p[i]);
		p[i] = fd;
		if (fd < 0)
			return -1;
	}
	return 0;
}

// child becomes the hook: default signal handling and an empty mask,
// a process group of its own (killed whole on timeout), the state on
// stdin, the output pipe on stdout and stderr, nothing else open. A
// failure before the execve goes back as its errno on the ex pipe.
static void __attribute__((noreturn)) child(struct chook *h, struct run *r, const char *cwd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int e;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	setpgid(0, 0);
	if (dup2(r->in[0], 0) < 0 || dup2(r->out[1], 1) < 0 || dup2(r->out[1], 2) < 0)
		goto fail;
	if (cwd != NULL && chdir(cwd) < 0)
		goto fail;
	// Everything above stdio goes at the execve: the C init's preserved
	// fds and anything a Go caller holds are none of the hook's.
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(h->path, h->argv, h->envp);
fail:
	e = errno;
	if (write(r->ex[1], &e, sizeof(e)) < 0) {
		/* the parent reports the exit status instead */
	}
	_exit(127);
}

// feed writes the state into the stdin pipe before the hook starts, so
// that a hook that never reads it cannot block us (and no SIGPIPE can
// reach a process that goes on to execve).
static int feed(struct run *r, const char *state, size_t slen, char *err, size_t size)
{
	if (slen > 65536 && fcntl(r->in[1], F_SETPIPE_SZ, (int)slen) < 0) {
		snprintf(err, size, "the state (%zu bytes) does not fit a pipe: %s", slen, strerror(errno));
		return -1;
	}
	for (size_t off = 0; off < slen;) {
		ssize_t w = write(r->in[1], state + off, slen - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, size, "write the state: %s", strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	close_fd(&r->in[1]);
	return 0;
}

static int start(struct chook *h, struct run *r, const char *cwd, const char *state, size_t slen,
		 char *err, size_t size)
{
	sigset_t all, old;

	if (pipe_high(r->in) < 0 || pipe_high(r->out) < 0 || pipe_high(r->ex) < 0) {
		snprintf(err, size, "pipe: %s", strerror(errno));
		return -1;
	}
	if (feed(r, state, slen, err, size) < 0)
		return -1;
	// No handler of ours (or of the Go runtime) may run in the child.
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	r->pid = fork();
	if (r->pid == 0)
		child(h, r, cwd);
	int e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r->pid < 0) {
		snprintf(err, size, "fork/exec %s: %s", h->path, errno_text(e));
		return -1;
	}
	close_fd(&r->in[0]);
	close_fd(&r->out[1]);
	close_fd(&r->ex[1]);
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	return 0;
}

// read_out takes what the hook printed, keeping the start; at EOF it
// closes the pipe.
static void read_out(struct run *r)
{
	char scratch[4096];
	size_t room = sizeof(r->buf) - r->n;
	ssize_t n = read(r->out[0], room > 0 ? r->buf + r->n : scratch, room > 0 ? room : sizeof(scratch));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_fd(&r->out[0]);
		return;
	}
	if (room > 0)
		r->n += (size_t)n;
}

// poll_once waits up to ms (-1: no limit) for output or the hook's exit,
// reads what came, and reports whether the hook has exited (reaped into
// *status).
static int poll_once(struct run *r, int ms, int *status)
{
	struct pollfd fds[2];
	int n = 0;

	if (r->out[0] >= 0)
		fds[n++] = (struct pollfd){ .fd = r->out[0], .events = POLLIN };
	if (r->pidfd >= 0)
		fds[n++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
	else if (ms < 0 || ms > 10)
		ms = 10; // no pidfd: look at the child every 10 ms
	if (poll(fds, n, ms) > 0 && r->out[0] >= 0 && fds[0].revents != 0)
		read_out(r);
	return waitpid(r->pid, status, WNOHANG) == r->pid;
}

// drain reads the output a hook left for at most DRAIN_MS after it exited.
static void drain(struct run *r)
{
	long long until = now_ms() + DRAIN_MS;
	while (r->out[0] >= 0) {
		long long left = until - now_ms();
		struct pollfd p = { .fd = r->out[0], .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			break;
		read_out(r);
	}
}

// wait_hook waits for the hook, killing its process group at the timeout:
// 0 when it exited by itself, 1 when it was killed for the timeout.
static int wait_hook(struct chook *h, struct run *r, int *status)
{
	long long deadline = now_ms() + (long long)h->timeout * 1000;

	for (;;) {
		int ms = -1;
		if (h->timeout > 0) {
			long long left = deadline - now_ms();
			if (left <= 0)
				break;
			ms = left > 1000000 ? 1000000 : (int)left;
		}
		if (poll_once(r, ms, status))
			return 0;
	}
	kill(-r->pid, SIGKILL);
	kill(r->pid, SIGKILL);
	while (waitpid(r->pid, status, 0) < 0 && errno == EINTR)
		;
	return 1;
}

static int run_one(struct chook *h, const char *cwd, const char *state, size_t slen, char *err, size_t size)
{
	struct run r = { { -1, -1 }, { -1, -1 }, { -1, -1 }, -1, -1, { 0 }, 0 };
	int status = 0, rc = -1, e = 0;

	int n = snprintf(err, size, "%s: ", h->name);
	char *why = err + n;
	size_t left = (size_t)n < size ? size - n : 0;
	if (start(h, &r, cwd, state, slen, why, left) < 0)
		goto out;
	if (wait_hook(h, &r, &status)) {
		snprintf(why, left, "timed out after %us", h->timeout);
		goto out;
	}
	if (read(r.ex[0], &e, sizeof(e)) == sizeof(e)) {
		snprintf(why, left, "fork/exec %s: %s", h->path, errno_text(e));
		goto out;
	}
	drain(&r);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		// Go's runner said so when a child of the hook kept its output
		// open past the WaitDelay: the hook's work may not be done.
		if (r.out[0] >= 0)
			snprintf(why, left, "exec: WaitDelay expired before I/O complete");
		else
			rc = 0;
		goto out;
	}
	chooks_status_text(status, why, left);
	chooks_output_text(r.buf, r.n, err, size);
out:
	close_fd(&r.in[0]), close_fd(&r.in[1]), close_fd(&r.out[0]), close_fd(&r.out[1]);
	close_fd(&r.ex[0]), close_fd(&r.ex[1]), close_fd(&r.pidfd);
	if (rc == 0)
		err[0] = '\0';
	return rc;
}

int chooks_run(char *msg, size_t len, const char *state, size_t slen, const char *cwd, char *const *penv,
	       char *err, size_t size)
{
	struct chook *h;
	int n, rc = 0;

	if (chooks_parse(msg, len, penv, &h, &n, err, size) < 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++)
		rc = run_one(&h[i], cwd, state, slen, err, size);
	chooks_free(h, n);
	return rc;
}

// The states of the hookstate packet, for the C init's hooks.
static char *state_creating, *state_created;
static size_t creating_len, created_len;

void chooks_recv_state(void)
{
	char err[128];
	struct wire_rec r;

	ssize_t n = recv(berth_syncfd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n <= 0)
		_exit(1); /* the parent gave up on us and reports why itself */
	char *buf = malloc((size_t)n + 1);
	if (buf == NULL)
		berth_step(STEP_HOOKS_MALLOC, errno, NULL);
	if (recv(berth_syncfd, buf, (size_t)n, 0) != n)
		_exit(1);
	if (wire_check(&wire_hookstate, buf, (size_t)n, err, sizeof(err)) < 0)
		berth_step(STEP_HOOK_STATE, 0, err, NULL);
	for (char *cur = buf; wire_next(&cur, buf + n, &r);) {
		if (r.tag == HS_CREATING)
			state_creating = r.d, creating_len = r.len;
		else
			state_created = r.d, created_len = r.len;
	}
}

void chooks_create(char *msg, size_t len, const char *root)
{
	char err[1024];
	if (chooks_run(msg, len, state_creating, creating_len, root, NULL, err, sizeof(err)) < 0)
		berth_step(STEP_HOOK_FAILED, 0, err, NULL);
}

void chooks_start(char *msg, size_t len, char *const *penv)
{
	char err[1024];
	if (chooks_run(msg, len, state_created, created_len, NULL, penv, err, sizeof(err)) < 0)
		berth_step(STEP_HOOK_FAILED, 0, err, NULL);
}
