/* Build an executable in memory and run it with fexecve. */
#include <sys/mman.h>
#include "exfil.h"

int
main(void)
{
	static const char script[] = "#!/bin/sh\necho ESCAPED memfd\n";
	char *const argv[] = { "x", NULL }, *const envp[] = { NULL };
	int fd;

	if ((fd = memfd_create("x", 0)) < 0)
		blocked("memfd_create");
	if (write(fd, script, sizeof(script) - 1) < 0)
		blocked("write");
	fexecve(fd, argv, envp);
	blocked("fexecve");
}
