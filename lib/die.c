#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"

static void
vmsg(const char *fmt, va_list ap, int errnum)
{
	fprintf(stderr, "%s: ", PROG);
	vfprintf(stderr, fmt, ap);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	exit(code);
}

void
die_errno(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, saved);
	va_end(ap);
	exit(code);
}

void
die_err(const struct err *e)
{
	fprintf(stderr, "%s: %s\n", PROG, e->msg[0] ? e->msg : "unknown error");
	exit(e->code ? e->code : EXIT_IO);
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void
die_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	fputs(usage, stderr);
	exit(EXIT_USAGE);
}

void
close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		die_errno(EXIT_IO, "error writing output");
	if (fclose(stdout) != 0)
		die_errno(EXIT_IO, "error writing output");
}
