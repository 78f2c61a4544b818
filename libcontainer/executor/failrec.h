// An init's error as a record (wire.Fail in internal/wire/schema.go): the
// C stages encode {ctx, step, args, errno} instead of text, and the one
// formatter renders it. Go's Render (internal/wire/fail.go) renders what
// reaches the parent; fail_render is its C twin for the commands that run
// without a Go runtime (fastexec.c) and for an init whose parent is gone.
// Both expand the same generated templates (wire_step_text) with the same
// generated errno texts; ctest requires identical bytes for every step.
// Pure functions, no exits.
#ifndef BERTH_FAILREC_H
#define BERTH_FAILREC_H

#include <stddef.h>
#include <stdint.h>

#include "wire_gen.h"

#define FAIL_MAX_ARGS 10
// A string of a record is cut at this many bytes, so that every record
// fits one packet of FAIL_MAX_PACKET.
#define FAIL_MAX_STR 1024
#define FAIL_MAX_PACKET ((FAIL_MAX_ARGS + 2) * (FAIL_MAX_STR + 9) + 16)

// fail_encode writes the Fail message into buf (FAIL_MAX_PACKET bytes):
// its length. ctx may be NULL; at most FAIL_MAX_ARGS args are kept.
size_t fail_encode(char *buf, const char *ctx, uint32_t step, uint32_t err, const char *const *args, int nargs);

// fail_is_record tells a Fail message from a JSON packet on the sync
// socket: it starts with its step record (wire.IsFailRecord).
int fail_is_record(const char *buf, size_t len);

// fail_render renders a Fail message as wire.Render does into out (NUL-
// terminated, cut to size): the length of the whole text, or -1 when buf
// is no valid Fail message (DecodeFail's rules).
long fail_render(const char *buf, size_t len, char *out, size_t size);

// fail_errno_text is Go's text of errno e; buf (24 bytes) holds "errno N".
const char *fail_errno_text(uint32_t e, char *buf);
// fail_signal_text is Go's name of signal s ("killed"); buf holds "signal N".
const char *fail_signal_text(uint32_t s, char *buf);

#endif
