/* Write the secret into a FIFO the host reads. */
#include <fcntl.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	int fd;

	if ((fd = open(arg(argc, argv, 1), O_WRONLY | O_NONBLOCK)) < 0)
		blocked("open");
	if (write(fd, secret, sizeof(secret) - 1) < 0)
		blocked("write");
	escaped("fifo");
}
