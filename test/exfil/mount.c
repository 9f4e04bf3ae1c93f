/* Mount a file system to reach host files or make writable space. */
#include <sys/mount.h>
#include "exfil.h"

int
main(void)
{
	if (mount("none", "/", "tmpfs", 0, NULL) != 0)
		blocked("mount");
	escaped("mount");
}
