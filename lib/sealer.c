#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64.h"
#include "exitcode.h"
#include "io.h"
#include "jqrun.h"
#include "keyfile.h"
#include "message.h"
#include "sealer.h"
#include "sig.h"

#define CHUNK (256 * 1024)		/* reads and batches */
#define BATCH_MAX (256u * 1024 * 1024)	/* one record, with --jobs */

/* The input side: from the input streams to the program's pipes. */
struct feed {
	const struct sealer_opts *o;
	struct age_keys *ids;
	struct err e;
	int failed;
	/* where plaintext goes now: named input k, or -1 for the stream */
	int target;
	int dead[SEALER_MAXJOBS];
	int named_dead[SEALER_MAXJOBS][SEALER_MAXNAMED];
	unsigned char *bbuf;		/* --jobs: the batch being built */
	size_t blen, bcap, scanned, cut;
	struct jqrun_split split;
	uint64_t nbatch;
	EVP_MD_CTX *h;			/* digest of the current stream */
	EVP_MD_CTX *all;		/* digest of the stream digests */
	uint64_t bytes, messages;
};

void
sealer_run_id(char out[32], const unsigned char seed[32],
    const char *measurement, const unsigned char digest[32])
{
	unsigned char data[16 + MEASUREMENT_LEN + 32], mac[32];
	unsigned int maclen = sizeof(mac);
	size_t ml = strlen(measurement), n = 0;

	memcpy(data, "ti-run/v1\n", 10);
	n = 10;
	memcpy(data + n, measurement, ml);
	n += ml;
	memcpy(data + n, digest, 32);
	n += 32;
	HMAC(EVP_sha256(), seed, 32, data, n, mac, &maclen);
	message_run_id(out, mac);
	OPENSSL_cleanse(mac, sizeof(mac));
}

static void
put_to(int fd, int *dead, const void *p, size_t n)
{
	if (*dead)
		return;
	/* A program that stopped reading is not an error of the input. */
	if (writeall(fd, p, n) != 0)
		*dead = 1;
}

static int
send_batch(struct feed *f, const unsigned char *p, size_t n)
{
	const struct sealer_opts *o = f->o;
	int w = (int)(f->nbatch++ % (uint64_t)o->jobs);
	uint32_t hdr = (uint32_t)n, z = 0;

	if (n == 0)
		return 0;
	put_to(o->prog_in[w], &f->dead[w], &hdr, 4);
	put_to(o->prog_in[w], &f->dead[w], p, n);
	put_to(o->prog_in[w], &f->dead[w], &z, 4);
	return 0;
}

/* Batches end on a record boundary, so that every worker parses whole values. */
static int
batch_add(struct feed *f, const unsigned char *p, size_t n)
{
	unsigned char *nb;
	size_t c;

	if (f->blen + n > f->bcap) {
		if (f->blen + n > BATCH_MAX)
			return err_set(&f->e, EXIT_DATA,
			    "an input record is larger than %u bytes (--jobs)",
			    BATCH_MAX);
		c = f->bcap ? f->bcap : CHUNK * 2;
		while (c < f->blen + n)
			c *= 2;
		if ((nb = realloc(f->bbuf, c)) == NULL)
			return err_set(&f->e, EXIT_IO, "out of memory");
		f->bbuf = nb;
		f->bcap = c;
	}
	memcpy(f->bbuf + f->blen, p, n);
	f->blen += n;
	c = jqrun_split_scan(&f->split, f->bbuf + f->scanned,
	    f->blen - f->scanned);
	if (c > 0)
		f->cut = f->scanned + c;
	f->scanned = f->blen;
	if (f->cut >= CHUNK) {
		send_batch(f, f->bbuf, f->cut);
		memmove(f->bbuf, f->bbuf + f->cut, f->blen - f->cut);
		f->blen -= f->cut;
		f->scanned -= f->cut;
		f->cut = 0;
	}
	return 0;
}

static int
batch_end(struct feed *f)
{
	if (f->blen > 0 && f->bbuf[f->blen - 1] != '\n') {
		if (batch_add(f, (const unsigned char *)"\n", 1) != 0)
			return -1;
	}
	send_batch(f, f->bbuf, f->blen);
	f->blen = f->scanned = f->cut = 0;
	return 0;
}

