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
