// Trace and crash points of the C code, the twin of Go's internal/trace
// (trace.h). Two ways out, as in Go:
//
//   - A command answered in C (fastpath.c, fastops.c, fastexec.c) never
//     starts Go, so it logs its points itself, as cmd/berth's slog
//     handlers would: "trace" lines at level debug with point, phase_ms and
//     total_ms, to stderr or the --log file, text or JSON (berth_trace_log).
//   - berth init (nsexec.c stage 0, the C init cinit.c and its rootfs
//     program crootfs.c) cannot log: its stderr is the container's. With
//     _BERTH_TRACE=1 (set by a parent that traces) it keeps its points and
//     hands them to the parent in a sync message (berth_trace_spans),
//     which logs them with a side, as the Go init's Collect/Report.
//
// BERTH_TEST_CRASH_AT=<name> SIGKILLs the process at the point of that
// name, whether Go or C passes it: the crash suite (tests/crash_test.go)
// kills every command at every point with the fast paths on.
//
// "total" counts from this file's constructor, which runs before the
// other constructors (priority 101): in berth init from stage 0's start,
// so that the C init's points continue the stage's clock.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

#ifndef TRACE_CTOR
#define TRACE_CTOR __attribute__((constructor(101)))
#endif

#define MAX_SPANS 64
#define LINE_MAX_ 1024

int berth_trace_active;

static struct {
	const char *crash_at; // BERTH_TEST_CRASH_AT, or NULL
	int env_trace;        // BERTH_TRACE=1
	int logging, json, fd;
	const char *log; // --log: opened at the first line
	int collect;     // berth init under a tracing parent
	long long start, last;
	struct span {
		const char *point;
		long long phase, total;
	} spans[MAX_SPANS];
	int nspans;
} tr = {.fd = -1};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int env_is(const char *name, const char *want)
{
	const char *v = getenv(name);
	return v != NULL && strcmp(v, want) == 0;
}

TRACE_CTOR static void berth_trace_init(void)
{
	const char *crash = getenv("BERTH_TEST_CRASH_AT"), *pipe = getenv("_BERTH_INITPIPE");
	tr.crash_at = crash != NULL && crash[0] != '\0' ? crash : NULL;
	tr.env_trace = env_is("BERTH_TRACE", "1");
	tr.collect = pipe != NULL && pipe[0] != '\0' && env_is("_BERTH_TRACE", "1");
	berth_trace_active = tr.crash_at != NULL || tr.collect;
	if (tr.env_trace || tr.collect)
		tr.start = tr.last = now_ns();
}

void berth_trace_log(const char *log, int json, int debug)
{
	if (!debug && !tr.env_trace)
		return;
	if (tr.start == 0)
		tr.start = tr.last = now_ns(); // --debug alone: from the flags' parse
	tr.logging = 1;
	tr.json = json;
	tr.log = log != NULL && log[0] != '\0' ? log : NULL;
	tr.fd = tr.log != NULL ? -1 : STDERR_FILENO;
	berth_trace_active = 1;
}

// crash is the test-only hook: SIGKILL, as an OOM kill or `kill -9`
// would, with no cleanup. A pid namespace's init ignores a signal from
// inside its namespace, even its own SIGKILL: it dies by _exit with the
// status a SIGKILL gives in a shell, which is as abrupt.
static void crash(void)
{
	kill(getpid(), SIGKILL);
	_exit(128 + SIGKILL);
}

// log_time is now as cmd/berth's handlers print it: slog's text handler to
// the millisecond ("2006-01-02T15:04:05.000Z07:00"), the JSON handler as
// RFC3339Nano (trailing zeros of the fraction dropped).
static size_t log_time(char *out, size_t size, int json)
{
	struct timespec ts;
	struct tm tm;
	char frac[16];
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	int f = 0;
	if (json) {
		f = snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
		while (f > 1 && frac[f - 1] == '0')
			f--;
		if (f == 1)
			f = 0;
	} else {
		f = snprintf(frac, sizeof(frac), ".%03ld", ts.tv_nsec / 1000000);
	}
	long off = tm.tm_gmtoff / 60;
	if (off == 0)
		n += (size_t)snprintf(out + n, size - n, "%.*sZ", f, frac);
	else
		n += (size_t)snprintf(out + n, size - n, "%.*s%c%02ld:%02ld", f, frac, off < 0 ? '-' : '+',
				      labs(off) / 60, labs(off) % 60);
	return n < size ? n : size - 1;
}

