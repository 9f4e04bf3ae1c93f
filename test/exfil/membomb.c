/* Take all the memory there is. */
#include "exfil.h"

int
main(void)
{
	size_t step = 16 << 20;
	char *p;

	for (;;) {
		if ((p = malloc(step)) == NULL)
			abort();
		memset(p, 0x5a, step);
	}
}
