#ifndef TI_IO_H
#define TI_IO_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"

/* Size of the fixed buffers every streaming loop uses. */
#define IO_BUFSZ 65536

/* Write all n bytes to fd, retrying short writes and EINTR. 0, or -1 (errno). */
int writeall(int fd, const void *buf, size_t n);

/* Read until n bytes or end of file, retrying EINTR. Count read, or -1 (errno). */
ssize_t readall(int fd, void *buf, size_t n);

/*
 * Read all of path ("-" or NULL: stdin) into a new buffer of at most max
 * bytes, NUL-terminated (not counted in *len). Caller frees. More than max
 * bytes is EXIT_DATA ("input too large"); I/O errors are EXIT_IO.
 */
int io_slurp(const char *path, size_t max, unsigned char **buf, size_t *len,
    struct err *e);

/* As io_slurp, from an open fd; name is used in messages. fd stays open. */
int io_slurp_fd(int fd, const char *name, size_t max, unsigned char **buf,
    size_t *len, struct err *e);

/*
 * An output that appears only when complete: a temporary file beside path,
 * renamed over path by outfile_commit, unlinked by outfile_abort. With path
 * NULL or "-", stdout is used directly, and an existing path that is not a
 * regular file (/dev/null, a FIFO) is written in place, never replaced:
 * nothing can be withdrawn there, so callers that must not release partial
 * data buffer before writing.
 */
struct outfile {
	FILE *fp;       /* write here */
	char *path;     /* final name, NULL for stdout or a device */
	char *tmp;      /* temporary name, NULL for stdout or a device */
	int direct;     /* fp is a device or FIFO opened by outfile_open */
};

/* Open o for path with the given mode (e.g. 0644, 0600). 0, or -1. */
int outfile_open(struct outfile *o, const char *path, int mode, struct err *e);

/* Flush, fsync and close, then rename into place. 0, or -1 (tmp removed). */
int outfile_commit(struct outfile *o, struct err *e);

/* Close and remove the temporary file; safe after commit and on a zeroed o. */
void outfile_abort(struct outfile *o);

#endif