/* Plaintext of the current stream: digest it and pass it on. */
static int
deliver(struct feed *f, const void *p, size_t n)
{
	const struct sealer_opts *o = f->o;
	int w;

	if (n == 0)
		return 0;
	EVP_DigestUpdate(f->h, p, n);
	f->bytes += n;
	if (f->target >= 0) {
		for (w = 0; w < o->jobs; w++)
			put_to(o->prog_named[w][f->target],
			    &f->named_dead[w][f->target], p, n);
		return 0;
	}
	if (o->jobs > 1)
		return batch_add(f, p, n);
	put_to(o->prog_in[0], &f->dead[0], p, n);
	return 0;
}

static ssize_t
sink_write(void *cookie, const char *buf, size_t n)
{
	struct feed *f = cookie;

	if (deliver(f, buf, n) != 0) {
		f->failed = 1;
		errno = EIO;
		return -1;
	}
	return (ssize_t)n;
}

/* Open age bytes (a FILE) into the current stream. */
static int
open_age(struct feed *f, FILE *in, const char *what)
{
	cookie_io_functions_t io = { NULL, sink_write, NULL, NULL };
	FILE *out = fopencookie(f, "w", io);
	struct err e;
	int rc;

	if (out == NULL)
		return err_errno(&f->e, EXIT_IO, "fopencookie");
	setvbuf(out, NULL, _IOFBF, CHUNK);
	rc = age_open(in, out, f->ids, &e);
	if (fflush(out) != 0 && rc == 0 && !f->failed)
		rc = err_errno(&e, EXIT_IO, "%s", what);
	fclose(out);
	if (f->failed)
		return -1;
	if (rc != 0) {
		f->e = e;
		return err_prefix(&f->e, "%s", what);
	}
	return 0;
}

static int
accepted(const struct sealer_opts *o, const unsigned char signer[32])
{
	int i;

	if (o->from_any)
		return 1;
	for (i = 0; i < o->nfrom; i++)
		if (CRYPTO_memcmp(o->from[i], signer, 32) == 0)
			return 1;
	return 0;
}

/* A stream of messages: each checked, then opened, in order. */
static int
read_messages(struct feed *f, FILE *in, const char *what)
{
	struct message m;
	char who[SIG_SIGNER_LEN], run[MESSAGE_RUN_MAX + 1] = "";
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t next = 0, count = 0;
	FILE *mf;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	while ((n = getline(&line, &cap, in)) > 0) {
		if (n == 1 && line[0] == '\n')
			continue;
		if (message_parse(line, (size_t)n, &m, &f->e) != 0) {
			err_prefix(&f->e, "%s: message %" PRIu64, what, count);
			goto out;
		}
		count++;
		if (!accepted(f->o, m.signer)) {
			sig_signer_string(who, m.signer);
			err_set(&f->e, EXIT_NO, "%s: message from unknown "
			    "sender %s", what, who);
			goto out;
		}
		if (message_verify(&m, NULL, &f->e) != 0) {
			err_set(&f->e, EXIT_DATA, "%s: message %" PRIu64
			    ": signature does not verify", what, count - 1);
			goto out;
		}
		if (m.seq != next || (next > 0 && strcmp(run, m.run) != 0)) {
			err_set(&f->e, EXIT_DATA, "%s: messages out of order "
			    "or missing (expected seq %" PRIu64 ")", what, next);
			goto out;
		}
		memcpy(run, m.run, sizeof(run));
		next = m.last ? 0 : next + 1;
		if ((mf = fmemopen(m.sealed, m.sealedlen, "r")) == NULL) {
			err_errno(&f->e, EXIT_IO, "fmemopen");
			goto out;
		}
		rc = open_age(f, mf, what);
		fclose(mf);
		message_fini(&m);
		f->messages++;
		if (rc != 0)
			goto out;
		rc = -1;
	}
	if (ferror(in)) {
		err_errno(&f->e, EXIT_IO, "%s: read error", what);
		goto out;
	}
	if (next != 0) {
		err_set(&f->e, EXIT_DATA, "%s: truncated (no last message)",
		    what);
		goto out;
	}
	rc = 0;
out:
	message_fini(&m);
	free(line);
	return rc;
}

