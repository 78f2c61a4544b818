// tmpcopyup's tree copy (ccopyup.c).
#ifndef BERTH_CCOPYUP_H
#define BERTH_CCOPYUP_H

#include <stddef.h>

// A directory tree deeper than this is refused (ELOOP) rather than
// exhausting the stack of the container's pid 1.
#define COPYUP_MAX_DEPTH 256

// copyup_err names the operation and the entry that failed.
struct copyup_err {
	char what[256];
};

// copyup_tree copies the entries of the directory src (an fd opened
// O_RDONLY|O_DIRECTORY, kept open) into the directory dst, recursively. It
// returns 0, or -1 with errno set and e->what naming the failing step.
int copyup_tree(int src, int dst, struct copyup_err *e);

// copyup_tree_at is copyup_tree at a depth; it takes src over (closes it).
int copyup_tree_at(int src, int dst, int depth, struct copyup_err *e);

#endif
