#ifndef TI_PASSPHRASE_H
#define TI_PASSPHRASE_H

#include <stddef.h>

#include "err.h"

/* Longest passphrase accepted, NUL included. */
#define PASSPHRASE_MAX 1024

/*
 * Read a passphrase from the controlling terminal (/dev/tty) with echo
 * off, after prompt; with confirm, ask twice and require the same. Into
 * buf (cap bytes, NUL-terminated; the caller wipes it). 0, or -1: no
 * terminal is EXIT_USAGE, an empty or mismatched passphrase EXIT_DATA.
 */
int passphrase_tty(const char *prompt, int confirm, char *buf, size_t cap,
    struct err *e);

/*
 * The first line of a passphrase file ("-": stdin) into buf, without its
 * line end. Refused when readable by group or others (keyfile_read).
 */
int passphrase_file(const char *path, char *buf, size_t cap, struct err *e);

#endif
