#include "harness.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../failrec.h"
#include "../nsexec.h"
#include "../syncmsg.h"
#include "../wire_gen.h"

jmp_buf *ctest_jmp;
char ctest_last[FAIL_MAX_PACKET];
size_t ctest_last_len;

void ctest_exit(int code)
{
	if (ctest_jmp != NULL)
		longjmp(*ctest_jmp, code + 1);
	_exit(code);
}

void ctest_capture(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		fds[0] = fds[1] = -1;
	berth_syncfd = fds[0];
}

void ctest_failure(int fds[2], char *out, size_t size)
{
	char buf[FAIL_MAX_PACKET + 1];
	struct sync_msg m;
	ssize_t n = recv(fds[1], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	ctest_last_len = n > 0 ? (size_t)n : 0;
	memcpy(ctest_last, buf, ctest_last_len);
	if (n > 0 && fail_is_record(buf, (size_t)n) && fail_render(buf, (size_t)n, out, size) >= 0)
		; // an error record, rendered as the parent's Go renders it
	else if (n > 0 && sync_parse(buf, (size_t)n, &m) == 0 && strcmp(m.type, SYNC_ERROR) == 0)
		snprintf(out, size, "%s", m.msg);
	else
		snprintf(out, size, "%s", buf);
	berth_syncfd = -1;
	close(fds[0]);
	close(fds[1]);
}
