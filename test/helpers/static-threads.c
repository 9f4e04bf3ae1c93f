/* A well-behaved program that starts threads and a child process: the
 * compartment must let it run (threads and fork within the limit). */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void *
work(void *arg)
{
	long *n = arg;

	*n *= 2;
	return NULL;
}

int
main(void)
{
	pthread_t t[4];
	long v[4] = { 1, 2, 3, 4 }, sum = 0;
	int i, st;
	pid_t pid;

	for (i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, work, &v[i]) != 0)
			return 1;
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		sum += v[i];
	}
	if ((pid = fork()) < 0)
		return 1;
	if (pid == 0)
		_exit(7);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 7)
		return 1;
	printf("%ld\n", sum);
	return 0;
}
