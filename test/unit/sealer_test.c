/*
 * The pieces of ti-run in one process, over temporary files instead of
 * pipes (each stage runs to completion before the next): the opener, a jq
 * worker and the sealer; also the splitter and the program check.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "age.h"
#include "jqrun.h"
#include "keys.h"
#include "message.h"
#include "sealer.h"
#include "sig.h"
#include "tap.h"

static int
memfile(const char *s)
{
	int fd = memfd_create("t", 0);

	if (s != NULL && write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		return -1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static char *
slurp(int fd, size_t *n)
{
	static char buf[1 << 16];
	ssize_t r;

	lseek(fd, 0, SEEK_SET);
	r = read(fd, buf, sizeof(buf) - 1);
	buf[r < 0 ? 0 : r] = '\0';
	*n = r < 0 ? 0 : (size_t)r;
	return buf;
}

/* Feed plaintext through the opener, a worker and the sealer; 0 or a failure. */
static int
pipeline(const char *input, const char *prog, int jobs, int plain_out,
    const struct tikeys *k, struct age_keys *to, char *out, size_t cap,
    struct sealer_report *sr)
{
	struct opener_opts oo;
	struct opener_report orp;
	struct sealer_opts so;
	struct jqrun_opts jo;
	int win[SEALER_MAXJOBS], wout[SEALER_MAXJOBS], runfd, w, rc;
	unsigned char run_key[32];
	size_t n;
	char *s;

	memset(&oo, 0, sizeof(oo));
	memset(&so, 0, sizeof(so));
	memset(&jo, 0, sizeof(jo));
	sealer_run_key(k->ed_seed, run_key);
	oo.in_fd = memfile(input);
	oo.plain_in = 1;
	oo.jq = so.jq = 1;
	oo.jobs = so.jobs = jobs;
	runfd = memfile(NULL);
	oo.run_fd = dup(runfd);
	oo.measurement = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	oo.run_key = run_key;
	for (w = 0; w < jobs; w++) {
		win[w] = memfile(NULL);
		oo.prog_in[w] = dup(win[w]);
	}
	if ((rc = sealer_open(&oo, &orp)) != 0)
		return rc;
	for (w = 0; w < jobs; w++) {
		wout[w] = memfile(NULL);
		lseek(win[w], 0, SEEK_SET);
		jqrun_main(prog, jv_object(), jv_array(), &jo, win[w], wout[w]);
		lseek(wout[w], 0, SEEK_SET);
		so.prog_out[w] = wout[w];
		close(win[w]);
	}
	lseek(runfd, 0, SEEK_SET);
	so.run_fd = runfd;
	so.out_fd = memfile(NULL);
	w = dup(so.out_fd);
	so.plain_out = plain_out;
	so.to = to;
	so.ed_seed = k->ed_seed;
	rc = sealer_seal(&so, sr);
	close(runfd);
	s = slurp(w, &n);
	close(w);
	snprintf(out, cap, "%s", s);
	return rc;
}

int
main(void)
{
	unsigned char secret[32];
	struct tikeys k;
	struct err e;
	struct age_keys *to = age_keys_new(), *id = age_keys_new();
	struct sealer_report sr;
	struct message m;
	struct jqrun_split sp;
	char out[1 << 16], run1[32], run2[32], *nl;
	const char *s;
	unsigned char *pt;
	size_t ptlen;
	const char *in = "{\"a\":1}\n{\"a\":[2,3]}\nnull\n{\"a\":\n 4}\n";
	int rc;

	ok(jqrun_check(".a | select(. != null)", &e) == 0, "a plain program passes");
	ok(jqrun_check("import \"x\" as x; .", &e) != 0 && e.code == 2,
	    "import is refused");
	ok(jqrun_check("include \"x\"; .", &e) != 0, "include is refused");
	ok(jqrun_check("\"x\" | modulemeta", &e) != 0, "modulemeta is refused");
	ok(jqrun_check("{import: .import} | \"\\(\"include\")\" # import",
	    &e) != 0, "a bare import key is refused (conservative)");
	ok(jqrun_check(".import, \"import \\(.x | \"include\")\" # include",
	    &e) == 0, "fields, strings, interpolations and comments pass");

	memset(&sp, 0, sizeof(sp));
	s = "{\"a\":\n1}\n[\"]\n\"]\n2 3\n";
	ok(jqrun_split_scan(&sp, (const unsigned char *)s, strlen(s)) ==
	    strlen(s) && sp.depth == 0, "split after whole values only");
	memset(&sp, 0, sizeof(sp));
	ok(jqrun_split_scan(&sp, (const unsigned char *)s, 8) == 0 &&
	    jqrun_split_scan(&sp, (const unsigned char *)s + 8, 3) == 1,
	    "the state carries over");
	memset(&sp, 0, sizeof(sp));
	ok(jqrun_split_scan(&sp, (const unsigned char *)"{\"a\":\"\\\"}\n", 10) == 0 &&
	    sp.instr == 1, "no split inside a string with an escaped quote");

	memset(secret, 7, sizeof(secret));
	ok(keys_derive(secret, 32, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
	    &k, &e) == 0, "keys derived");
	age_add_x25519_recipient(to, k.x_pub, &e);
	age_add_x25519_identity(id, k.x_priv, &e);

	rc = pipeline(in, ".a", 1, 1, &k, to, out, sizeof(out), &sr);
	ok(rc == 0 && strcmp(out, "1\n[2,3]\nnull\n4\n") == 0,
	    "plain out, one worker (%d: %s)", rc, sr.msg);
	ok(sr.records == 4 && sr.results == 4, "counts");
	rc = pipeline(in, ".a", 3, 1, &k, to, out, sizeof(out), &sr);
	ok(rc == 0 && strcmp(out, "1\n[2,3]\nnull\n4\n") == 0,
	    "plain out, three workers, in order");
	rc = pipeline(in, "if . == null then error(\"no\") else . end", 2, 1,
	    &k, to, out, sizeof(out), &sr);
	ok(rc == 9 && sr.prog_code == JQRUN_ERROR && sr.prog_record == 3,
	    "an error names the global record (%d, %llu)", sr.prog_code,
	    (unsigned long long)sr.prog_record);

	rc = pipeline(in, ".a", 1, 0, &k, to, out, sizeof(out), &sr);
	ok(rc == 0, "sealed out");
	memcpy(run1, sr.run, sizeof(run1));
	ok(message_parse(out, strlen(out), &m, &e) == 0 &&
	    message_verify(&m, k.ed_pub, &e) == 0 && m.seq == 0 && m.last,
	    "one message, signed by the measurement's key");
	ok(strcmp(m.run, run1) == 0 && strlen(run1) == 22, "its run");
	ok(age_open_mem(m.sealed, m.sealedlen, id, &pt, &ptlen, &e) == 0 &&
	    ptlen == 15 && memcmp(pt, "1\n[2,3]\nnull\n4\n", 15) == 0,
	    "opens to the output");
	free(pt);
	message_fini(&m);
	rc = pipeline(in, ".a", 2, 0, &k, to, out, sizeof(out), &sr);
	memcpy(run2, sr.run, sizeof(run2));
	ok(rc == 0 && strcmp(run1, run2) == 0, "the same input, the same run");
	rc = pipeline("1 2", ".", 1, 0, &k, to, out, sizeof(out), &sr);
	ok(rc == 0 && strcmp(sr.run, run1) != 0, "other input, another run");
	nl = strchr(out, '\n');
	ok(nl != NULL && nl[1] == '\0', "one line");

	keys_wipe(&k);
	age_keys_free(to);
	age_keys_free(id);
	return tap_done();
}
