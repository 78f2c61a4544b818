// nsexec.c with its exits caught (harness.h): berth_step for cinit.c.
#include "harness.h"
#include <stdio.h>
#include <string.h>
#define _exit ctest_exit
#include "../nsexec.c"
#undef _exit
