/* Attach to the parent (the reaper) or a host pid given as argument. */
#include <sys/ptrace.h>
#include "exfil.h"

int
main(int argc, char **argv)
{
	pid_t pid = argc > 1 ? atoi(argv[1]) : getppid();

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) != 0)
		blocked("ptrace");
	escaped("ptrace");
}
