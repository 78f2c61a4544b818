// A small, strict JSON reader for the sync messages: C used to look for
// `"start"` anywhere in the packet (strstr), which a message with that
// text in another field would have satisfied. This reads the object: keys
// and string values with their escapes, numbers, and nested values to skip.
#include <string.h>

#include "syncmsg.h"
#include "wire_gen.h"

#define MAX_DEPTH 16

struct in {
	const char *p, *end;
};

static void ws(struct in *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static int eat(struct in *in, char c)
{
	ws(in);
	if (in->p < in->end && *in->p == c) {
		in->p++;
		return 1;
	}
	return 0;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

// put_utf8 appends code point c; out NULL only measures (skip).
static int put_utf8(char *out, size_t size, size_t *o, unsigned c)
{
	char b[4];
	size_t n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
	if (n == 1) {
		b[0] = (char)c;
	} else {
		for (size_t i = n - 1; i > 0; i--, c >>= 6)
			b[i] = (char)(0x80 | (c & 0x3f));
		b[0] = (char)((0xf00 >> n) | c);
	}
	if (out != NULL) {
		if (*o + n >= size)
			return -1;
		memcpy(out + *o, b, n);
	}
	*o += n;
	return 0;
}

// escape decodes the escape at in->p (after the backslash) into code point *c.
static int escape(struct in *in, unsigned *c)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (in->p >= in->end)
		return -1;
	const char *k = strchr(from, *in->p);
	if (*in->p != 'u') {
		if (k == NULL || *in->p == '\0')
			return -1;
		*c = (unsigned char)to[k - from];
		in->p++;
		return 0;
	}
	if (in->end - in->p < 5 || hex4(in->p + 1, c) < 0)
		return -1;
	in->p += 5;
	if (*c >= 0xd800 && *c < 0xdc00) { // a surrogate pair, as encoding/json writes one
		unsigned lo;
		if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u' || hex4(in->p + 2, &lo) < 0 ||
		    lo < 0xdc00 || lo > 0xdfff)
			return -1;
		*c = 0x10000 + ((*c - 0xd800) << 10) + (lo - 0xdc00);
		in->p += 6;
	} else if (*c >= 0xdc00 && *c < 0xe000) {
		return -1;
	}
	return 0;
}

// string reads a JSON string into out (NUL-terminated), or skips it when
// out is NULL.
static int string(struct in *in, char *out, size_t size)
{
	size_t o = 0;
	if (!eat(in, '"'))
		return -1;
	while (in->p < in->end && *in->p != '"') {
		unsigned char c = (unsigned char)*in->p++;
		unsigned cp;
		if (c < 0x20)
			return -1;
		if (c != '\\') { // a byte as it is (UTF-8 included)
			if (out != NULL && o + 1 >= size)
				return -1;
			if (out != NULL)
				out[o] = (char)c;
			o++;
		} else if (escape(in, &cp) < 0 || put_utf8(out, size, &o, cp) < 0) {
			return -1;
		}
	}
	if (in->p >= in->end)
		return -1;
	in->p++;
	if (out != NULL)
		out[o] = '\0';
	return 0;
}

// number reads an integer (what the messages hold), or skips any JSON
// number when v is NULL.
static int number(struct in *in, long long *v)
{
	const char *s = in->p;
	int neg = in->p < in->end && *in->p == '-';
	long long n = 0;
	in->p += neg;
	if (in->p >= in->end || *in->p < '0' || *in->p > '9' || (*in->p == '0' && in->end - in->p > 1 && in->p[1] >= '0' && in->p[1] <= '9'))
		return -1;
	for (; in->p < in->end && *in->p >= '0' && *in->p <= '9'; in->p++) {
		if (n > (0x7fffffffffffffffLL - 9) / 10)
			return -1;
		n = n * 10 + (*in->p - '0');
	}
	int integer = 1;
	if (in->p < in->end && *in->p == '.') {
		integer = 0;
		for (in->p++, s = in->p; in->p < in->end && *in->p >= '0' && *in->p <= '9'; in->p++)
			;
		if (in->p == s)
			return -1;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		integer = 0;
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		for (s = in->p; in->p < in->end && *in->p >= '0' && *in->p <= '9'; in->p++)
			;
		if (in->p == s)
			return -1;
	}
	if (v == NULL)
		return 0;
	if (!integer)
		return -1;
	*v = neg ? -n : n;
	return 0;
}

