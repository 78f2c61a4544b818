// See wire.h. Records are unaligned: numbers are copied out, never cast.
#include <stdio.h>
#include <string.h>

#include "wire.h"

int wire_next(char **cur, char *end, struct wire_rec *r)
{
	if (end - *cur < 8)
		return 0;
	memcpy(&r->tag, *cur, 4);
	memcpy(&r->len, *cur + 4, 4);
	if ((size_t)(end - *cur - 8) < r->len)
		return 0;
	r->d = *cur + 8;
	r->off = 0;
	*cur += 8 + (size_t)r->len;
	return 1;
}

// check_args matches one record's data against its layout (wire_gen.h);
// NULL, or what is wrong.
static const char *check_args(const char *layout, const char *d, size_t n)
{
	for (; *layout; layout++) {
		switch (*layout) {
		case 'u': case 'i': case 'U': case 'I': {
			size_t size = *layout == 'U' || *layout == 'I' ? 8 : 4;
			if (n < size)
				return "short record";
			d += size;
			n -= size;
			break;
		}
		case 's': {
			const char *nul = memchr(d, '\0', n);
			if (nul == NULL)
				return "unterminated string";
			n -= (size_t)(nul + 1 - d);
			d = nul + 1;
			break;
		}
		case 'a':
			if (n % 4 != 0)
				return "not a list of u32";
			n = 0;
			break;
		default: // 'b'
			n = 0;
		}
	}
	return n == 0 ? NULL : "bytes left over";
}

int wire_check(const struct wire_msg *m, const char *buf, size_t len, char *err, size_t size)
{
	const char *cur = buf, *end = buf + len;
	while (cur != end) {
		uint32_t tag, n;
		if (end - cur < 8) {
			snprintf(err, size, "truncated record");
			return -1;
		}
		memcpy(&tag, cur, 4);
		memcpy(&n, cur + 4, 4);
		if ((size_t)(end - cur - 8) < n) {
			snprintf(err, size, "record %u overruns the message", tag);
			return -1;
		}
		const struct wire_field *f = tag < m->ntags ? &m->fields[tag] : NULL;
		if (f == NULL || f->name == NULL) {
			snprintf(err, size, "unknown record %u", tag);
			return -1;
		}
		const char *why = check_args(f->layout, cur + 8, n);
		if (why != NULL) {
			snprintf(err, size, "record %u (%s): %s", tag, f->name, why);
			return -1;
		}
		cur += 8 + (size_t)n;
	}
	return 0;
}

static int take(struct wire_rec *r, void *out, uint32_t n)
{
	if (r->len - r->off < n) {
		memset(out, 0, n);
		return -1;
	}
	memcpy(out, r->d + r->off, n);
	r->off += n;
	return 0;
}

uint32_t wire_u32(struct wire_rec *r)
{
	uint32_t v;
	take(r, &v, sizeof(v));
	return v;
}

uint64_t wire_u64(struct wire_rec *r)
{
	uint64_t v;
	take(r, &v, sizeof(v));
	return v;
}

const char *wire_str(struct wire_rec *r)
{
	size_t room = r->len - r->off;
	char *s = r->d + r->off;
	size_t n = strnlen(s, room);
	if (n == room)
		return "";
	r->off += (uint32_t)n + 1;
	return s;
}
