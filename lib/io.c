#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "io.h"

int
writeall(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
readall(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
io_slurp_fd(int fd, const char *name, size_t max, unsigned char **buf,
    size_t *len, struct err *e)
{
	size_t cap = 4096, n = 0;
	unsigned char *b = malloc(cap), *nb;

	if (b == NULL)
		return err_errno(e, EXIT_IO, "%s", name);
	for (;;) {
		ssize_t r;
		if (n + 1 >= cap) {
			cap *= 2;
			if ((nb = realloc(b, cap)) == NULL) {
				err_errno(e, EXIT_IO, "%s", name);
				goto fail;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err_errno(e, EXIT_IO, "unable to read %s", name);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			err_set(e, EXIT_DATA, "%s: input too large (max %zu bytes)",
			    name, max);
			goto fail;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
fail:
	free(b);
	return -1;
}

int
io_slurp(const char *path, size_t max, unsigned char **buf, size_t *len,
    struct err *e)
{
	int fd, rc;

	if (path == NULL || strcmp(path, "-") == 0)
		return io_slurp_fd(0, "standard input", max, buf, len, e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_errno(e, EXIT_IO, "unable to open %s", path);
	rc = io_slurp_fd(fd, path, max, buf, len, e);
	close(fd);
	return rc;
}

int
outfile_open(struct outfile *o, const char *path, int mode, struct err *e)
{
	struct stat st;
	int fd;
	size_t n;

	memset(o, 0, sizeof(*o));
	if (path == NULL || strcmp(path, "-") == 0) {
		o->fp = stdout;
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		if ((o->fp = fopen(path, "wb")) == NULL)
			return err_errno(e, EXIT_IO, "unable to open %s", path);
		o->direct = 1;
		return 0;
	}
	n = strlen(path) + sizeof(".tmp.XXXXXX");
	if ((o->path = strdup(path)) == NULL || (o->tmp = malloc(n)) == NULL)
		goto nomem;
	snprintf(o->tmp, n, "%s.tmp.XXXXXX", path);
	if ((fd = mkostemp(o->tmp, O_CLOEXEC)) < 0) {
		err_errno(e, EXIT_IO, "unable to create %s", o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		goto fail;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || (o->fp = fdopen(fd, "w")) == NULL) {
		err_errno(e, EXIT_IO, "unable to create %s", o->tmp);
		close(fd);
		unlink(o->tmp);
		goto fail;
	}
	return 0;
nomem:
	err_errno(e, EXIT_IO, "%s", path);
fail:
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return -1;
}

int
outfile_commit(struct outfile *o, struct err *e)
{
	int rc = 0;

	if (o->fp == NULL)
		return 0;
	if (o->tmp == NULL) {
		if (fflush(o->fp) != 0 || ferror(o->fp))
			rc = err_errno(e, EXIT_IO, "error writing output");
		if (o->direct && fclose(o->fp) != 0 && rc == 0)
			rc = err_errno(e, EXIT_IO, "error writing output");
		o->fp = NULL;
		o->direct = 0;
		return rc;
	}
	if (fflush(o->fp) != 0 || ferror(o->fp) || fsync(fileno(o->fp)) != 0)
		rc = err_errno(e, EXIT_IO, "error writing %s", o->path);
	if (fclose(o->fp) != 0 && rc == 0)
		rc = err_errno(e, EXIT_IO, "error writing %s", o->path);
	o->fp = NULL;
	if (rc == 0 && rename(o->tmp, o->path) != 0)
		rc = err_errno(e, EXIT_IO, "unable to rename to %s", o->path);
	if (rc != 0)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return rc;
}

void
outfile_abort(struct outfile *o)
{
	if (o->tmp != NULL) {
		if (o->fp != NULL)
			fclose(o->fp);
		unlink(o->tmp);
	} else if (o->direct && o->fp != NULL) {
		fclose(o->fp);
	}
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}
