#include "harness.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../nsexec.h"
#include "../syncmsg.h"
#include "../wire_gen.h"

jmp_buf *ctest_jmp;

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
	char buf[4096];
	struct sync_msg m;
	ssize_t n = recv(fds[1], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && sync_parse(buf, (size_t)n, &m) == 0 && strcmp(m.type, SYNC_ERROR) == 0)
		snprintf(out, size, "%s", m.msg);
	else
		snprintf(out, size, "%s", buf);
	berth_syncfd = -1;
	close(fds[0]);
	close(fds[1]);
}
