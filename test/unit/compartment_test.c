/* The compartment API from C: functions, fds, results, kill, exit codes. */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "compartment.h"
#include "exitcode.h"
#include "tap.h"

static int
echo_fd3(void *arg)
{
	char buf[64];
	ssize_t n;

	(void)arg;
	n = read(3, buf, sizeof(buf));
	if (n <= 0)
		return 3;
	return write(1, buf, (size_t)n) == n ? 0 : 4;
}

static int
status_of(void *arg)
{
	return *(int *)arg;
}

static int
heap_work(void *arg)
{
	char *p;
	size_t i;

	(void)arg;
	/* malloc inside the compartment (brk/mmap are on the list). */
	for (i = 0; i < 1000; i++) {
		if ((p = malloc(4096 + i)) == NULL)
			return 1;
		memset(p, 0, 4096 + i);
		free(p);
	}
	return 0;
}

static int
sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static int
sneaky(void *arg)
{
	(void)arg;
	if (socket(AF_INET6, SOCK_DGRAM, 0) >= 0)
		return 0;
	return 1;
}

static int
run(struct compartment_opts *o, struct compartment_result *r)
{
	struct compartment *c;
	struct err e;

	if (compartment_start(o, &c, &e) != 0) {
		printf("# start: %s\n", e.msg);
		return -1;
	}
	if (compartment_wait(c, r, &e) != 0) {
		compartment_free(c);
		return -1;
	}
	compartment_free(c);
	return 0;
}

int
main(void)
{
	struct compartment_opts o;
	struct compartment_result r;
	struct compartment *c = NULL;
	struct err e;
	char msg[200], buf[64];
	int in[2], out[2], st = 42;
	ssize_t n;

	compartment_opts_init(&o);
	ok(o.profile == COMPARTMENT_PROGRAM && o.nfds == 3 && o.fds[2] == 2,
	    "opts_init: program profile with stdio");

	/* fds: a pipe as fd 3, another as stdout. */
	if (pipe(in) != 0 || pipe(out) != 0)
		return 1;
	if (write(in[1], "ping", 4) != 4)
		return 1;
	close(in[1]);
	compartment_opts_init(&o);
	o.fds[0] = -1;
	o.fds[1] = out[1];
	o.fds[3] = in[0];
	o.nfds = 4;
	o.fn = echo_fd3;
	ok(run(&o, &r) == 0 && r.exited && r.status == 0, "fn reads fd 3");
	close(out[1]);
	close(in[0]);
	n = read(out[0], buf, sizeof(buf));
	ok(n == 4 && memcmp(buf, "ping", 4) == 0, "its stdout is the pipe");
	ok(read(out[0], buf, sizeof(buf)) == 0,
	    "the pipe ends when the compartment does (no copies kept)");
	close(out[0]);

	compartment_opts_init(&o);
	o.fn = status_of;
	o.arg = &st;
	ok(run(&o, &r) == 0 && r.exited && r.status == 42 && !r.violation &&
	    !r.limit, "the function's return value is the exit status");
	ok(compartment_exitcode(&r, msg, sizeof(msg)) == EXIT_PROGRAM &&
	    strcmp(msg, "program exited with status 42") == 0,
	    "exitcode: program failure");

	compartment_opts_init(&o);
	o.fn = heap_work;
	o.profile = COMPARTMENT_SEALER;
	ok(run(&o, &r) == 0 && r.exited && r.status == 0,
	    "malloc works in the sealer profile");
	ok(compartment_exitcode(&r, msg, sizeof(msg)) == EXIT_OK &&
	    msg[0] == '\0', "exitcode: success");

	compartment_opts_init(&o);
	o.fn = sneaky;
	ok(run(&o, &r) == 0 && r.violation &&
	    strcmp(r.what, "socket(AF_INET6)") == 0, "a socket is a violation");
	ok(compartment_exitcode(&r, msg, sizeof(msg)) == EXIT_VIOLATION &&
	    strcmp(msg, "compartment violation: socket(AF_INET6)") == 0,
	    "exitcode: violation");

	compartment_opts_init(&o);
	o.fn = sleeper;
	o.timeout_ms = 100;
	ok(run(&o, &r) == 0 && r.limit &&
	    strcmp(r.limit_what, "wall time") == 0, "wall-clock limit");
	ok(compartment_exitcode(&r, msg, sizeof(msg)) == EXIT_LIMIT &&
	    strcmp(msg, "resource limit: wall time") == 0, "exitcode: limit");

	compartment_opts_init(&o);
	o.fn = sleeper;
	ok(compartment_start(&o, &c, &e) == 0, "start a sleeper");
	compartment_kill(c);
	ok(compartment_wait(c, &r, &e) == 0 && !r.exited &&
	    r.status == SIGKILL && !r.violation && !r.limit,
	    "kill: the compartment ends by SIGKILL");
	ok(compartment_wait(c, &r, &e) == 0 && r.status == SIGKILL,
	    "wait again returns the same result");
	compartment_free(c);

	compartment_opts_init(&o);
	o.fn = sleeper;
	ok(compartment_start(&o, &c, &e) == 0, "start another sleeper");
	compartment_free(c);
	ok(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "free kills and reaps a running compartment");
	compartment_free(NULL);

	compartment_opts_init(&o);
	o.backend = "nonesuch";
	o.fn = sleeper;
	ok(compartment_start(&o, &c, &e) == -1 && e.code == EXIT_USAGE &&
	    c == NULL, "an unknown backend is a usage error");
	compartment_opts_init(&o);
	ok(compartment_start(&o, &c, &e) == -1 && e.code == EXIT_USAGE,
	    "neither fn nor executable is a usage error");
	compartment_opts_init(&o);
	o.fn = sleeper;
	o.exec_path = "/bin/true";
	ok(compartment_start(&o, &c, &e) == -1 && e.code == EXIT_USAGE,
	    "both fn and executable is a usage error");
	compartment_opts_init(&o);
	o.exec_path = "/nonexistent/program";
	ok(compartment_start(&o, &c, &e) == -1 && e.code == EXIT_USAGE &&
	    strstr(e.msg, "/nonexistent/program") != NULL,
	    "a missing executable is named");
	compartment_opts_init(&o);
	o.exec_path = "/bin/true";
	o.nfds = COMPARTMENT_MAXFDS + 1;
	ok(compartment_start(&o, &c, &e) == -1 && e.code == EXIT_USAGE,
	    "too many fds is a usage error");

	compartment_opts_init(&o);
	o.exec_path = "/bin/true";
	o.fds[1] = -1;
	ok(run(&o, &r) == 0 && r.exited && r.status == 0, "exec /bin/true");
	return tap_done();
}
