/* Talk to the kernel over netlink (routes, interfaces, audit...). */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include "exfil.h"

int
main(void)
{
	struct { struct nlmsghdr h; struct rtgenmsg g; } req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd;

	if ((fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)) < 0)
		blocked("socket");
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.g.rtgen_family = AF_UNSPEC;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0)
		blocked("sendto");
	escaped("netlink");
}
