/* Lock an inherited host file: another process can see the lock. */
#include <sys/file.h>
#include "exfil.h"

int
main(void)
{
	if (flock(0, LOCK_SH | LOCK_NB) != 0)
		blocked("flock");
	escaped("flock");
}
