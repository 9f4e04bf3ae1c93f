/* Use the i386 system call ABI, which an x86-64 filter may not check. */
#include "exfil.h"

int
main(void)
{
#if defined(__x86_64__)
	long ret;

	/* i386 getpid is 20; an unchecked filter would let it run. */
	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	if (ret > 0)
		escaped("i386 system call");
#endif
	errno = ENOSYS;
	blocked("int 0x80");
}
