/* Connect to a unix socket listening at a host path. */
#include <sys/socket.h>
#include <sys/un.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", arg(argc, argv, 1));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		blocked("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		blocked("connect");
	if (write(fd, secret, sizeof(secret) - 1) < 0)
		blocked("write");
	escaped("unix path socket");
}
