/* Send the secret to a TCP listener on loopback. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	sa.sin_port = htons((unsigned short)atoi(arg(argc, argv, 1)));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		blocked("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		blocked("connect");
	if (write(fd, secret, sizeof(secret) - 1) < 0)
		blocked("write");
	escaped("tcp");
}
