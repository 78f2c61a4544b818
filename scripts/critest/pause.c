/*
 * pause: the sandbox (infra) process of the critest pods. It holds the pod's
 * namespaces open and does nothing else: it reaps the children it inherits
 * as pid 1 of a shared pid namespace, and exits on SIGINT or SIGTERM so that
 * StopPodSandbox does not wait for the kill timeout. Built static at run time
 * by scripts/critest/images.sh; no binary is committed.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_child(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction stop = { .sa_handler = on_stop };
	struct sigaction child = { .sa_handler = on_child, .sa_flags = SA_NOCLDSTOP };

	if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0 ||
	    sigaction(SIGCHLD, &child, NULL) < 0)
		return 1;
	for (;;)
		pause();
}
