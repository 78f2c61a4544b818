/*
 * nnp: installed set-user-id root in the nonewprivs image. critest runs it
 * as uid 1000 and reads its output: "Effective uid: 0" when the exec could
 * raise privileges, "Effective uid: 1000" when no_new_privs kept them.
 * Built static at run time by scripts/critest/images.sh.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("Effective uid: %d\n", (int)geteuid());
	return 0;
}
