/* A new user namespace gives back every capability inside it. */
#include <sched.h>
#include "exfil.h"

int
main(void)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
		blocked("unshare");
	escaped("unshare");
}
