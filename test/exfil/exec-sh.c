/* Run a shell: everything else becomes easy. */
#include "exfil.h"

int
main(void)
{
	execl("/bin/sh", "sh", "-c", "echo ESCAPED shell", (char *)NULL);
	blocked("execl");
}
