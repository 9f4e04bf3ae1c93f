/* SysV message queues. */
#include <sys/ipc.h>
#include <sys/msg.h>
#include "exfil.h"

int
main(void)
{
	struct { long type; char text[64]; } m = { 1, "" };
	int id;

	if ((id = msgget(0x7469, IPC_CREAT | 0666)) < 0)
		blocked("msgget");
	memcpy(m.text, secret, sizeof(secret));
	if (msgsnd(id, &m, sizeof(secret), 0) < 0)
		blocked("msgsnd");
	escaped("sysv msg");
}
