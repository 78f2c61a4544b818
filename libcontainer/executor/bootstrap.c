// See bootstrap.h.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "wire.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

// The namespaces berth knows: a join names exactly one, clone only these.
#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | \
		  CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWTIME)

// The longest line a map or offset record renders to, but the clock name:
// three u32 (or an i64 and a u32), their separators and the newline.
#define LINE_MAX_NUMS 48

// text is a growing rendering of repeated records.
struct text {
	char *s;
	size_t len, cap;
};

static int text_printf(struct text *t, size_t most, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int text_printf(struct text *t, size_t most, const char *fmt, ...)
{
	if (t->cap - t->len < most + 1) {
		size_t cap = t->cap * 2 + most + 1;
		char *s = realloc(t->s, cap);
		if (s == NULL)
			return -1;
		t->s = s;
		t->cap = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > most)
		return -1;
	t->len += (size_t)n;
	return 0;
}

static int one_record(struct bootstrap *b, struct wire_rec *r, struct text *uid, struct text *gid,
		      struct text *tim, char *err, size_t size)
{
	switch (r->tag) {
	case BOOT_JOIN: {
		uint32_t flag = wire_u32(r);
		char *path = (char *)wire_str(r);
		if (flag == 0 || (flag & (flag - 1)) != 0 || (flag & ~(uint32_t)NS_FLAGS) != 0) {
			snprintf(err, size, "join: unknown namespace flag %#x", flag);
			return -1;
		}
		if (b->njoin == MAX_JOIN) {
			snprintf(err, size, "join: more than %d namespaces", MAX_JOIN);
			return -1;
		}
		b->joins[b->njoin++] = (struct join){ (int)flag, path, -1 };
		return 0;
	}
	case BOOT_CLONE: {
		uint32_t flags = wire_u32(r);
		if ((flags & ~(uint32_t)NS_FLAGS) != 0) {
			snprintf(err, size, "clone: unknown flags %#x", flags & ~(uint32_t)NS_FLAGS);
			return -1;
		}
		b->clone_flags = (int)flags;
		return 0;
	}
	case BOOT_UID_MAP:
	case BOOT_GID_MAP: {
		uint32_t id = wire_u32(r), host = wire_u32(r), n = wire_u32(r);
		return text_printf(r->tag == BOOT_UID_MAP ? uid : gid, LINE_MAX_NUMS, "%u %u %u\n", id, host, n);
	}
	case BOOT_TIME_OFFSET: {
		const char *clock = wire_str(r);
		int64_t secs = (int64_t)wire_u64(r);
		uint32_t ns = wire_u32(r);
		if (*clock == '\0' || strpbrk(clock, " \t\n") != NULL) {
			snprintf(err, size, "time_offset: bad clock name");
			return -1;
		}
		return text_printf(tim, strlen(clock) + LINE_MAX_NUMS, "%s %lld %u\n", clock, (long long)secs, ns);
	}
	case BOOT_HOST_SOURCE: {
		uint32_t rec = wire_u32(r);
		if (rec > 1) {
			snprintf(err, size, "host_source: recursive %u is not 0 or 1", rec);
			return -1;
		}
		if (b->nhostsrc == BERTH_MAX_HOSTSRC) {
			snprintf(err, size, "host_source: more than %d", BERTH_MAX_HOSTSRC);
			return -1;
		}
		b->hostsrc_rec[b->nhostsrc] = (int)rec;
		b->hostsrc[b->nhostsrc++] = (char *)wire_str(r);
		return 0;
	}
	case BOOT_OOM_SCORE_ADJ:
		snprintf(b->oom_text, sizeof(b->oom_text), "%d", (int32_t)wire_u32(r));
		b->oomscoreadj = b->oom_text;
		return 0;
	case BOOT_SETGROUPS_DENY: b->setgroups_deny = 1; return 0;
	case BOOT_CINIT: b->cinit = 1; return 0;
	case BOOT_KEEP_AFFINITY: b->keep_affinity = 1; return 0;
	case BOOT_ROOTLESS: b->rootless = 1; return 0;
	case BOOT_UID_HELPER: b->uidhelper = (char *)wire_str(r); return 0;
	case BOOT_GID_HELPER: b->gidhelper = (char *)wire_str(r); return 0;
	}
	return 0; // wire_check let through only declared tags
}

int boot_parse(char *buf, size_t len, struct bootstrap *b, char *err, size_t size)
{
	struct text uid = { 0 }, gid = { 0 }, tim = { 0 };
	struct wire_rec r;
	char *cur = buf;

	memset(b, 0, sizeof(*b));
	if (size > 0)
		*err = '\0';
	if (wire_check(&wire_boot, buf, len, err, size) < 0)
		return -1;
	while (wire_next(&cur, buf + len, &r)) {
		if (one_record(b, &r, &uid, &gid, &tim, err, size) < 0) {
			if (size > 0 && *err == '\0')
				snprintf(err, size, "out of memory");
			free(uid.s);
			free(gid.s);
			free(tim.s);
			return -1;
		}
	}
	b->uidmap = uid.s;
	b->gidmap = gid.s;
	b->timens = tim.s;
	return 0;
}

void boot_free(struct bootstrap *b)
{
	free(b->uidmap);
	free(b->gidmap);
	free(b->timens);
	b->uidmap = b->gidmap = b->timens = NULL;
}
