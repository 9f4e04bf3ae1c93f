/* Push characters into the controlling terminal's input. */
#include <sys/ioctl.h>
#include "exfil.h"

int
main(void)
{
	char c = 'x';
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (ioctl(fd, TIOCSTI, &c) == 0)
			escaped("TIOCSTI");
	blocked("ioctl(TIOCSTI)");
}
