#ifndef TI_SPOOL_H
#define TI_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * A spool: a directory holding one file per undelivered message, named
 * "<run>.<seq>", each written to a temporary file, fsync'd, renamed into
 * place and the directory fsync'd before anyone acts on it. Files whose
 * names start with '.' are not messages (temporary files, the lock,
 * .measurement). One process at a time holds a spool (flock on .lock).
 */

#define SPOOL_BATCH 256		/* messages made durable together */

struct spool {
	char *dir;
	int dfd, lockfd;
	size_t n;			/* pending in the current batch */
	int fds[SPOOL_BATCH];
	char *tmp[SPOOL_BATCH], *name[SPOOL_BATCH];
};

/*
 * Open (creating with parents, mode 0700) the spool at dir and lock it;
 * stale temporary files are removed. EXIT_IO if it cannot be opened,
 * EXIT_USAGE if another process holds it.
 */
int spool_open(struct spool *s, const char *dir, struct err *e);

/* Commit nothing further, unlock and close; safe on a zeroed s. */
void spool_close(struct spool *s);

/*
 * Add message bytes under name (<run>.<seq>) to the current batch: the
 * file is written now and becomes durable, visible and listed only at
 * spool_commit. A full batch is committed first. 0, or -1.
 */
int spool_add(struct spool *s, const char *name, const void *buf, size_t n,
    struct err *e);

/* Make the batch durable: fsync each file, rename, fsync the directory. */
int spool_commit(struct spool *s, struct err *e);

/*
 * The names of the spooled messages, sorted by run then numeric seq;
 * *names is malloc'd, each name too (free with spool_names_free).
 */
int spool_list(struct spool *s, char ***names, size_t *n, struct err *e);

/* Free a list from spool_list. */
void spool_names_free(char **names, size_t n);

/* Read the message name into a new buffer (caller frees). 0, or -1 (EXIT_NO if gone). */
int spool_read(struct spool *s, const char *name, unsigned char **buf,
    size_t *len, struct err *e);

/* Remove a delivered message (not fsync'd: a resurrected one is a repeat). */
int spool_remove(struct spool *s, const char *name, struct err *e);

/*
 * The spool's small metadata file .<key> (e.g. "measurement"): get into
 * out (NUL-terminated; -1 if absent) or set durably.
 */
int spool_meta_get(struct spool *s, const char *key, char *out, size_t n);
int spool_meta_set(struct spool *s, const char *key, const char *val,
    struct err *e);

#endif
