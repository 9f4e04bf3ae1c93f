/* Use the x32 system call numbering, which an x86-64 filter may miss. */
#include <sys/syscall.h>
#include "exfil.h"

int
main(void)
{
#if defined(__x86_64__)
	/* x32's socket(AF_INET, SOCK_STREAM, 0): nr | __X32_SYSCALL_BIT. */
	long fd = syscall(0x40000000L | SYS_socket, 2, 1, 0);

	if (fd >= 0)
		escaped("x32 socket");
#endif
	errno = ENOSYS;
	blocked("x32 system call");
}
