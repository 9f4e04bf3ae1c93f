/* The kernel keyring is shared beyond namespaces. */
#include <sys/syscall.h>
#include "exfil.h"

int
main(void)
{
	if (syscall(SYS_add_key, "user", "ti-exfil", secret,
	    sizeof(secret) - 1, -4 /* KEY_SPEC_USER_KEYRING */) < 0)
		blocked("add_key");
	escaped("keyring");
}
