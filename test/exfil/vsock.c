/* Reach the hypervisor host over vsock (CID 2). */
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include "exfil.h"

int
main(void)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK };
	int fd;

	sa.svm_cid = VMADDR_CID_HOST;
	sa.svm_port = 5000;
	if ((fd = socket(AF_VSOCK, SOCK_STREAM, 0)) < 0)
		blocked("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		blocked("connect");
	escaped("vsock");
}
