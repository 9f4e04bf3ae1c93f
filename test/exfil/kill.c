/* Signal processes outside: every process (-1), and a host pid. */
#include <signal.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	int a = kill(-1, SIGTERM);
	int b = argc > 1 ? kill(atoi(argv[1]), SIGTERM) : -1;

	if (a == 0 || b == 0)
		escaped("kill");
	blocked("kill");
}
