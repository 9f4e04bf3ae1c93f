/* Atomic output files, key files and bounded reads. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "io.h"
#include "keyfile.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/ti-io-test.XXXXXX", path[64], key[64];
	struct outfile o;
	struct stat st;
	struct err e;
	unsigned char *buf;
	size_t n;

	ok(mkdtemp(dir) != NULL, "temporary directory");
	snprintf(path, sizeof(path), "%s/out", dir);
	ok(outfile_open(&o, path, 0640, &e) == 0 && o.tmp != NULL,
	    "outfile opens a temporary file");
	fputs("data", o.fp);
	ok(access(path, F_OK) != 0, "nothing at the final name before commit");
	ok(outfile_commit(&o, &e) == 0 && stat(path, &st) == 0 &&
	    st.st_size == 4 && (st.st_mode & 0777) == 0640, "commit renames");
	ok(outfile_open(&o, path, 0600, &e) == 0, "reopen over it");
	fputs("partial", o.fp);
	outfile_abort(&o);
	ok(io_slurp(path, 100, &buf, &n, &e) == 0 && n == 4 &&
	    memcmp(buf, "data", 4) == 0, "abort leaves the old file alone");
	free(buf);
	ok(outfile_open(&o, "/dev/null", 0600, &e) == 0 && o.direct &&
	    o.tmp == NULL, "a device is written in place");
	fputs("x", o.fp);
	ok(outfile_commit(&o, &e) == 0 && stat("/dev/null", &st) == 0 &&
	    S_ISCHR(st.st_mode), "and never replaced");
	ok(io_slurp(path, 3, &buf, &n, &e) != 0 && e.code == EXIT_DATA,
	    "io_slurp cap: %s", e.msg);

	snprintf(key, sizeof(key), "%s/key", dir);
	ok(keyfile_write(key, "secret", 6, &e) == 0 && stat(key, &st) == 0 &&
	    (st.st_mode & 0777) == 0600, "key file 0600");
	ok(keyfile_write(key, "other", 5, &e) != 0 && e.code == EXIT_IO,
	    "never overwritten");
	ok(keyfile_read(key, &buf, &n, &e) == 0 && n == 6, "read back");
	keyfile_free(buf, n);
	chmod(key, 0644);
	ok(keyfile_read(key, &buf, &n, &e) != 0 && e.code == EXIT_NO &&
	    strstr(e.msg, "too open") != NULL, "0644 key refused: %s", e.msg);
	unlink(key);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
