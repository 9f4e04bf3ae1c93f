/*
 * compartment-run: run a program, or a built-in function, inside a
 * compartment and report how it ended, as ti-run would.
 *
 *   compartment-run [OPTIONS] [--] PROGRAM [ARG...]
 *   compartment-run [OPTIONS] --fn NAME [ARG]
 *
 * Exit status: the program's 0, else 6 (violation), 10 (limit), 9
 * (program failed), 4 (could not start), 2 (usage).
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jq.h>

#include "compartment.h"
#include "die.h"
#include "io.h"

const char *PROG = "compartment-run";

#define USAGE "usage: compartment-run [--profile sealer|program] " \
    "[--timeout MS] [--memory BYTES] [--cpu SECONDS] [--procs N] " \
    "[--fsize BYTES] [--leak-fd FILE] [--fd N] " \
    "(--fn NAME [ARG] | [--] PROGRAM [ARG...])\n"

static int
fn_hello(void *arg)
{
	(void)arg;
	return writeall(1, "hello from a function\n", 22) == 0 ? 0 : 1;
}

/* A jq filter over one JSON value on stdin, as `jq -c` would print it. */
static int
fn_jq(void *arg)
{
	const char *prog = arg;
	char buf[65536];
	ssize_t n;
	jq_state *jq;
	jv_parser *p;
	jv v, out;
	int rc = 0;

	if ((jq = jq_init()) == NULL)
		return 5;
	/* No module search path: import and include find nothing. */
	jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
	if (!jq_compile(jq, prog)) {
		jq_teardown(&jq);
		return 3;
	}
	p = jv_parser_new(0);
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		jv_parser_set_buf(p, buf, (int)n, 1);
		while (jv_is_valid(v = jv_parser_next(p))) {
			jq_start(jq, v, 0);
			while (jv_is_valid(out = jq_next(jq))) {
				jv s = jv_dump_string(out, 0);
				const char *t = jv_string_value(s);
				if (writeall(1, t, strlen(t)) != 0 ||
				    writeall(1, "\n", 1) != 0)
					rc = 4;
				jv_free(s);
			}
			jv_free(out);
		}
		jv_free(v);
	}
	jv_parser_free(p);
	jq_teardown(&jq);
	return rc;
}

static int
fn_socket(void *arg)
{
	(void)arg;
	return socket(AF_INET, SOCK_STREAM, 0) < 0 ? 1 : 0;
}

static int
fn_open(void *arg)
{
	const char *path = arg ? arg : "/etc/passwd";

	return open(path, O_RDONLY) < 0 ? 1 : 0;
}

static int
fn_exec(void *arg)
{
	char *const argv[] = { "sh", NULL };

	(void)arg;
	execv("/bin/sh", argv);
	return 1;
}

static int
fn_fork(void *arg)
{
	(void)arg;
	return fork() < 0 ? 1 : 0;
}

static int
fn_malloc(void *arg)
{
	size_t total = 0, step = 1 << 20;
	char *p;

	(void)arg;
	for (;;) {
		if ((p = malloc(step)) == NULL)
			return 1;
		memset(p, 1, step);
		total += step;
		if (total > (64UL << 30))
			return 0;
	}
}

static int
fn_spin(void *arg)
{
	volatile unsigned long i = 0;

	(void)arg;
	for (;;)
		i++;
	return 0;
}

static int
fn_write(void *arg)
{
	const char *s = arg ? arg : "";

	return writeall(1, s, strlen(s)) == 0 ? 0 : 1;
}

/* Copy fd N (the argument, default 3) to stdout. */
static int
fn_catfd(void *arg)
{
	char buf[4096];
	ssize_t n;
	int fd = arg ? atoi(arg) : 3;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (writeall(1, buf, (size_t)n) != 0)
			return 1;
	return n == 0 ? 0 : 1;
}

static const struct {
	const char *name;
	int (*fn)(void *);
} fns[] = {
	{ "hello", fn_hello }, { "jq", fn_jq }, { "socket", fn_socket },
	{ "open", fn_open }, { "exec", fn_exec }, { "fork", fn_fork },
	{ "malloc", fn_malloc }, { "spin", fn_spin }, { "write", fn_write },
	{ "catfd", fn_catfd },
};

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "procs", required_argument, NULL, 'n' },
		{ "fsize", required_argument, NULL, 'z' },
		{ "leak-fd", required_argument, NULL, 'l' },
		{ "fd", required_argument, NULL, 'f' },
		{ "fn", required_argument, NULL, 'F' },
		{ "backend", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct compartment_opts o;
	struct compartment_result r;
	struct compartment *c;
	struct err e;
	const char *fname = NULL;
	char msg[256];
	size_t i;
	int ch, rc;

	compartment_opts_init(&o);
	while ((ch = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (strcmp(optarg, "sealer") == 0)
				o.profile = COMPARTMENT_SEALER;
			else if (strcmp(optarg, "program") == 0)
				o.profile = COMPARTMENT_PROGRAM;
			else
				die_usage(USAGE, "bad profile: %s", optarg);
			break;
		case 't': o.timeout_ms = strtoul(optarg, NULL, 10); break;
		case 'm': o.memory_bytes = strtoull(optarg, NULL, 10); break;
		case 'c': o.cpu_seconds = strtoul(optarg, NULL, 10); break;
		case 'n': o.max_procs = strtoul(optarg, NULL, 10); break;
		case 'z': o.file_bytes = strtoull(optarg, NULL, 10); break;
		case 'b': o.backend = optarg; break;
		case 'l':
			/* Deliberately inheritable: the compartment must not see it. */
			if (open(optarg, O_RDONLY) < 0)
				die_errno(EXIT_IO, "%s", optarg);
			break;
		case 'f':
			if (o.nfds == COMPARTMENT_MAXFDS)
				die_usage(USAGE, "too many --fd");
			o.fds[o.nfds++] = atoi(optarg);
			break;
		case 'F': fname = optarg; break;
		case 'h': fputs(USAGE, stdout); return 0;
		default: die_usage(USAGE, "unknown option");
		}
	}
	if (fname != NULL) {
		for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
			if (strcmp(fns[i].name, fname) == 0)
				o.fn = fns[i].fn;
		if (o.fn == NULL)
			die_usage(USAGE, "unknown function: %s", fname);
		o.arg = optind < argc ? argv[optind] : NULL;
	} else {
		if (optind >= argc)
			die_usage(USAGE, "no program");
		o.exec_path = argv[optind];
		o.exec_argv = argv + optind;
	}
	if (compartment_start(&o, &c, &e) != 0)
		die_err(&e);
	if (compartment_wait(c, &r, &e) != 0) {
		compartment_free(c);
		die_err(&e);
	}
	compartment_free(c);
	rc = compartment_exitcode(&r, msg, sizeof(msg));
	if (rc != 0)
		warn("%s", msg);
	return rc;
}
