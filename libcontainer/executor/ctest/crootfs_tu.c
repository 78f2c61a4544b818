// crootfs.c, which cinit.c calls; compiled only (it mounts).
#include "harness.h"
#define _exit ctest_exit
#include "../crootfs.c"
