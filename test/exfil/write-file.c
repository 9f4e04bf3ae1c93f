/* Create and write a file at a host path (/tmp, /dev/shm, a 0777 dir). */
#include <fcntl.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	int fd;

	fd = open(arg(argc, argv, 1), O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0)
		blocked("open");
	if (write(fd, secret, sizeof(secret) - 1) < 0)
		blocked("write");
	escaped("file write");
}
