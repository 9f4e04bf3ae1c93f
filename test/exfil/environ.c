/* Read secrets from the environment. */
#include "exfil.h"

extern char **environ;

int
main(void)
{
	char **e;

	for (e = environ; e && *e; e++)
		printf("%s\n", *e);
	if (environ && environ[0])
		escaped("environment");
	errno = ENOENT;
	blocked("empty environment");
}
