// trace.c without its constructor (TRACE_CTOR empty), so that nothing runs
// before the tests; ctest_trace_init runs it when a test has set the
// environment. A way in to the formatters.
#define TRACE_CTOR
#include "../trace.c"
#undef TRACE_CTOR

void ctest_trace_init(void) { berth_trace_init(); }
