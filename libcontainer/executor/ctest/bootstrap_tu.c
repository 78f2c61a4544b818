// bootstrap.c as it is, and a rendering of what it read for the tests.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "../bootstrap.c"

// ctest_bootstrap parses a bootstrap and renders what it understood, one
// line per setting; -1 with the error.
int ctest_bootstrap(char *buf, size_t len, char *out, size_t size)
{
	struct bootstrap b;
	size_t o = 0;

	if (boot_parse(buf, len, &b, out, size) < 0)
		return -1;
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
	if (b.uidhelper)
		PUT("uidhelper %s\n", b.uidhelper);
	if (b.gidhelper)
		PUT("gidhelper %s\n", b.gidhelper);
	if (b.oomscoreadj)
		PUT("oomscoreadj %s\n", b.oomscoreadj);
	PUT("cinit %d affinity %d setgroups %d rootless %d\n", b.cinit, b.keep_affinity, b.setgroups_deny, b.rootless);
#undef PUT
	boot_free(&b);
	return o < size ? 0 : -1;
}