/* One input (fd): plaintext, raw age, or messages. */
static int
read_input(struct feed *f, int fd, const char *what)
{
	unsigned char buf[IO_BUFSZ];
	unsigned char d[32];
	FILE *in = NULL;
	ssize_t n;
	int c, rc = -1;

	if (EVP_DigestInit_ex(f->h, EVP_sha256(), NULL) != 1)
		return err_set(&f->e, EXIT_IO, "digest");
	if (f->o->plain_in) {
		while ((n = read(fd, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				err_errno(&f->e, EXIT_IO, "%s", what);
				goto out;
			}
			if (deliver(f, buf, (size_t)n) != 0)
				goto out;
		}
	} else {
		if ((in = fdopen(fd, "r")) == NULL) {
			err_errno(&f->e, EXIT_IO, "%s", what);
			goto out;
		}
		setvbuf(in, NULL, _IOFBF, CHUNK);
		c = getc(in);
		if (c == EOF && f->target < 0 && f->o->allow_empty) {
			rc = 0;
			goto out;
		}
		if (c == EOF) {
			err_set(&f->e, EXIT_DATA, "%s: empty input", what);
			goto out;
		}
		ungetc(c, in);
		if (c == '{') {
			if (read_messages(f, in, what) != 0)
				goto out;
		} else if (f->o->from_any) {
			if (open_age(f, in, what) != 0)
				goto out;
		} else {
			err_set(&f->e, EXIT_DATA, "%s: not a message (raw age "
			    "input needs --from any)", what);
			goto out;
		}
	}
	rc = 0;
out:
	if (in != NULL)
		fclose(in);
	else
		close(fd);
	EVP_DigestFinal_ex(f->h, d, NULL);
	EVP_DigestUpdate(f->all, d, 32);
	return rc;
}

static void *
feed_main(void *arg)
{
	struct feed *f = arg;
	const struct sealer_opts *o = f->o;
	int k, w, rc = 0;

	for (k = 0; k < o->nnamed && rc == 0; k++) {
		f->target = k;
		rc = read_input(f, o->named_fd[k], o->named_name[k]);
		for (w = 0; w < o->jobs; w++)
			close(o->prog_named[w][k]);
	}
	for (; k < o->nnamed; k++)
		for (w = 0; w < o->jobs; w++)
			close(o->prog_named[w][k]);
	f->target = -1;
	if (rc == 0)
		rc = read_input(f, o->in_fd, "input");
	if (rc == 0 && o->jobs > 1)
		rc = batch_end(f);
	for (w = 0; w < o->jobs; w++)
		close(o->prog_in[w]);
	f->failed = rc != 0;
	return NULL;
}

/* The output side: the program's output, in order, as a FILE to read. */
struct source {
	const struct sealer_opts *o;
	struct sealer_report *rep;
	int w;			/* worker whose output comes next */
	uint32_t left;		/* bytes left in its current frame */
	uint64_t base;		/* records before the current batch */
	int done;
	int failed;		/* a worker failed: rep says how */
	size_t padleft;
	int padding;
	uint64_t total;
};

static void
worker_status(struct source *s, int w, int ended_batch)
{
	struct jqrun_status st;
	ssize_t n = -1;

	if (s->o->prog_status[w] >= 0) {
		n = readall(s->o->prog_status[w], &st, sizeof(st));
		close(s->o->prog_status[w]);
		((struct sealer_opts *)s->o)->prog_status[w] = -1;
	}
	if (n < 0)
		return;		/* an executable: the parent has its status */
	if (n != (ssize_t)sizeof(st)) {
		if (s->rep->prog_code == 0)
			s->rep->prog_code = -1;	/* died without a word */
		s->failed = 1;
		return;
	}
	s->rep->records += st.records;
	s->rep->results += st.results;
	if (st.code != JQRUN_OK && s->rep->prog_code == 0 && !ended_batch) {
		s->rep->prog_code = (int32_t)st.code;
		s->rep->prog_record = s->o->jobs > 1 ? s->base + st.record :
		    st.record;
		s->failed = 1;
	}
}

static ssize_t
src_read1(struct source *s, char *buf, size_t n)
{
	const struct sealer_opts *o = s->o;
	unsigned char m[12];
	uint32_t hdr;
	uint64_t cnt;
	ssize_t r;
	int w;

	if (o->jobs == 1) {
		do
			r = read(o->prog_out[0], buf, n);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			worker_status(s, 0, 0);
			s->done = 1;
		}
		return r;
	}
	for (;;) {
		if (s->left > 0) {
			if (n > s->left)
				n = s->left;
			do
				r = read(o->prog_out[s->w], buf, n);
			while (r < 0 && errno == EINTR);
			if (r <= 0) {
				worker_status(s, s->w, 0);
				s->failed = 1;
				return 0;
			}
			s->left -= (uint32_t)r;
			return r;
		}
		r = readall(o->prog_out[s->w], &hdr, 4);
		if (r == 0) {
			/* This worker has no more batches: neither do the others. */
			worker_status(s, s->w, 0);
			for (w = 0; w < o->jobs; w++)
				if (w != s->w && o->prog_status[w] >= 0)
					worker_status(s, w, 1);
			s->done = 1;
			return 0;
		}
		if (r != 4) {
			worker_status(s, s->w, 0);
			s->failed = 1;
			return 0;
		}
		if (hdr > 0) {
			s->left = hdr;
			continue;
		}
		if (readall(o->prog_out[s->w], m + 4, 8) != 8) {
			worker_status(s, s->w, 0);
			s->failed = 1;
			return 0;
		}
		memcpy(&cnt, m + 4, 8);
		s->base += cnt;
		s->w = (s->w + 1) % o->jobs;
	}
}

