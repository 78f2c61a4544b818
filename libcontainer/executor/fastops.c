// `berth start ID` and `berth delete [--force] ID` answered before the Go
// runtime starts, in their common, simple cases.
//
// On the development VM a Go process costs ~12 ms before main() runs, while
// the work of a plain start or delete is well under 2 ms (issue 7). As
// fastpath.c does for state and list, this constructor works from a current
// state.brief (fastpath.h, libcontainer/brief.go) and never parses JSON.
// Before it changes anything it checks that the command is plain: no flag
// but --root, --log, --log-format, --debug (and delete's --force), the container's
// lock free at once, the status created (start) or stopped (delete), and
// the brief saying Go would do nothing more (no poststart or poststop hook,
// no NOTIFY_SOCKET, no network, not the systemd driver: brief_ops.go). For
// anything else it returns and the Go code, the reference, does the whole
// command. Once started, it does what Go does (Container.openFifo;
// Container.Delete of a stopped container), with Go's error lines and exit
// codes. BERTH_NO_FASTPATH=1 turns it off.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fastpath.h"
#include "trace.h"

// FALLBACK is what an operation returns to hand the command to Go; 0 and 1
// are exit codes.
#define FALLBACK (-1)
#define OP_ARENA (BRIEF_MAX + (64UL << 10))

struct op {
	struct req q;
	int del;               // delete, else start
	int rootfd, dfd, logfd; // -1 when not open
	struct row r;
	struct arena a;
};

// parse_op accepts `[globals] start ID` and `[globals] delete [--force|-f] ID`.
static int parse_op(int argc, char **argv, struct op *o)
{
	int i = 1;
	if (fastpath_parse_globals(argc, argv, &i, &o->q) < 0 || i >= argc)
		return -1;
	if (strcmp(argv[i], "delete") == 0) {
		o->del = 1;
		if (i + 2 < argc && (strcmp(argv[i + 1], "--force") == 0 || strcmp(argv[i + 1], "-f") == 0))
			i++;
	} else if (strcmp(argv[i], "start") != 0) {
		return -1;
	}
	if (i + 2 != argc || !fastpath_valid_id(argv[i + 1]) || !fastpath_plain_root(o->q.root))
		return -1;
	o->q.id = argv[i + 1];
	return 0;
}

