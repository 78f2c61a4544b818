// chooks.c with its exits caught (harness.h), and ways in to its pure
// parts: a hooks message rendered as the argv and envp each hook gets, and
// the texts of a wait status and of a hook's output.
#include "harness.h"
#include <stdio.h>
#include <string.h>
#define _exit ctest_exit
#include "../chooks.c"
#undef _exit

static size_t put_list(char *out, size_t o, size_t size, const char *what, char **list)
{
	o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s", what);
	for (int i = 0; list != NULL && list[i] != NULL; i++)
		o += (size_t)snprintf(out + o, o < size ? size - o : 0, " [%s]", list[i]);
	return o + (size_t)snprintf(out + o, o < size ? size - o : 0, "\n");
}

// ctest_hooks renders each hook of msg as "hook <name> path <p> timeout
// <t>", "argv [a] [b]", "envp [x]"; penv (NULL-terminated, may be NULL) is
// the process's environment. -1 with the error.
int ctest_hooks(char *msg, size_t len, char **penv, char *out, size_t size)
{
	struct chook *h;
	size_t o = 0;
	int n;

	if (chooks_parse(msg, len, penv, &h, &n, out, size) < 0)
		return -1;
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		o += (size_t)snprintf(out + o, o < size ? size - o : 0, "hook %s path %s timeout %u\n", h[i].name,
				      h[i].path, h[i].timeout);
		o = put_list(out, o, size, "argv", h[i].argv);
		o = put_list(out, o, size, "envp", h[i].envp);
	}
	chooks_free(h, n);
	return 0;
}