static int literal(struct in *in, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(in->end - in->p) < n || memcmp(in->p, word, n) != 0)
		return -1;
	in->p += n;
	return 0;
}

static int value(struct in *in, int depth);

// items reads the rest of an array or object after its opening bracket.
static int items(struct in *in, char close, int depth)
{
	if (eat(in, close))
		return 0;
	do {
		if (close == '}' && (string(in, NULL, 0) < 0 || !eat(in, ':')))
			return -1;
		if (value(in, depth) < 0)
			return -1;
	} while (eat(in, ','));
	return eat(in, close) ? 0 : -1;
}

// value skips one JSON value.
static int value(struct in *in, int depth)
{
	ws(in);
	if (in->p >= in->end || depth == MAX_DEPTH)
		return -1;
	switch (*in->p) {
	case '"': return string(in, NULL, 0);
	case '{': in->p++; return items(in, '}', depth + 1);
	case '[': in->p++; return items(in, ']', depth + 1);
	case 't': return literal(in, "true");
	case 'f': return literal(in, "false");
	case 'n': return literal(in, "null");
	default: return number(in, NULL);
	}
}

// member reads one "key": value of the top object into m.
static int member(struct in *in, struct sync_msg *m)
{
	// No key of a message is this long; a longer one fails the message.
	char key[64];
	if (string(in, key, sizeof(key)) < 0 || !eat(in, ':'))
		return -1;
	ws(in);
	if (strcmp(key, SYNC_KEY_TYPE) == 0)
		return string(in, m->type, sizeof(m->type));
	if (strcmp(key, SYNC_KEY_MSG) == 0)
		return string(in, m->msg, sizeof(m->msg));
	if (strcmp(key, SYNC_KEY_PID) == 0) {
		m->has_pid = 1;
		return number(in, &m->pid);
	}
	return value(in, 1);
}

int sync_parse(const char *buf, size_t n, struct sync_msg *m)
{
	struct in in = {buf, buf + n};
	memset(m, 0, sizeof(*m));
	if (!eat(&in, '{'))
		return -1;
	if (!eat(&in, '}')) {
		do {
			ws(&in);
			if (member(&in, m) < 0)
				return -1;
		} while (eat(&in, ','));
		if (!eat(&in, '}'))
			return -1;
	}
	ws(&in);
	return in.p == in.end ? 0 : -1;
}

// span reads one {"point":..., "phase":..., "total":...} object.
static int span(struct in *in, struct sync_span *s)
{
	char key[16];
	memset(s, 0, sizeof(*s));
	if (!eat(in, '{'))
		return -1;
	if (eat(in, '}'))
		return -1;
	do {
		int err;
		if (string(in, key, sizeof(key)) < 0 || !eat(in, ':'))
			return -1;
		ws(in);
		if (strcmp(key, "point") == 0)
			err = string(in, s->point, sizeof(s->point));
		else if (strcmp(key, "phase") == 0)
			err = number(in, &s->phase);
		else if (strcmp(key, "total") == 0)
			err = number(in, &s->total);
		else
			err = value(in, 2);
		if (err < 0)
			return -1;
	} while (eat(in, ','));
	return eat(in, '}') && s->point[0] != '\0' ? 0 : -1;
}

// trace_array reads the "trace" value: an array of spans (or null).
static int trace_array(struct in *in, void (*fn)(const struct sync_span *s, void *arg), void *arg)
{
	struct sync_span s;
	ws(in);
	if (literal(in, "null") == 0)
		return 0;
	if (!eat(in, '['))
		return -1;
	if (eat(in, ']'))
		return 0;
	do {
		if (span(in, &s) < 0)
			return -1;
		fn(&s, arg);
	} while (eat(in, ','));
	return eat(in, ']') ? 0 : -1;
}

int sync_spans(const char *buf, size_t n, void (*fn)(const struct sync_span *s, void *arg), void *arg)
{
	struct in in = {buf, buf + n};
	char key[64];
	if (!eat(&in, '{'))
		return -1;
	if (!eat(&in, '}')) {
		do {
			if (string(&in, key, sizeof(key)) < 0 || !eat(&in, ':'))
				return -1;
			int err = strcmp(key, SYNC_KEY_TRACE) == 0 ? trace_array(&in, fn, arg) : value(&in, 1);
			if (err < 0)
				return -1;
		} while (eat(&in, ','));
		if (!eat(&in, '}'))
			return -1;
	}
	ws(&in);
	return in.p == in.end ? 0 : -1;
}
