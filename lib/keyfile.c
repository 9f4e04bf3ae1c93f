#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "exitcode.h"
#include "io.h"
#include "keyfile.h"

void
wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

int
keyfile_read(const char *path, unsigned char **buf, size_t *len,
    struct err *e)
{
	struct stat st;
	int fd, rc;

	if (path == NULL || strcmp(path, "-") == 0)
		return io_slurp_fd(0, "standard input", KEYFILE_MAX, buf, len, e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_errno(e, EXIT_IO, "unable to open %s", path);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return err_errno(e, EXIT_IO, "unable to stat %s", path);
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
		close(fd);
		return err_set(e, EXIT_NO,
		    "%s: permissions %04o are too open; chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
	}
	rc = io_slurp_fd(fd, path, KEYFILE_MAX, buf, len, e);
	close(fd);
	return rc;
}

void
keyfile_free(unsigned char *buf, size_t len)
{
	if (buf == NULL)
		return;
	wipe(buf, len);
	free(buf);
}

int
keyfile_write(const char *path, const void *buf, size_t n, struct err *e)
{
	int fd;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (writeall(1, buf, n) != 0)
			return err_errno(e, EXIT_IO, "error writing output");
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return err_errno(e, EXIT_IO, "unable to create %s", path);
	if (writeall(fd, buf, n) != 0 || fsync(fd) != 0) {
		err_errno(e, EXIT_IO, "error writing %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) != 0) {
		err_errno(e, EXIT_IO, "error writing %s", path);
		unlink(path);
		return -1;
	}
	return 0;
}
