// trace.c without its constructor (TRACE_CTOR empty), so that nothing runs
// before the tests; ctest_trace_init runs it afresh when a test has set
// the environment. A way in to the formatters and the spans.
#define TRACE_CTOR
#include "../trace.c"
#undef TRACE_CTOR

// It returns 0: cgo's wrapper of a function without a result warns.
int ctest_trace_init(void)
{
	memset(&tr, 0, sizeof(tr));
	tr.fd = -1;
	berth_trace_init();
	return 0;
}

#include <stdio.h>
#include "../syncmsg.h"

struct spans_out {
	char *p;
	size_t o, size;
};

static void put_span(const struct sync_span *s, void *arg)
{
	struct spans_out *out = arg;
	int n = snprintf(out->p + out->o, out->o < out->size ? out->size - out->o : 0, "%s %lld %lld\n", s->point,
			 s->phase, s->total);
	out->o += n > 0 ? (size_t)n : 0;
}

// ctest_spans renders what sync_spans reads, a line "point phase total"
// per span; -1 when it refuses the message or the lines do not fit.
int ctest_spans(char *buf, size_t len, char *out, size_t size)
{
	struct spans_out o = {out, 0, size};
	out[0] = '\0';
	if (sync_spans(buf, len, put_span, &o) < 0)
		return -1;
	return o.o < size ? 0 : -1;
}
