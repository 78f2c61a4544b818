// nsexec.c with its exits caught (harness.h), and a way in to its
// bootstrap parser.
#include "harness.h"
#include <stdio.h>
#include <string.h>
#define _exit ctest_exit
#include "../nsexec.c"
#undef _exit

// ctest_bootstrap parses a bootstrap (a copy: parse writes into it) and
// renders what it understood, one line per setting; -1 with the error.
int ctest_bootstrap(char *buf, size_t len, char *out, size_t size)
{
	static struct bootstrap b;
	jmp_buf jb;
	int fds[2];

	memset(&b, 0, sizeof(b));
	ctest_capture(fds);
	ctest_jmp = &jb;
	if (setjmp(jb) != 0) {
		ctest_jmp = NULL;
		ctest_failure(fds, out, size);
		return -1;
	}
	parse(buf, len, &b);
	ctest_jmp = NULL;
	ctest_failure(fds, out, size); // closes the capture; nothing was sent
	size_t o = 0;
#define PUT(...) o += (size_t)snprintf(out + o, o < size ? size - o : 0, __VA_ARGS__)
	for (int i = 0; i < b.njoin; i++)
		PUT("join %#x %s\n", b.joins[i].flag, b.joins[i].path);
	PUT("clone %#x\n", b.clone_flags);
	if (b.uidmap)
		PUT("uidmap %s|\n", b.uidmap);
	if (b.gidmap)
		PUT("gidmap %s|\n", b.gidmap);
	if (b.timens)
		PUT("timens %s|\n", b.timens);
	for (int i = 0; i < b.nhostsrc; i++)
		PUT("hostsrc %d %s\n", b.hostsrc_rec[i], b.hostsrc[i]);
	PUT("cinit %d affinity %d setgroups %d\n", b.cinit, b.keep_affinity, b.setgroups_deny);
#undef PUT
	return o < size ? 0 : -1;
}
