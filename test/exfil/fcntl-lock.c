/* A POSIX record lock on an inherited host file, as a one-bit channel. */
#include <fcntl.h>
#include "exfil.h"

int
main(void)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };

	if (fcntl(0, F_SETLK, &fl) != 0)
		blocked("fcntl(F_SETLK)");
	escaped("fcntl lock");
}
