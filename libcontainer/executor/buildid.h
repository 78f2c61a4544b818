#ifndef BERTH_BUILDID_H
#define BERTH_BUILDID_H

#include <stddef.h>

// berth_build_id writes the running binary's GNU build id as hex into out:
// 0, or -1 when it has none or it does not fit (buildid.c).
int berth_build_id(char *out, size_t size);

#endif
