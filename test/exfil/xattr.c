/* Write the secret into an extended attribute of an inherited file. */
#include <sys/xattr.h>
#include "exfil.h"

int
main(void)
{
	if (fsetxattr(0, "user.ti", secret, sizeof(secret) - 1, 0) != 0)
		blocked("fsetxattr");
	escaped("xattr");
}
