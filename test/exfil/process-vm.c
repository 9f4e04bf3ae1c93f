/* Read a host process's memory with process_vm_readv. */
#include <sys/uio.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	char buf[64];
	struct iovec l = { buf, sizeof(buf) }, r = { (void *)0x400000, 64 };

	if (process_vm_readv(atoi(arg(argc, argv, 1)), &l, 1, &r, 1, 0) < 0)
		blocked("process_vm_readv");
	escaped("process_vm_readv");
}