static ssize_t
src_read(void *cookie, char *buf, size_t n)
{
	struct source *s = cookie;
	ssize_t r = 0;

	if (!s->done && !s->failed)
		r = src_read1(s, buf, n);
	if (r > 0) {
		s->total += (uint64_t)r;
		return r;
	}
	if (r < 0)
		return r;
	if (s->failed)
		return 0;
	/* Round the plaintext up with spaces (--pad in one message). */
	if (s->padding && !s->o->split && s->o->pad > 0) {
		if (s->padleft == 0 && s->total % s->o->pad != 0)
			s->padleft = s->o->pad - s->total % s->o->pad;
		s->padding = 0;
	}
	if (s->padleft > 0) {
		r = (ssize_t)(s->padleft < n ? s->padleft : n);
		memset(buf, ' ', (size_t)r);
		s->padleft -= (size_t)r;
	}
	return r;
}

/* The sealed output pieces in a temporary file, one per message. */
struct piece {
	off_t off;
	size_t len;
	unsigned char hash[32];
};

struct sealed {
	int fd;
	off_t end;
	EVP_MD_CTX *h;
	struct piece *p;
	size_t n, cap;
};

static ssize_t
t1_write(void *cookie, const char *buf, size_t n)
{
	struct sealed *t = cookie;

	if (writeall(t->fd, buf, n) != 0)
		return -1;
	EVP_DigestUpdate(t->h, buf, n);
	t->end += (off_t)n;
	return (ssize_t)n;
}

static int
piece_add(struct sealed *t, off_t off, size_t len, const unsigned char h[32])
{
	struct piece *np;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		if ((np = realloc(t->p, t->cap * sizeof(*np))) == NULL)
			return -1;
		t->p = np;
	}
	t->p[t->n].off = off;
	t->p[t->n].len = len;
	memcpy(t->p[t->n].hash, h, 32);
	t->n++;
	return 0;
}

static int
seal_one(struct sealed *t, FILE *src, const struct sealer_opts *o,
    struct err *e)
{
	cookie_io_functions_t io = { NULL, t1_write, NULL, NULL };
	unsigned char h[32];
	off_t start = t->end;
	FILE *out;
	int rc;

