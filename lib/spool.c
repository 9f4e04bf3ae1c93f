#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "io.h"
#include "message.h"
#include "spool.h"

static int
mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int
spool_open(struct spool *s, const char *dir, struct err *e)
{
	DIR *d;
	struct dirent *de;
	int fd;

	memset(s, 0, sizeof(*s));
	s->dfd = s->lockfd = -1;
	if ((s->dir = strdup(dir)) == NULL)
		return err_set(e, EXIT_IO, "out of memory");
	if (mkdirs(s->dir) != 0) {
		err_errno(e, EXIT_IO, "spool %s", dir);
		goto fail;
	}
	if ((s->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno(e, EXIT_IO, "spool %s", dir);
		goto fail;
	}
	if ((s->lockfd = openat(s->dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) < 0) {
		err_errno(e, EXIT_IO, "spool %s", dir);
		goto fail;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		err_set(e, EXIT_USAGE, "spool %s is in use by another process",
		    dir);
		goto fail;
	}
	if ((fd = dup(s->dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		err_errno(e, EXIT_IO, "spool %s", dir);
		goto fail;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".tmp.", 5) == 0)
			unlinkat(s->dfd, de->d_name, 0);
	closedir(d);
	return 0;
fail:
	spool_close(s);
	return -1;
}

static void
drop_batch(struct spool *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->fds[i] >= 0)
			close(s->fds[i]);
		unlinkat(s->dfd, s->tmp[i], 0);
		free(s->tmp[i]);
		free(s->name[i]);
	}
	s->n = 0;
}

void
spool_close(struct spool *s)
{
	if (s->dfd >= 0)
		drop_batch(s);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dfd >= 0)
		close(s->dfd);
	free(s->dir);
	s->dir = NULL;
	s->dfd = s->lockfd = -1;
}

int
spool_add(struct spool *s, const char *name, const void *buf, size_t n,
    struct err *e)
{
	char tmp[MESSAGE_RUN_MAX + 64];
	int fd;

	if (s->n == SPOOL_BATCH && spool_commit(s, e) != 0)
		return -1;
	snprintf(tmp, sizeof(tmp), ".tmp.%s.%ld", name, (long)getpid());
	if ((fd = openat(s->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return err_errno(e, EXIT_IO, "spool %s/%s", s->dir, tmp);
	if (writeall(fd, buf, n) != 0) {
		err_errno(e, EXIT_IO, "spool %s/%s", s->dir, tmp);
		close(fd);
		unlinkat(s->dfd, tmp, 0);
		return -1;
	}
	s->fds[s->n] = fd;
	s->tmp[s->n] = strdup(tmp);
	s->name[s->n] = strdup(name);
	if (s->tmp[s->n] == NULL || s->name[s->n] == NULL) {
		s->n++;
		drop_batch(s);
		return err_set(e, EXIT_IO, "out of memory");
	}
	s->n++;
	return 0;
}

int
spool_commit(struct spool *s, struct err *e)
{
	size_t i;

	/*
	 * One syncfs for a batch makes every file's data durable at the cost
	 * of one flush, not one per message; a lone file gets its own fsync.
	 * Either reports a writeback error, so nothing is renamed into place
	 * that is not on disk.
	 */
	if (s->n > 1 ? syncfs(s->dfd) != 0 : s->n == 1 &&
	    fsync(s->fds[0]) != 0) {
		err_errno(e, EXIT_IO, "spool %s: sync", s->dir);
		drop_batch(s);
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		close(s->fds[i]);
		s->fds[i] = -1;
	}
	for (i = 0; i < s->n; i++)
		if (renameat(s->dfd, s->tmp[i], s->dfd, s->name[i]) != 0) {
			err_errno(e, EXIT_IO, "spool %s: rename", s->dir);
			drop_batch(s);
			return -1;
		}
	for (i = 0; i < s->n; i++) {
		free(s->tmp[i]);
		free(s->name[i]);
	}
	s->n = 0;
	if (fsync(s->dfd) != 0)
		return err_errno(e, EXIT_IO, "spool %s: fsync", s->dir);
	return 0;
}

static int
cmpname(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	const char *dx = strrchr(x, '.'), *dy = strrchr(y, '.');
	size_t lx = (size_t)(dx - x), ly = (size_t)(dy - y);
	int c = strncmp(x, y, lx < ly ? lx : ly);
	unsigned long long sx, sy;

	if (c != 0 || lx != ly)
		return c != 0 ? c : (lx < ly ? -1 : 1);
	sx = strtoull(dx + 1, NULL, 10);
	sy = strtoull(dy + 1, NULL, 10);
	return sx < sy ? -1 : sx > sy;
}

int
spool_list(struct spool *s, char ***names, size_t *n, struct err *e)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cap = 0;
	int fd;

	*n = 0;
	if ((fd = dup(s->dfd)) < 0 || (d = fdopendir(fd)) == NULL)
		return err_errno(e, EXIT_IO, "spool %s", s->dir);
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strrchr(de->d_name, '.') == NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			goto nomem;
		(*n)++;
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmpname);
	*names = v;
	return 0;
nomem:
	closedir(d);
	spool_names_free(v, *n);
	*n = 0;
	return err_set(e, EXIT_IO, "out of memory");
}

void
spool_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
spool_read(struct spool *s, const char *name, unsigned char **buf,
    size_t *len, struct err *e)
{
	int fd = openat(s->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;

	if (fd < 0 && errno == ENOENT)
		return err_set(e, EXIT_NO, "spool %s/%s: gone", s->dir, name);
	if (fd < 0)
		return err_errno(e, EXIT_IO, "spool %s/%s", s->dir, name);
	rc = io_slurp_fd(fd, name, MESSAGE_MAX + 1, buf, len, e);
	close(fd);
	return rc;
}

int
spool_remove(struct spool *s, const char *name, struct err *e)
{
	if (unlinkat(s->dfd, name, 0) != 0 && errno != ENOENT)
		return err_errno(e, EXIT_IO, "spool %s/%s", s->dir, name);
	return 0;
}

int
spool_meta_get(struct spool *s, const char *key, char *out, size_t n)
{
	char nm[64];
	ssize_t r;
	int fd;

	snprintf(nm, sizeof(nm), ".%s", key);
	if ((fd = openat(s->dfd, nm, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	r = readall(fd, out, n - 1);
	close(fd);
	if (r <= 0)
		return -1;
	out[r] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

int
spool_meta_set(struct spool *s, const char *key, const char *val,
    struct err *e)
{
	char nm[64], tmp[80];
	int fd;

	snprintf(nm, sizeof(nm), ".%s", key);
	snprintf(tmp, sizeof(tmp), ".tmp.%s", key);
	if ((fd = openat(s->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) < 0)
		return err_errno(e, EXIT_IO, "spool %s", s->dir);
	if (writeall(fd, val, strlen(val)) != 0 || writeall(fd, "\n", 1) != 0 ||
	    fsync(fd) != 0) {
		close(fd);
		return err_errno(e, EXIT_IO, "spool %s", s->dir);
	}
	close(fd);
	if (renameat(s->dfd, tmp, s->dfd, nm) != 0 || fsync(s->dfd) != 0)
		return err_errno(e, EXIT_IO, "spool %s", s->dir);
	return 0;
}
