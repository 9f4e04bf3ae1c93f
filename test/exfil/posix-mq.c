/* POSIX message queues (a file system of their own). */
#include <fcntl.h>
#include <sys/syscall.h>
#include "exfil.h"

int
main(void)
{
	if (syscall(SYS_mq_open, "ti-exfil", O_CREAT | O_WRONLY, 0666,
	    NULL) < 0)
		blocked("mq_open");
	escaped("posix mq");
}
