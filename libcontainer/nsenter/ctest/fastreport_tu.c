#include "../fastreport.c"
