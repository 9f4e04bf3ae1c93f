/* Read another process's memory and environment through /proc. */
#include <fcntl.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/environ", arg(argc, argv, 1));
	if ((fd = open(path, O_RDONLY)) < 0) {
		snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
		if ((fd = open(path, O_RDONLY)) < 0)
			blocked("open");
	}
	if ((n = read(fd, buf, sizeof(buf))) <= 0)
		blocked("read");
	escaped("proc");
}