	if ((out = fopencookie(t, "w", io)) == NULL)
		return err_errno(e, EXIT_IO, "fopencookie");
	setvbuf(out, NULL, _IOFBF, CHUNK);
	EVP_DigestInit_ex(t->h, EVP_sha256(), NULL);
	rc = age_seal(src, out, o->to, 0, e);
	if (fclose(out) != 0 && rc == 0)
		rc = err_errno(e, EXIT_IO, "temporary file");
	if (rc != 0)
		return -1;
	EVP_DigestFinal_ex(t->h, h, NULL);
	if (piece_add(t, start, (size_t)(t->end - start), h) != 0)
		return err_set(e, EXIT_IO, "out of memory");
	return 0;
}

static int
seal_split(struct sealed *t, FILE *src, const struct sealer_opts *o,
    struct err *e)
{
	char *line = NULL;
	size_t cap = 0, len, want;
	unsigned char *ct = NULL, h[32];
	size_t ctlen;
	ssize_t n;
	int rc = -1;

	while ((n = getline(&line, &cap, src)) > 0) {
		len = (size_t)n;
		if (o->pad > 0 && len % o->pad != 0) {
			want = len + o->pad - len % o->pad;
			if (want > cap) {
				char *nl = realloc(line, want);
				if (nl == NULL)
					goto nomem;
				line = nl;
				cap = want;
			}
			memset(line + len, ' ', want - len);
			len = want;
		}
		if (age_seal_mem(line, len, o->to, 0, &ct, &ctlen, e) != 0)
			goto out;
		wipe(line, len);
		if (writeall(t->fd, ct, ctlen) != 0) {
			err_errno(e, EXIT_IO, "temporary file");
			goto out;
		}
		EVP_Digest(ct, ctlen, h, NULL, EVP_sha256(), NULL);
		if (piece_add(t, t->end, ctlen, h) != 0)
			goto nomem;
		t->end += (off_t)ctlen;
		free(ct);
		ct = NULL;
	}
	rc = 0;
	goto out;
nomem:
	err_set(e, EXIT_IO, "out of memory");
out:
	if (line != NULL)
		wipe(line, cap);
	free(line);
	free(ct);
	return rc;
}

/* Write the messages for the sealed pieces to o->out_fd. */
static int
write_messages(struct sealed *t, const struct sealer_opts *o,
    const char *run, struct err *e)
{
	/* 3 * 16 KiB: base64 of whole groups, so pieces encode independently. */
	unsigned char in[3 * 16384];
	char b64[4 * 16384 + 1], tbs[MESSAGE_TBS_MAX], hex[65];
	char signer[SIG_SIGNER_LEN], sigs[90];
	unsigned char sig[64];
	FILE *out = fdopen(dup(o->out_fd), "w");
	size_t i, j, k, left, m;
	off_t off;
	ssize_t r;
	int len, last;

	if (out == NULL)
		return err_errno(e, EXIT_IO, "temporary file");
	setvbuf(out, NULL, _IOFBF, CHUNK);
	sig_signer_string(signer, o->keys->ed_pub);
	for (i = 0; i < t->n; i++) {
		last = i + 1 == t->n;
		for (j = 0; j < 32; j++)
			snprintf(hex + 2 * j, 3, "%02x", t->p[i].hash[j]);
		len = snprintf(tbs, sizeof(tbs), "ti-message/v1\n%s\n%zu\n%s\n%s",
		    run, i, last ? "true" : "false", hex);
		if (sig_sign(o->keys->ed_seed, tbs, (size_t)len, sig) != 0) {
			fclose(out);
			return err_set(e, EXIT_IO, "signing failed");
		}
		b64_encode(sigs, sig, 64, B64_URL);
		fprintf(out, "{\"v\":1,\"run\":\"%s\",\"seq\":%zu,\"last\":%s,"
		    "\"signer\":\"%s\",\"sig\":\"%s\",\"sealed\":\"", run, i,
		    last ? "true" : "false", signer, sigs);
		off = t->p[i].off;
		for (left = t->p[i].len; left > 0; left -= m) {
			m = left < sizeof(in) ? left : sizeof(in);
			for (k = 0; k < m; k += (size_t)r) {
				r = pread(t->fd, in + k, m - k, off + (off_t)k);
				if (r <= 0) {
					fclose(out);
					return err_errno(e, EXIT_IO,
					    "temporary file");
				}
			}
			b64_encode(b64, in, m, B64_STD);
			fputs(b64, out);
			off += (off_t)m;
		}
		fputs("\"}\n", out);
	}
	if (fclose(out) != 0)
		return err_errno(e, EXIT_IO, "temporary file");
	return 0;
}