// lock_container opens the container's directory and takes its lock as
// stateStore.lock does, but without waiting: a lock held by another command
// is Go's to wait for, a directory removed meanwhile Go's to report.
static int lock_container(struct op *o)
{
	struct stat st;
	o->rootfd = open(o->q.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->rootfd < 0)
		return -1;
	o->dfd = openat(o->rootfd, o->q.id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (o->dfd < 0 || flock(o->dfd, LOCK_EX | LOCK_NB) < 0)
		return -1;
	return fstat(o->dfd, &st) == 0 && st.st_nlink > 0 ? 0 : -1;
}

static int flag_set(struct str f) { return f.n == 1 && f.p[0] == '1'; }

// eligible loads the brief under the lock, as LoadLocked loads state.json,
// and tells whether this command is one C does.
static int eligible(struct op *o)
{
	if (fastpath_load_row_at(o->dfd, o->q.id, &o->a, &o->r) < 0)
		return 0;
	if (o->del)
		return strcmp(o->r.status, "stopped") == 0 && flag_set(o->r.f[F_FASTDELETE]);
	return strcmp(o->r.status, "created") == 0 && flag_set(o->r.f[F_FASTSTART]);
}

// report is fastpath_report for this command, "start ID: ..." or
// "delete ID: ...". It returns the exit code, 1.
static int report(struct op *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int report(struct op *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int code = fastpath_vreport(&o->q, o->logfd, o->del ? "delete" : "start", fmt, ap);
	va_end(ap);
	return code;
}

static void nap_1ms(void)
{
	struct timespec ts = {0, 1000000};
	nanosleep(&ts, NULL);
}

// wait_exec is the loop of Container.openFifo: read the byte the init
// writes once its startContainer hooks ran, then wait for EOF, which comes
// at its execve (the fd is close-on-exec) or its death; a dead init ends
// the wait with Go's error.
static int wait_exec(struct op *o, int fd, unsigned long long pid)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int got_byte = 0;
	char c;
	for (;;) {
		int n = poll(&p, 1, 100);
		if (n < 0 && errno != EINTR)
			return report(o, "wait on exec.fifo: %s", fastpath_errno(errno));
		if (n > 0) {
			ssize_t r = read(fd, &c, 1);
			if (r == 1) {
				got_byte = 1;
				berth_trace_point(POINT_START_FIFO_BYTE);
				continue;
			}
			if (r == 0 && got_byte) {
				berth_trace_point(POINT_START_FIFO_CLOSED);
				if (unlinkat(o->dfd, "exec.fifo", 0) == 0)
					return 0;
				return report(o, "remove %s/%s/exec.fifo: %s", o->q.root, o->q.id, fastpath_errno(errno));
			}
			nap_1ms(); // EOF before the byte: no writer yet, or it died
		}
		if (!fastpath_init_alive(pid, o->r.f[F_START])) {
			unlinkat(o->dfd, "exec.fifo", 0);
			return report(o,
				      "container \"%s\": its process failed to start (a startContainer hook or the "
				      "exec failed; see the container's stderr)",
				      o->q.id);
		}
	}
}

// do_start is Container.Start of a created container that has neither
// poststart hooks nor NOTIFY_SOCKET: openFifo alone. A fifo that cannot be
// opened is Go's to report.
static int do_start(struct op *o)
{
	struct stat st;
	unsigned long long pid;
	int code = FALLBACK, fd = openat(o->dfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return FALLBACK;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && fastpath_parse_u64(o->r.f[F_PID], &pid) == 0) {
		berth_trace_point(POINT_START_FIFO_OPEN);
		code = wait_exec(o, fd, pid);
	}
	close(fd);
	if (code == 0) {
		// Go's execInit and Start pass these two; C runs no poststart hook.
		berth_trace_point(POINT_START_EXEC);
		berth_trace_point(POINT_START_POSTSTART);
	}
	return code;
}

// state_dir_plain reports whether the state directory holds nothing but
// what store.save and create put there for a container without network or
// NOTIFY_SOCKET; anything else (pins, a notify directory, a temp file left
// by a crash) is for Go's RemoveAll and teardown.
static int state_dir_plain(struct op *o)
{
	static const struct {
		const char *name;
		unsigned char type;
	} plain[] = {{"state.json", DT_REG}, {"state.brief", DT_REG}, {"exec.fifo", DT_FIFO}};
	int ok = 1, fd = openat(o->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (ok && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		ok = 0;
		for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
			if (strcmp(e->d_name, plain[i].name) == 0 && e->d_type == plain[i].type)
				ok = 1;
	}
	closedir(dir);
	return ok;
}

// next_dir copies the next line of the cgroups record into path; it
// returns 0 at the end and -1 for a line that does not fit.
static int next_dir(struct str *rest, char *path, size_t size)
{
	if (rest->n == 0)
		return 0;
	const char *nl = memchr(rest->p, '\n', rest->n);
	size_t len = nl != NULL ? (size_t)(nl - rest->p) : rest->n;
	if (len == 0 || len >= size)
		return -1;
	memcpy(path, rest->p, len);
	path[len] = '\0';
	rest->p += len + (nl != NULL);
	rest->n -= len + (nl != NULL);
	return 1;
}

// cgroup_idle reports whether Go's destroyCgroup would kill nothing in dir
// and its RemovePath be one rmdir: dir is gone, or it has no sub-cgroup
// (cgroupfs counts them in the link count: 2 means none) and no process.
static int cgroup_idle(const char *dir)
{
	char path[PATH_MAX + 16], c;
	struct stat st;
	ssize_t n;
	if (stat(dir, &st) < 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode) || st.st_nlink != 2)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == 0;
}

// remove_cgroups checks every cgroup directory, then removes them all. A
// failure hands the rest to Go: its delete removes what is left, and a
// directory already gone is no error to it.
static int remove_cgroups(struct str list)
{
	char path[PATH_MAX];
	struct str rest = list;
	int more;
	while ((more = next_dir(&rest, path, sizeof(path))) > 0)
		if (!cgroup_idle(path))
			return -1;
	if (more < 0)
		return -1;
	// The container is stopped: Go's destroy passes this point at once.
	berth_trace_point(POINT_DELETE_INIT_GONE);
	rest = list;
	while (next_dir(&rest, path, sizeof(path)) > 0) {
		int err;
		do
			err = rmdir(path);
		while (err < 0 && errno == EINTR);
		if (err < 0 && errno != ENOENT)
			return -1;
	}
	return 0;
}

// remove_state is stateStore.remove (os.RemoveAll) of a directory that
// state_dir_plain checked. state.json goes last: until then Go can still
// take over from what is left.
static int remove_state(struct op *o)
{
	static const char *const files[] = {"exec.fifo", "state.brief", "state.json"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (unlinkat(o->dfd, files[i], 0) < 0 && errno != ENOENT)
			return FALLBACK;
	if (unlinkat(o->rootfd, o->q.id, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	return report(o, "delete \"%s\": remove state: unlinkat %s/%s: %s", o->q.id, o->q.root, o->q.id,
		      fastpath_errno(errno));
}

// do_delete is Container.Delete of a stopped container whose brief says
// there is nothing to do but remove its cgroup directories and its state.
static int do_delete(struct op *o)
{
	if (!state_dir_plain(o) || remove_cgroups(o->r.f[F_CGROUPS]) < 0)
		return FALLBACK;
	berth_trace_point(POINT_DELETE_CGROUP);
	int code = remove_state(o);
	if (code == 0)
		berth_trace_point(POINT_DELETE_STATE_REMOVED);
	return code;
}

// done closes what the attempt opened (releasing the lock) before Go runs.
static void done(struct op *o)
{
	if (o->logfd >= 0)
		close(o->logfd);
	if (o->dfd >= 0)
		close(o->dfd);
	if (o->rootfd >= 0)
		close(o->rootfd);
	if (o->a.base != NULL)
		munmap(o->a.base, OP_ARENA);
}

__attribute__((constructor)) static void berth_fastops(int argc, char **argv)
{
	struct op o = {.rootfd = -1, .dfd = -1, .logfd = -1};
	int saved_errno = errno, code = FALLBACK;
	if (!fastpath_enabled() || argv == NULL || parse_op(argc, argv, &o) < 0)
		return;
	berth_trace_log(o.q.log, o.q.logjson, o.q.debug);
	o.a.base = mmap(NULL, OP_ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (o.a.base == MAP_FAILED) {
		o.a.base = NULL;
		return;
	}
	o.a.cap = OP_ARENA;
	if (lock_container(&o) == 0 && eligible(&o) && fastpath_open_log(o.q.log, &o.logfd) == 0)
		code = o.del ? do_delete(&o) : do_start(&o);
	if (code != FALLBACK)
		_exit(code);
	done(&o);
	errno = saved_errno;
}
