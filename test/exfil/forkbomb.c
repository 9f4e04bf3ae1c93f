/* Create processes without end. */
#include "exfil.h"

int
main(void)
{
	for (;;)
		if (fork() < 0)
			sleep(1);
}
