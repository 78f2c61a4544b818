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

#endif
