/* Never finish: hold the CPU forever. */
#include "exfil.h"

int
main(void)
{
	volatile unsigned long n = 0;

	for (;;)
		n++;
}
