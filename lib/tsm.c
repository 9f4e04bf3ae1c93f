#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "exitcode.h"
#include "io.h"
#include "tsm.h"

/* Largest blob read back: a quote with its certificates. */
#define BLOB_MAX (1 << 20)

const char *
tsm_root(void)
{
	const char *r = getenv("TI_TSM_ROOT");

	return r != NULL && *r != '\0' ? r : "/sys/kernel/config/tsm";
}

void
tsm_report_fini(struct tsm_report *r)
{
	free(r->outblob);
	free(r->auxblob);
	memset(r, 0, sizeof(*r));
}

/* Open attribute name of entry dir for writing. */
static int
open_attr(const char *dir, const char *name, struct err *e)
{
	char p[PATH_MAX];
	int fd, i;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
		return err_set(e, EXIT_IO, "tsm: path too long");
	/*
	 * configfs creates an entry's attributes before mkdir returns; a
	 * provider that populates them afterwards (a user-space fake) gets
	 * up to a second.
	 */
	for (i = 0; i < 200; i++) {
		if ((fd = open(p, O_WRONLY | O_CLOEXEC)) >= 0 ||
		    errno != ENOENT)
			break;
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
	if (fd < 0)
		err_errno(e, EXIT_IO, "tsm: %s", p);
	return fd;
}

static int
read_attr(const char *dir, const char *name, unsigned char **b, size_t *n,
    struct err *e)
{
	char p[PATH_MAX];

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
		return err_set(e, EXIT_IO, "tsm: path too long");
	if (io_slurp(p, BLOB_MAX, b, n, e) != 0)
		return err_prefix(e, "tsm");
	return 0;
}

int
tsm_quote(const char *root, const unsigned char report_data[64],
    struct tsm_report *r, struct err *e)
{
	char dir[PATH_MAX];
	unsigned char rnd[8], *b = NULL;
	size_t n;
	int fd, ret = -1;
	unsigned long gen;

	memset(r, 0, sizeof(*r));
	if (root == NULL)
		root = tsm_root();
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return err_set(e, EXIT_IO, "tsm: no randomness");
	if ((size_t)snprintf(dir, sizeof(dir), "%s/report/ti-%ld-%02x%02x%02x"
	    "%02x%02x%02x", root, (long)getpid(), rnd[0], rnd[1], rnd[2],
	    rnd[3], rnd[4], rnd[5]) >= sizeof(dir))
		return err_set(e, EXIT_IO, "tsm: path too long");
	if (mkdir(dir, 0700) != 0)
		return err_errno(e, EXIT_IO, "tsm: %s", dir);
	if ((fd = open_attr(dir, "inblob", e)) < 0)
		goto out;
	/* One write: every write to inblob starts a new request. */
	if (writeall(fd, report_data, 64) != 0) {
		err_errno(e, EXIT_IO, "tsm: %s/inblob", dir);
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		err_errno(e, EXIT_IO, "tsm: %s/inblob", dir);
		goto out;
	}
	if (read_attr(dir, "outblob", &r->outblob, &r->outlen, e) != 0)
		goto out;
	if (r->outlen == 0) {
		err_set(e, EXIT_IO, "tsm: %s/outblob is empty", dir);
		goto out;
	}
	if (read_attr(dir, "provider", &b, &n, e) != 0)
		goto out;
	n = strcspn((char *)b, "\n");
	snprintf(r->provider, sizeof(r->provider), "%.*s", (int)n, b);
	free(b);
	b = NULL;
	/* auxblob exists only where the provider has certificates. */
	if (read_attr(dir, "auxblob", &r->auxblob, &r->auxlen, e) != 0 ||
	    r->auxlen == 0) {
		free(r->auxblob);
		r->auxblob = NULL;
		r->auxlen = 0;
	}
	if (read_attr(dir, "generation", &b, &n, e) != 0)
		goto out;
	gen = strtoul((char *)b, NULL, 10);
	if (gen != 1) {
		err_set(e, EXIT_IO, "tsm: %s: generation %lu, another writer "
		    "raced this request", dir, gen);
		goto out;
	}
	ret = 0;
out:
	free(b);
	if (rmdir(dir) != 0 && ret == 0)
		ret = err_errno(e, EXIT_IO, "tsm: cannot remove %s", dir);
	if (ret != 0)
		tsm_report_fini(r);
	return ret;
}
