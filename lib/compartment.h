#ifndef TI_COMPARTMENT_H
#define TI_COMPARTMENT_H

#include <stddef.h>

#include "err.h"

/*
 * A compartment runs either a function (forked, not exec'd: it may use
 * malloc and libjq) or an executable, with nothing but the file
 * descriptors it is given: no network, no file opens or writes, no exec,
 * no ptrace, bounded memory, CPU, processes and wall time. A blocked
 * action ends the run and is reported as a violation naming what was
 * attempted. docs/compartment.md says what each backend enforces.
 *
 * A function runs in a copy of the caller's address space: whatever the
 * caller holds in memory when it calls compartment_start, the function
 * can read. Start program compartments before loading keys. The caller
 * must not ignore SIGCHLD nor reap children it did not start, and must
 * have no other thread running when it calls compartment_start (the
 * compartment's init is cloned like fork, without fork's lock handling).
 * A compartment dies with the thread that started it.
 */

enum compartment_profile {
	COMPARTMENT_SEALER,	/* fn only: its fds, memory, no open/exec/net */
	COMPARTMENT_PROGRAM,	/* the integration process: jq fn or exec */
};

#define COMPARTMENT_MAXFDS 32

struct compartment_opts {
	int profile;		/* enum compartment_profile */
	const char *backend;	/* "linux" (NULL: the default, "linux") */
	/* fds[i] becomes fd i in the compartment; -1 gives /dev/null. */
	int fds[COMPARTMENT_MAXFDS];
	size_t nfds;
	/* Either a function, run in a forked child; its return value is
	 * the exit status (the child calls _exit; fn must not call exit). */
	int (*fn)(void *arg);
	void *arg;
	/* Or an executable (absolute path or relative to the cwd), run with
	 * argv exec_argv (NULL: { exec_path, NULL }) and an empty environment. */
	const char *exec_path;
	char *const *exec_argv;
	unsigned long timeout_ms;	/* wall time; 0: none */
	unsigned long long memory_bytes;/* private writable memory; 0: 1 GiB */
	unsigned long cpu_seconds;	/* 0: none */
	unsigned long max_procs;	/* processes and threads an exec'd
					 * program may create; 0: 16 (fn: none) */
	unsigned long long file_bytes;	/* RLIMIT_FSIZE for inherited
					 * regular files; 0: no writes to them */
};

struct compartment_result {
	int exited;		/* 1: exited with status; 0: killed by signal */
	int status;		/* exit status, or the signal number */
	int violation;		/* 1: a blocked action ended the run */
	char what[128];		/* e.g. "socket(AF_INET)", "execve(/bin/sh)" */
	int limit;		/* 1: a resource limit ended the run */
	char limit_what[64];	/* "wall time", "memory", "cpu", "processes" */
};

struct compartment;

/* Initialise o with defaults: PROGRAM profile, "linux", fds 0, 1, 2. */
void compartment_opts_init(struct compartment_opts *o);

/*
 * Start a compartment as o describes (o and what it points to are only
 * read during the call). On success *c is set and the compartment is
 * being set up; it does not wait for the function or executable to run,
 * so several compartments start in parallel. Fails with EXIT_USAGE for
 * bad options or executables, EXIT_IO when the kernel lacks what the
 * backend needs (Landlock, user namespaces), leaving *c NULL.
 */
int compartment_start(const struct compartment_opts *o,
    struct compartment **c, struct err *e);

/*
 * Wait for the compartment to end and fill r. Returns -1 (EXIT_IO) if it
 * could not be set up (e.g. an executable its uid cannot reach, no
 * seccomp), then r says killed.
 */
int compartment_wait(struct compartment *c, struct compartment_result *r,
    struct err *e);

/* Kill everything in the compartment now (a later wait reports it). */
void compartment_kill(struct compartment *c);

/* Release c, killing the compartment if it still runs; NULL does nothing. */
void compartment_free(struct compartment *c);

/*
 * Map a result to a ti exit code and a one-line message in msg (without
 * the program name): 0 for exit status 0, EXIT_VIOLATION
 * ("compartment violation: socket(AF_INET)"), EXIT_LIMIT ("resource
 * limit: wall time"), else EXIT_PROGRAM ("program exited with status 3",
 * "program killed by signal 11").
 */
int compartment_exitcode(const struct compartment_result *r, char *msg,
    size_t msglen);

#endif
