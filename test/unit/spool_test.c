/* The spool: durable batches, listing order, locking, metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/ti-spool-test.XXXXXX", sub[64], path[128], v[80];
	struct spool s, t;
	struct err e;
	char **names;
	size_t n, len, i;
	unsigned char *buf;
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	ok(spool_open(&s, sub, &e) == 0, "open creates parents");
	ok(spool_open(&t, sub, &e) != 0 && e.code == 2, "a second opener is refused");
	ok(spool_add(&s, "r.10", "ten", 3, &e) == 0 &&
	    spool_add(&s, "r.9", "nine", 4, &e) == 0 &&
	    spool_add(&s, "q.2", "two", 3, &e) == 0, "add three");
	ok(spool_list(&s, &names, &n, &e) == 0 && n == 0,
	    "nothing listed before commit");
	spool_names_free(names, n);
	ok(spool_commit(&s, &e) == 0, "commit");
	ok(spool_list(&s, &names, &n, &e) == 0 && n == 3 &&
	    strcmp(names[0], "q.2") == 0 && strcmp(names[1], "r.9") == 0 &&
	    strcmp(names[2], "r.10") == 0, "listed by run, then numeric seq");
	spool_names_free(names, n);
	ok(spool_read(&s, "r.9", &buf, &len, &e) == 0 && len == 4 &&
	    memcmp(buf, "nine", 4) == 0, "read back");
	free(buf);
	ok(spool_remove(&s, "r.9", &e) == 0 && spool_remove(&s, "r.9", &e) == 0,
	    "remove (twice is fine)");
	ok(spool_meta_get(&s, "measurement", v, sizeof(v)) != 0, "no metadata yet");
	ok(spool_meta_set(&s, "measurement", "sha256:ab", &e) == 0 &&
	    spool_meta_get(&s, "measurement", v, sizeof(v)) == 0 &&
	    strcmp(v, "sha256:ab") == 0, "metadata round trip");
	for (i = 0; i < SPOOL_BATCH + 3; i++) {
		char nm[32];

		snprintf(nm, sizeof(nm), "big.%zu", i);
		spool_add(&s, nm, "x", 1, &e);
	}
	ok(spool_list(&s, &names, &n, &e) == 0 && n == 2 + SPOOL_BATCH,
	    "a full batch commits by itself");
	spool_names_free(names, n);
	spool_close(&s);
	snprintf(path, sizeof(path), "%s/.tmp.stale.1.1", sub);
	if ((fp = fopen(path, "w")) != NULL)
		fclose(fp);
	ok(spool_open(&s, sub, &e) == 0 && access(path, F_OK) != 0,
	    "uncommitted messages are gone after a restart; stale files removed");
	ok(spool_list(&s, &names, &n, &e) == 0 && n == 2 + SPOOL_BATCH,
	    "committed messages survive");
	spool_names_free(names, n);
	spool_close(&s);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
