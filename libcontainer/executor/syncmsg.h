// The sync socket's JSON messages as C reads them (libcontainer/sync.go;
// types and keys in internal/wire/schema.go, SYNC_* in wire_gen.h).
#ifndef BERTH_SYNCMSG_H
#define BERTH_SYNCMSG_H

#include <stddef.h>

// sync_msg is what C needs of a message: its type, and the pid and msg
// when present. Other keys are checked to be JSON and skipped.
struct sync_msg {
	char type[32];
	long long pid;
	int has_pid;
	char msg[2048];
};

// sync_parse reads one message: a JSON object, nothing but whitespace
// after it. 0, or -1 when buf[0..n) is not one, or a known key's value is
// not of its type, or a string does not fit. Pure: no allocation, no exit.
int sync_parse(const char *buf, size_t n, struct sync_msg *m);

// sync_span is one element of a message's "trace" array (trace.Span:
// the point's name, its phase and total in nanoseconds).
struct sync_span {
	char point[128];
	long long phase, total;
};

// sync_spans calls fn for each span of the "trace" array of the message
// buf[0..n) (berth init's spans, with "pid" or "ready"), in order. 0 when
// the message is one, with or without spans; -1 when it is not, or its
// spans are not trace.Span objects.
int sync_spans(const char *buf, size_t n, void (*fn)(const struct sync_span *s, void *arg), void *arg);

#endif
