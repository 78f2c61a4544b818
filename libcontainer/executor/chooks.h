// The OCI hooks that run in the container, executed in C (chooks.c):
// createContainer hooks from a rootfs program (crootfs.c), startContainer
// hooks from a plan (cinit.c), and both for the Go inits through
// executor.RunHooks. Go renders every hook (wire.Hooks) and the state they
// read; C only runs them.
#ifndef BERTH_CHOOKS_H
#define BERTH_CHOOKS_H

#include <stddef.h>
#include <stdint.h>

// chook is one hook of a hooks message: pointers into the message, argv
// and envp NULL-terminated (allocated, chooks_free frees them).
struct chook {
	const char *path, *name;
	uint32_t timeout, flags;
	char **argv, **envp;
	int own_env; // envp was allocated here (not the caller's penv)
};

// chooks_parse checks msg against the schema and returns its hooks in *out
// (*n of them): 0, or -1 with the reason in err. A hook without env and
// with HOOK_FLAG_PROCESS_ENV gets penv; else an empty environment.
int chooks_parse(char *msg, size_t len, char *const *penv, struct chook **out, int *n, char *err,
		 size_t size);
void chooks_free(struct chook *h, int n);

// chooks_status_text renders a wait status as Go's os.ProcessState does
// ("exit status 3", "signal: killed (core dumped)"), so that a failing hook
// reads the same whichever language waited for it.
void chooks_status_text(int status, char *out, size_t size);

// chooks_output_text appends to err what a failed hook printed, as the Go
// runner did: ": " and the output without surrounding white space, cut at
// 200 bytes with "..."; nothing when it printed nothing.
void chooks_output_text(const char *out, size_t len, char *err, size_t size);

// chooks_run runs the hooks of msg in order, each with state on stdin and
// its output captured, in cwd (NULL: this process's), stopping at the
// first failure: 0, or -1 with "<name>: <why>" in err.
int chooks_run(char *msg, size_t len, const char *state, size_t slen, const char *cwd, char *const *penv,
	       char *err, size_t size);

// For the C init (these report failures as steps, berth_step, and exit):
// chooks_recv_state reads the hookstate packet the parent sends after
// hooks-done; chooks_create and chooks_start run createContainer hooks
// (cwd: the container's root) and startContainer hooks (penv: the
// process's environment) with the state it carried.
void chooks_recv_state(void);
void chooks_create(char *msg, size_t len, const char *root);
void chooks_start(char *msg, size_t len, char *const *penv);

#endif
