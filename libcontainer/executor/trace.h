// Trace and crash points of the C code (trace.c), the twin of Go's
// internal/trace: the same names (POINT_* in wire_gen.h, declared in
// internal/wire/schema.go), the same log lines, the same test-only crash
// hook (BERTH_TEST_CRASH_AT).
#ifndef BERTH_TRACE_H
#define BERTH_TRACE_H

#include <stddef.h>

#include "wire_gen.h"

// berth_trace_active is the only thing a point reads when nothing traces:
// set when there is anything to do (logging, collecting, a crash point).
extern int berth_trace_active;

void berth_trace_hit(const char *name);

// berth_trace_point marks the end of a phase: it logs it (a C command
// under BERTH_TRACE=1 or --debug), keeps it for the parent (berth init
// with _BERTH_TRACE=1), or SIGKILLs the process when BERTH_TEST_CRASH_AT
// names it. Off, it is one branch: no clock read.
static inline void berth_trace_point(const char *name)
{
	if (__builtin_expect(berth_trace_active, 0))
		berth_trace_hit(name);
}

// berth_trace_log turns logging on for a command answered in C when debug
// (--debug) is set or BERTH_TRACE=1: lines go to the --log file log (NULL:
// stderr) in --log-format json or text, as cmd/berth's handlers write them.
void berth_trace_log(const char *log, int json, int debug);

// berth_trace_spans renders the spans kept since the last call as the
// value of a sync message's "trace" key (trace.Span's JSON: point, phase
// and total in nanoseconds) into buf and forgets them; "" when nothing is
// kept. It returns the length, or 0 when it does not fit.
size_t berth_trace_spans(char *buf, size_t size);

// berth_trace_forget drops the spans kept so far: a cloned child must not
// send its parent's again.
void berth_trace_forget(void);

// berth_trace_child_env fills envp (room slots, the last left NULL) with
// what berth init needs to trace and crash as this process does:
// _BERTH_TRACE=1 while logging, BERTH_TEST_CRASH_AT as given. Go's
// trace.ChildEnv is its twin.
void berth_trace_child_env(char **envp, int room);

// berth_trace_report logs spans another process kept (the C init's, as
// fastexec.c reads them from "ready"), each with side, as trace.Report.
void berth_trace_report(const char *point, long long phase_ns, long long total_ns, const char *side);

// berth_trace_format_ms writes ns as cmd/berth writes phase_ms: rounded to
// the microsecond, as JSON writes a float64 (json) or as slog's text
// handler does (strconv 'g', shortest). It returns the length.
size_t berth_trace_format_ms(char *buf, size_t size, long long ns, int json);

// berth_trace_format_line writes one trace log line; side may be NULL. It
// returns the length (cut at size - 1).
size_t berth_trace_format_line(char *buf, size_t size, int json, const char *point, long long phase_ns,
			       long long total_ns, const char *side);

#endif
