#ifndef TI_ERR_H
#define TI_ERR_H

#include <stddef.h>

/*
 * An error as a library function reports it: an exit code from exitcode.h
 * and a one-line message without the program name. Library functions
 * return -1 (or NULL) after filling one; main decides what to do.
 */
struct err {
	int code;
	char msg[512];
};

/* Fill e (if not NULL) with code and a formatted message; returns -1. */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As err_set, appending ": strerror(errno)" (errno is read first). */
int err_errno(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "prefix: old message"; returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
