// Error output of the commands answered in C (fastops.c, fastexec.c), as
// cmd/berth prints it: "berth: CMD ID: ..." on stderr and, with --log, one
// line in the log file in the --log-format Go's slog handlers write.
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "failrec.h"
#include "fastpath.h"

#define ROOT_MAX 2048
#define MSG_MAX 8192

// buf is a bounded string builder; what does not fit is cut off.
struct buf {
	char *p;
	size_t n, cap;
};

static void bput(struct buf *b, const char *s, size_t n)
{
	if (n > b->cap - b->n)
		n = b->cap - b->n;
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void bputs(struct buf *b, const char *s) { bput(b, s, strlen(s)); }

// fastpath_plain_root accepts the --root values that Go's messages print unchanged
// as ROOT/ID/...: absolute, already clean (as filepath.Join leaves it), not
// "/" itself, printable ASCII only (so quoting is simple) and short.
int fastpath_plain_root(const char *p)
{
	size_t n = strlen(p);
	if (n < 2 || n > ROOT_MAX || p[0] != '/' || p[n - 1] == '/' || strstr(p, "//") != NULL ||
	    strstr(p, "/./") != NULL || strstr(p, "/../") != NULL)
		return 0;
	if ((n >= 2 && strcmp(p + n - 2, "/.") == 0) || (n >= 3 && strcmp(p + n - 3, "/..") == 0))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

// fastpath_open_log opens --log as setupLogging does, which creates it even
// when nothing is logged; if it cannot, Go reports why.
int fastpath_open_log(const char *log, int *fd)
{
	*fd = -1;
	if (log == NULL || log[0] == '\0')
		return 0;
	*fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_SYNC | O_CLOEXEC, 0644);
	return *fd < 0 ? -1 : 0;
}

void fastpath_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; // as Go, which ignores failed error output
		p += w;
		n -= (size_t)w;
	}
}

// fastpath_errno is the text Go gives an errno, from the table generated
// from Go's (failrec.h), as every init error is rendered.
const char *fastpath_errno(int e)
{
	static char text[24];
	return fail_errno_text((uint32_t)e, text);
}

// log_time is now as the log lines of cmd/berth print it: slog's text
// handler to the millisecond ("2006-01-02T15:04:05.000Z07:00"), the JSON
// handler as RFC3339Nano (trailing zeros of the fraction dropped).
static void log_time(struct buf *b, int json)
{
	struct timespec ts;
	struct tm tm;
	char s[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	bput(b, s, strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm));
	if (json) {
		int n = snprintf(s, sizeof(s), ".%09ld", ts.tv_nsec);
		while (n > 1 && s[n - 1] == '0')
			n--;
		bput(b, s, n > 1 ? (size_t)n : 0);
	} else {
		bput(b, s, (size_t)snprintf(s, sizeof(s), ".%03ld", ts.tv_nsec / 1000000));
	}
	long off = tm.tm_gmtoff / 60;
	if (off == 0) {
		bputs(b, "Z");
		return;
	}
	bput(b, s, (size_t)snprintf(s, sizeof(s), "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60));
}

// quote writes printable ASCII s as a JSON string body (json.Marshal also
// escapes <, > and &) or a Go-quoted one (strconv.Quote, slog's text).
static void quote(struct buf *b, const char *s, int json)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			bput(b, "\\", 1);
		if (json && (*s == '<' || *s == '>' || *s == '&')) {
			char u[8];
			bput(b, u, (size_t)snprintf(u, sizeof(u), "\\u%04x", (unsigned)*s));
			continue;
		}
		bput(b, s, 1);
	}
}

// log_error writes the line logger.Error writes to the --log file, in one
// write on the O_APPEND file as Go does.
static void log_error(int fd, int json, const char *msg)
{
	char line[3 * MSG_MAX];
	struct buf b = {line, 0, sizeof(line)};
	if (json) {
		bputs(&b, "{\"level\":\"error\",\"msg\":\"");
		quote(&b, msg, 1);
		bputs(&b, "\",\"time\":\"");
		log_time(&b, 1);
		bputs(&b, "\"}\n");
	} else {
		bputs(&b, "time=");
		log_time(&b, 0);
		bputs(&b, " level=error msg=\"");
		quote(&b, msg, 0);
		bputs(&b, "\"\n");
	}
	fastpath_write_all(fd, line, b.n);
}

// fastpath_vreport is cmd/berth's reportError for command cmd of container
// q->id: "berth: CMD ID: ..." on stderr and, with --log (logfd), in the log
// file. It returns the exit code, 1.
int fastpath_vreport(const struct req *q, int logfd, const char *cmd, const char *fmt, va_list ap)
{
	char msg[MSG_MAX], line[MSG_MAX + 16];
	int n = snprintf(msg, sizeof(msg), "%s %s: ", cmd, q->id);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	n = snprintf(line, sizeof(line), "berth: %s\n", msg);
	fastpath_write_all(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	if (logfd >= 0)
		log_error(logfd, q->logjson, msg);
	return 1;
}
