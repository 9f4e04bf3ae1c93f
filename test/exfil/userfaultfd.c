/* userfaultfd: stall the kernel at will (and widen races). */
#include <sys/syscall.h>
#include "exfil.h"

int
main(void)
{
	if (syscall(SYS_userfaultfd, 0) < 0)
		blocked("userfaultfd");
	escaped("userfaultfd");
}
