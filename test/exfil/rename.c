/* Signal through the file system by renaming a host file. */
#include <stdio.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	if (rename(arg(argc, argv, 1), arg(argc, argv, 2)) != 0)
		blocked("rename");
	escaped("rename");
}
