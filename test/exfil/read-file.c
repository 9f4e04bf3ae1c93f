/* Read a host file (/etc/passwd, a 0600 secret) into the output. */
#include <fcntl.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	char buf[256];
	ssize_t n;
	int fd;

	if ((fd = open(arg(argc, argv, 1), O_RDONLY)) < 0)
		blocked("open");
	if ((n = read(fd, buf, sizeof(buf) - 1)) < 0)
		blocked("read");
	buf[n] = '\0';
	printf("%s\n", buf);
	escaped("read host file");
}
