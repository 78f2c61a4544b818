// The harness that lets the tests call C that exits on error: the C files
// are compiled here with _exit renamed to ctest_exit, which jumps back to
// the test's entry point (ctest_try) instead of ending the test binary.
#ifndef BERTH_CTEST_HARNESS_H
#define BERTH_CTEST_HARNESS_H

// Before any system header, as in the files under test.
#define _GNU_SOURCE

#include <setjmp.h>
#include <stddef.h>
#include <unistd.h>

extern jmp_buf *ctest_jmp;
void ctest_exit(int code) __attribute__((noreturn));

// ctest_last is the last packet ctest_failure read, as it came.
extern char ctest_last[];
extern size_t ctest_last_len;

// ctest_capture points berth_syncfd at a socket, so that what the C code
// reports before it exits can be read back; ctest_failure reads it: its
// error record rendered by fail_render, the "msg" of a JSON error, or the
// raw packet.
void ctest_capture(int fds[2]);
void ctest_failure(int fds[2], char *out, size_t size);

#endif
