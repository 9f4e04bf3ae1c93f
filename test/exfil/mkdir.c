/* Signal through the file system by creating a directory. */
#include <sys/stat.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	if (mkdir(arg(argc, argv, 1), 0777) != 0)
		blocked("mkdir");
	escaped("mkdir");
}
