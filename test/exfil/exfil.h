/*
 * Shared by the hostile programs of the exfiltration battery. Each
 * program tries one way out of a compartment. It prints "ESCAPED ..." and
 * exits 0 only if the attempt worked; otherwise it says why on stderr and
 * exits 1 (when the compartment lets it get that far).
 */
#ifndef EXFIL_H
#define EXFIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char secret[] = "TI-EXFIL-SECRET-5d1c";

static void
escaped(const char *how)
{
	printf("ESCAPED %s\n", how);
	fflush(stdout);
	exit(0);
}

static void
blocked(const char *how)
{
	fprintf(stderr, "blocked: %s: %s\n", how, strerror(errno));
	exit(1);
}

static const char *
arg(int argc, char **argv, int i)
{
	if (i >= argc) {
		fprintf(stderr, "missing argument %d\n", i);
		exit(2);
	}
	return argv[i];
}

#endif
