// The bootstrap: the first packet of `berth init`, the namespace work Go
// decided (libcontainer/bootstrap.go). Its records are wire.Boot of
// internal/wire/schema.go (BOOT_* in wire_gen.h), read here with the one
// TLV reader (wire.c). Pure: no exits, no system calls, so the tests
// (ctest) run it as it is.
#ifndef BERTH_BOOTSTRAP_H
#define BERTH_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include "nsexec.h"

#define MAX_JOIN 16

struct join {
	int flag; // CLONE_NEW*
	char *path;
	int fd;
};

// struct bootstrap is what nsexec.c acts on. The id maps, time offsets and
// oom score come as numbers; boot_parse renders them as the text the kernel
// files (uid_map, gid_map, timens_offsets, oom_score_adj) take. Strings
// point into the packet; the rendered texts are malloc'd (boot_free).
struct bootstrap {
	struct join joins[MAX_JOIN];
	int njoin;
	int clone_flags;
	char *uidmap, *gidmap, *timens; // NULL: no such record
	char *uidhelper, *gidhelper;
	int setgroups_deny;
	int rootless;
	char *oomscoreadj; // NULL: none
	char oom_text[16];
	int cinit;
	int keep_affinity;
	char *hostsrc[BERTH_MAX_HOSTSRC];
	int hostsrc_rec[BERTH_MAX_HOSTSRC];
	int nhostsrc;
};

// boot_parse checks the whole packet against the schema, then fills *b
// (zeroed first). 0, or -1 with the reason in err ("record 3 (uid_map):
// short record", "join: unknown namespace flag 0x1").
int boot_parse(char *buf, size_t len, struct bootstrap *b, char *err, size_t size);

// boot_free frees the rendered texts.
void boot_free(struct bootstrap *b);

#endif
