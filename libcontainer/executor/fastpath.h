// Shared by the constructors that answer commands from state.brief before
// the Go runtime starts: fastpath.c (state, list), fastops.c (start,
// delete) and fastexec.c (exec). The brief's format is documented in libcontainer/brief.go.
#ifndef BERTH_FASTPATH_H
#define BERTH_FASTPATH_H

#include <stdarg.h>
#include <stddef.h>

#define BRIEF_MAX (1UL << 20)
#define MAX_IDLEN 1024

// The records of state.brief (F_ID ... F_COUNT, in their order) and their
// names are generated from internal/wire/schema.go.
#include "wire_gen.h"

struct str {
	const char *p;
	size_t n;
};

struct arena {
	char *base;
	size_t used, cap;
};

// req is the command line: the global flags and what the command needs.
struct req {
	const char *root, *id, *log;
	int root_set; // --root was given: list of a missing one is an error
	int list, quiet, json;
	int logjson; // --log-format json
	int debug;   // --debug: trace lines (trace.c), as BERTH_TRACE=1
};

// row is one container as printed: its brief and its derived status.
struct row {
	const char *id;
	struct str f[F_COUNT];
	const char *status;
	char pid[24];
};

// fastpath_enabled is false in berth init and with BERTH_NO_FASTPATH=1:
// then Go answers everything. Tracing and the crash hook keep it on: the
// C paths trace and crash at the points Go would (trace.c).
int fastpath_enabled(void);
// fastpath_valid_id is libcontainer.ValidateID.
int fastpath_valid_id(const char *s);
// fastpath_arena_alloc takes n bytes (8-aligned) from the arena, or NULL.
void *fastpath_arena_alloc(struct arena *a, size_t n);
// fastpath_parse_u64 accepts plain decimal digits only.
int fastpath_parse_u64(struct str s, unsigned long long *v);
// fastpath_default_root is the --root used when none is given (NULL: Go's to decide).
const char *fastpath_default_root(void);
// fastpath_parse_globals takes --root, --log, --log-format and --debug from
// argv[*i] on; anything else that starts with '-' fails (Go's to answer).
int fastpath_parse_globals(int argc, char **argv, int *i, struct req *r);
// fastpath_init_alive is savedState.initAlive.
int fastpath_init_alive(unsigned long long pid, struct str start);
// fastpath_load_row_at reads the brief of container id from its directory
// dfd into the arena, checks it is current and derives the status.
int fastpath_load_row_at(int dfd, const char *id, struct arena *a, struct row *r);

// Error output as cmd/berth writes it (fastreport.c).
// fastpath_plain_root accepts the --root values Go's messages print unchanged.
int fastpath_plain_root(const char *p);
// fastpath_open_log opens --log (if given) into *fd, as setupLogging does.
int fastpath_open_log(const char *log, int *fd);
// fastpath_write_all writes everything, ignoring errors as Go's output does.
void fastpath_write_all(int fd, const char *p, size_t n);
// fastpath_errno is the text Go gives an errno.
const char *fastpath_errno(int e);
// fastpath_vreport prints "berth: CMD ID: MSG" and logs it; it returns 1.
int fastpath_vreport(const struct req *q, int logfd, const char *cmd, const char *fmt, va_list ap);

#endif
