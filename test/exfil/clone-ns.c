/* The same through clone with namespace flags. */
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include "exfil.h"

int
main(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL,
	    NULL, 0);

	if (pid < 0)
		blocked("clone");
	if (pid == 0)
		_exit(0);
	escaped("clone(CLONE_NEWUSER)");
}
