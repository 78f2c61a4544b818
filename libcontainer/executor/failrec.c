// See failrec.h. The rules here are wire.Render's, wire.Quote's and
// wire.DecodeFail's, line for line; FuzzFailRender holds them to it.
#include <stdio.h>
#include <string.h>

#include "failrec.h"
#include "wire.h"

static size_t put_rec(char *buf, size_t o, uint32_t tag, const void *d, uint32_t n)
{
	memcpy(buf + o, &tag, 4);
	memcpy(buf + o + 4, &n, 4);
	memcpy(buf + o + 8, d, n);
	return o + 8 + n;
}

static size_t put_str(char *buf, size_t o, uint32_t tag, const char *s)
{
	char tmp[FAIL_MAX_STR + 1];
	size_t n = strnlen(s, FAIL_MAX_STR);
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return put_rec(buf, o, tag, tmp, (uint32_t)n + 1);
}

size_t fail_encode(char *buf, const char *ctx, uint32_t step, uint32_t err, const char *const *args, int nargs)
{
	uint32_t se[2] = { step, err };
	size_t o = put_rec(buf, 0, FAIL_STEP, se, sizeof(se));
	if (ctx != NULL && *ctx != '\0')
		o = put_str(buf, o, FAIL_CTX, ctx);
	for (int i = 0; i < nargs && i < FAIL_MAX_ARGS; i++)
		o = put_str(buf, o, FAIL_ARG, args[i] != NULL ? args[i] : "");
	return o;
}

const char *fail_errno_text(uint32_t e, char *buf)
{
	if (e < WIRE_NERRNO && wire_errno_text[e] != NULL)
		return wire_errno_text[e];
	snprintf(buf, 24, "errno %u", e);
	return buf;
}

const char *fail_signal_text(uint32_t s, char *buf)
{
	if (s < WIRE_NSIGNAL && wire_signal_text[s] != NULL)
		return wire_signal_text[s];
	snprintf(buf, 24, "signal %u", s);
	return buf;
}

// out is text under construction: n counts every byte, stored or not.
struct out {
	char *p;
	size_t size, n;
};

static void put(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, o->n++)
		if (o->n + 1 < o->size)
			o->p[o->n] = s[i];
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

// utf8_len is the length of the valid UTF-8 sequence at s (n bytes left),
// or 0 where utf8.DecodeRuneInString says RuneError of size 1.
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void quote(struct out *o, const char *s)
{
	static const char named[] = "\a\b\f\n\r\t\v", letters[] = "abfnrtv";
	size_t n = strlen(s);
	put(o, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		char esc[5];
		const char *k = c != 0 ? strchr(named, c) : NULL;
		if (c >= 0x80) {
			size_t l = utf8_len((const unsigned char *)s + i, n - i);
			if (l > 0) {
				put(o, s + i, l);
				i += l;
				continue;
			}
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			puts_(o, esc);
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c >= 0x20 && c < 0x7f) {
			put(o, s + i, 1);
		} else if (k != NULL) {
			esc[0] = '\\';
			esc[1] = letters[k - named];
			put(o, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			puts_(o, esc);
		}
		i++;
	}
	put(o, "\"", 1);
}

// expand is wire.expand: {N} and {qN} become args[N] ("" when missing).
static void expand(struct out *o, const char *text, const char *const *args, int nargs)
{
	for (const char *t = text; *t != '\0'; t++) {
		int q = t[1] == 'q';
		const char *d = t + 1 + q;
		if (t[0] != '{' || d[0] < '0' || d[0] > '9' || d[1] != '}') {
			put(o, t, 1);
			continue;
		}
		int idx = d[0] - '0';
		const char *arg = idx < nargs ? args[idx] : "";
		if (q)
			quote(o, arg);
		else
			puts_(o, arg);
		t = d + 1;
	}
}

struct rec {
	const char *ctx, *why, *args[FAIL_MAX_ARGS];
	int nargs, nsteps;
	uint32_t step, err;
};

// decode is wire.DecodeFail: 0, or -1.
static int decode(const char *buf, size_t len, struct rec *f)
{
	char why[128], *cur = (char *)buf, *end = (char *)buf + len;
	struct wire_rec r;
	memset(f, 0, sizeof(*f));
	if (wire_check(&wire_fail, buf, len, why, sizeof(why)) < 0)
		return -1;
	while (wire_next(&cur, end, &r)) {
		switch (r.tag) {
		case FAIL_STEP:
			f->nsteps++;
			f->step = wire_u32(&r);
			f->err = wire_u32(&r);
			break;
		case FAIL_CTX: f->ctx = wire_str(&r); break;
		case FAIL_WHY: f->why = wire_str(&r); break;
		default: // FAIL_ARG
			if (f->nargs == FAIL_MAX_ARGS)
				return -1;
			f->args[f->nargs++] = wire_str(&r);
		}
	}
	return f->nsteps == 1 ? 0 : -1;
}

int fail_is_record(const char *buf, size_t len)
{
	uint32_t tag;
	if (len < 4)
		return 0;
	memcpy(&tag, buf, 4);
	return tag == FAIL_STEP;
}

long fail_render(const char *buf, size_t len, char *out, size_t size)
{
	struct out o = { out, size, 0 };
	struct rec f;
	char num[24];
	if (decode(buf, len, &f) < 0)
		return -1;
	if (f.ctx != NULL && *f.ctx != '\0') {
		puts_(&o, f.ctx);
		puts_(&o, ": ");
	}
	const char *text = f.step < WIRE_NSTEPS ? wire_step_text[f.step] : NULL;
	if (text == NULL) {
		snprintf(num, sizeof(num), "%u", f.step);
		puts_(&o, "unknown step ");
		puts_(&o, num);
	} else {
		expand(&o, text, f.args, f.nargs);
	}
	if (f.err != 0) {
		puts_(&o, ": ");
		puts_(&o, fail_errno_text(f.err, num));
	}
	if (f.why != NULL && *f.why != '\0') {
		puts_(&o, ": ");
		puts_(&o, f.why);
	}
	if (size > 0)
		o.p[o.n < size ? o.n : size - 1] = '\0';
	return (long)o.n;
}
