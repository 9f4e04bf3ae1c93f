#ifndef TI_KEYFILE_H
#define TI_KEYFILE_H

#include <stddef.h>

#include "err.h"

/* Largest key file read (age identity files with comments, PEM chains). */
#define KEYFILE_MAX (1024 * 1024)

/* Wipe n bytes at p in a way the compiler keeps (OPENSSL_cleanse). */
void wipe(void *p, size_t n);

/*
 * Read a secret key file ("-": stdin) into a new buffer, NUL-terminated.
 * A regular file readable or writable by group or others is refused
 * (EXIT_NO: "key.txt: permissions 0644 are too open; chmod 600 it").
 * Release with keyfile_free.
 */
int keyfile_read(const char *path, unsigned char **buf, size_t *len,
    struct err *e);

/* Wipe and free a buffer from keyfile_read; NULL does nothing. */
void keyfile_free(unsigned char *buf, size_t len);

/*
 * Create path with mode 0600 (O_EXCL|O_NOFOLLOW: never overwrite) and write
 * n bytes, fsync'd; "-" or NULL writes to stdout. 0, or -1 with nothing
 * left behind.
 */
int keyfile_write(const char *path, const void *buf, size_t n, struct err *e);

#endif
