// cmountinfo.c, the mount table reader: its parser runs on the tests'
// lines.
#include "harness.h"
#include <stdio.h>
#include "../cmountinfo.c"

// ctest_mountinfo renders each entry of buf as "root|point|fstype|shared"
// lines into out; -1 at a line it cannot read.
int ctest_mountinfo(char *buf, size_t len, char *out, size_t size)
{
	const char *cur = buf;
	struct mnt_entry m;
	size_t n = 0;
	int r;

	out[0] = '\0';
	while ((r = mountinfo_next(&cur, buf + len, &m)) > 0)
		n += snprintf(out + n, n < size ? size - n : 0, "%s|%s|%s|%d\n", m.root, m.point, m.fstype, m.shared);
	return r;
}
