/* Connect to an abstract unix socket (no file system object to block). */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *name = arg(argc, argv, 1);
	size_t n = strlen(name);
	int fd;

	if (n + 1 > sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path + 1, name, n);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		blocked("socket");
	if (connect(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0)
		blocked("connect");
	if (write(fd, secret, sizeof(secret) - 1) < 0)
		blocked("write");
	escaped("abstract unix socket");
}