static int
tmpfile_fd(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = memfd_create("ti-run", MFD_CLOEXEC);
	return fd;
}

static void
report_err(struct sealer_report *rep, const struct err *e)
{
	rep->code = e->code ? e->code : EXIT_IO;
	snprintf(rep->msg, sizeof(rep->msg), "%s", e->msg);
}

int
sealer_main(const struct sealer_opts *o, struct sealer_report *rep)
{
	struct feed f;
	struct source s;
	struct sealed t;
	struct err e;
	cookie_io_functions_t io = { src_read, NULL, NULL, NULL };
	FILE *src = NULL;
	pthread_t th;
	unsigned char d[32];
	char buf[IO_BUFSZ];
	size_t n;
	int started = 0, orc = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	memset(&e, 0, sizeof(e));
	t.fd = -1;
	/* This is the sealer's own process: a closed pipe is handled in place. */
	signal(SIGPIPE, SIG_IGN);
	f.o = o;
	s.o = o;
	s.rep = rep;
	s.padding = 1;
	if ((f.h = EVP_MD_CTX_new()) == NULL ||
	    (f.all = EVP_MD_CTX_new()) == NULL ||
	    (t.h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(f.all, EVP_sha256(), NULL) != 1) {
		err_set(&e, EXIT_IO, "out of memory");
		report_err(rep, &e);
		goto out;
	}
	if (!o->plain_in) {
		if ((f.ids = age_keys_new()) == NULL ||
		    age_add_x25519_identity(f.ids, o->keys->x_priv, &e) != 0) {
			report_err(rep, &e);
			goto out;
		}
	}
	if (pthread_create(&th, NULL, feed_main, &f) != 0) {
		err_set(&e, EXIT_IO, "cannot start the input thread");
		report_err(rep, &e);
		goto out;
	}
	started = 1;
	if ((src = fopencookie(&s, "r", io)) == NULL) {
		orc = err_errno(&e, EXIT_IO, "fopencookie");
	} else if (o->plain_out) {
		while ((n = fread(buf, 1, sizeof(buf), src)) > 0)
			if (writeall(o->out_fd, buf, n) != 0) {
				orc = err_errno(&e, EXIT_IO, "temporary file");
				break;
			}
	} else {
		if ((t.fd = tmpfile_fd()) < 0)
			orc = err_errno(&e, EXIT_IO, "temporary file");
		else if (o->split)
			orc = seal_split(&t, src, o, &e);
		else
			orc = seal_one(&t, src, o, &e);
	}
	/*
	 * Whatever the program still writes is not wanted: closing its output
	 * ends it, so that neither it nor the input thread can block.
	 */
	for (n = 0; n < (size_t)o->jobs; n++)
		close(o->prog_out[n]);
	pthread_join(th, NULL);
	started = 0;
	rep->bytes_in = f.bytes;
	rep->messages_in = f.messages;
	rep->bytes_out = s.total;
	rep->messages_out = t.n;
	if (f.failed) {
		report_err(rep, &f.e);
		goto out;
	}
	if (s.failed) {
		rep->code = EXIT_PROGRAM;
		snprintf(rep->msg, sizeof(rep->msg), "program failed");
		goto out;
	}
	if (orc != 0) {
		report_err(rep, &e);
		goto out;
	}
	if (o->keys != NULL) {
		EVP_DigestFinal_ex(f.all, d, NULL);
		sealer_run_id(rep->run, o->keys->ed_seed, o->measurement, d);
	}
	if (!o->plain_out && write_messages(&t, o, rep->run, &e) != 0) {
		report_err(rep, &e);
		goto out;
	}
out:
	if (started)
		pthread_join(th, NULL);
	if (src != NULL)
		fclose(src);
	if (t.fd >= 0)
		close(t.fd);
	free(t.p);
	free(f.bbuf);
	age_keys_free(f.ids);
	EVP_MD_CTX_free(f.h);
	EVP_MD_CTX_free(f.all);
	EVP_MD_CTX_free(t.h);
	return rep->code;
}
