/* SysV shared memory, readable by anyone in the same IPC namespace. */
#include <sys/ipc.h>
#include <sys/shm.h>
#include "exfil.h"

int
main(void)
{
	int id;
	char *p;

	if ((id = shmget(0x7469, 4096, IPC_CREAT | 0666)) < 0)
		blocked("shmget");
	if ((p = shmat(id, NULL, 0)) == (void *)-1)
		blocked("shmat");
	memcpy(p, secret, sizeof(secret));
	escaped("sysv shm");
}