size_t berth_trace_format_ms(char *buf, size_t size, long long ns, int json)
{
	// trace.ms: rounded to the microsecond, then in milliseconds.
	unsigned long long us = ns < 0 ? 0 : ((unsigned long long)ns + 500) / 1000;
	char d[32];
	int nd = snprintf(d, sizeof(d), "%llu", us), dp = nd - 3; // digits before the point
	if (us == 0)
		return (size_t)snprintf(buf, size, "0");
	while (nd > 1 && d[nd - 1] == '0' && nd > (dp > 0 ? dp : 0))
		nd--; // the fraction's trailing zeros
	// strconv 'g' with the shortest precision switches to an exponent at
	// 1e21 for JSON's 'f' rule and at 1e6 for slog's 'g': only the latter
	// is in reach (1000 s).
	if (!json && dp - 1 >= 6) {
		while (nd > 1 && d[nd - 1] == '0')
			nd--;
		if (nd == 1)
			return (size_t)snprintf(buf, size, "%ce+%02d", d[0], dp - 1);
		return (size_t)snprintf(buf, size, "%c.%.*se+%02d", d[0], nd - 1, d + 1, dp - 1);
	}
	if (dp <= 0) // below 1 ms: 0.000123
		return (size_t)snprintf(buf, size, "0.%.*s%.*s", -dp, "000", nd, d);
	if (nd <= dp)
		return (size_t)snprintf(buf, size, "%.*s", dp, d);
	return (size_t)snprintf(buf, size, "%.*s.%.*s", dp, d, nd - dp, d + dp);
}

size_t berth_trace_format_line(char *buf, size_t size, int json, const char *point, long long phase_ns,
			       long long total_ns, const char *side)
{
	char t[64], phase[32], total[32];
	log_time(t, sizeof(t), json);
	berth_trace_format_ms(phase, sizeof(phase), phase_ns, json);
	berth_trace_format_ms(total, sizeof(total), total_ns, json);
	// Point and side names are the schema's: no character to quote.
	int n;
	if (json)
		n = snprintf(buf, size,
			     "{\"level\":\"debug\",\"msg\":\"trace\",\"time\":\"%s\",\"point\":\"%s\",\"phase_ms\":%s,"
			     "\"total_ms\":%s%s%s%s}\n",
			     t, point, phase, total, side ? ",\"side\":\"" : "", side ? side : "", side ? "\"" : "");
	else
		n = snprintf(buf, size, "time=%s level=debug msg=trace point=%s phase_ms=%s total_ms=%s%s%s\n", t, point,
			     phase, total, side ? " side=" : "", side ? side : "");
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

// emit writes one line in one write, as Go's handlers do on the O_APPEND
// log file. A failure is ignored, as Go ignores a failed log write.
static void emit(const char *point, long long phase, long long total, const char *side)
{
	char line[LINE_MAX_];
	if (tr.fd < 0 && tr.log != NULL)
		tr.fd = open(tr.log, O_WRONLY | O_CREAT | O_APPEND | O_SYNC | O_CLOEXEC, 0644);
	if (tr.fd < 0)
		return;
	size_t n = berth_trace_format_line(line, sizeof(line), tr.json, point, phase, total, side);
	if (write(tr.fd, line, n) < 0) {
		/* as Go: a log line that cannot be written is dropped */
	}
}

void berth_trace_hit(const char *name)
{
	if (tr.crash_at != NULL && strcmp(name, tr.crash_at) == 0)
		crash();
	if (!tr.logging && !tr.collect)
		return;
	long long now = now_ns(), phase = now - tr.last, total = now - tr.start;
	tr.last = now;
	if (tr.collect && tr.nspans < MAX_SPANS)
		tr.spans[tr.nspans++] = (struct span){name, phase, total};
	if (tr.logging)
		emit(name, phase, total, NULL);
}

void berth_trace_child_env(char **envp, int room)
{
	static char crash_env[4096];
	int n = 0;
	if (tr.logging && n < room - 1)
		envp[n++] = "_BERTH_TRACE=1";
	if (tr.crash_at != NULL && n < room - 1 &&
	    (size_t)snprintf(crash_env, sizeof(crash_env), "BERTH_TEST_CRASH_AT=%s", tr.crash_at) < sizeof(crash_env))
		envp[n++] = crash_env;
	envp[n] = NULL;
}

void berth_trace_report(const char *point, long long phase_ns, long long total_ns, const char *side)
{
	if (tr.logging)
		emit(point, phase_ns, total_ns, side);
}

size_t berth_trace_spans(char *buf, size_t size)
{
	size_t o = 0;
	int n;
	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (tr.nspans == 0)
		return 0;
	for (int i = 0; i < tr.nspans; i++) {
		n = snprintf(buf + o, size - o, "%c{\"point\":\"%s\",\"phase\":%lld,\"total\":%lld}", i ? ',' : '[',
			     tr.spans[i].point, tr.spans[i].phase, tr.spans[i].total);
		if (n < 0 || (size_t)n >= size - o)
			return buf[0] = '\0', 0;
		o += (size_t)n;
	}
	if (o + 2 > size)
		return buf[0] = '\0', 0;
	buf[o++] = ']';
	buf[o] = '\0';
	tr.nspans = 0;
	return o;
}

void berth_trace_forget(void) { tr.nspans = 0; }
