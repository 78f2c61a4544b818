// ccopyup.c, the tmpcopyup tree copy: pure file work on two directory
// fds, run by the tests on directories of their own.
#include "harness.h"
#include "../ccopyup.c"
