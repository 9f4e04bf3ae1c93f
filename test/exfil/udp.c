/* Send the secret in a UDP datagram to a loopback listener. */
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
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		blocked("socket");
	if (sendto(fd, secret, sizeof(secret) - 1, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0)
		blocked("sendto");
	escaped("udp");
}
