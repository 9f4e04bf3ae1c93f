#ifndef TI_DIE_H
#define TI_DIE_H

#include <stdnoreturn.h>

#include "err.h"
#include "exitcode.h"

/* The program name for diagnostics; each main.c defines it once. */
extern const char *PROG;

/* Print "PROG: message" on stderr and exit with code. */
noreturn void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* As die, appending ": strerror(errno)" (errno saved first). */
noreturn void die_errno(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print e's message and exit with e's code (EXIT_IO if it has none). */
noreturn void die_err(const struct err *e);

/* Print "PROG: message" on stderr and return. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "PROG: usage error" and the usage text to stderr, exit 2. */
noreturn void die_usage(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* jq's out: block: check stdout for errors and close it; die with EXIT_IO. */
void close_stdout(void);

#endif
