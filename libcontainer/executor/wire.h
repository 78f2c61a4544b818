// The one reader of the TLV messages Go sends C (internal/wire): the C
// init's plan (cinit.c), the rootfs program (crootfs.c). Pure functions, no
// exits, so that the tests (ctest) link them as they are.
#ifndef BERTH_WIRE_H
#define BERTH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "wire_gen.h"

// wire_rec is one record: its tag, its data, and how much of it the
// getters have taken.
struct wire_rec {
	uint32_t tag, len, off;
	char *d;
};

// wire_next steps *cur (below end) over one record into r: 1, or 0 at the
// end. Call it only on a message wire_check accepted.
int wire_next(char **cur, char *end, struct wire_rec *r);

// wire_check walks a whole message before anything acts on it: every
// record declared by m and its data exactly its layout. 0, or -1 with the
// reason in err ("record 5 (bind): unterminated string").
int wire_check(const struct wire_msg *m, const char *buf, size_t len, char *err, size_t size);

// The getters take the next argument of a checked record; past its end
// they give 0 or "" (which wire_check rules out).
uint32_t wire_u32(struct wire_rec *r);
uint64_t wire_u64(struct wire_rec *r);
const char *wire_str(struct wire_rec *r);

#endif
