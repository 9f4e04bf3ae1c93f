#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define CHUNK (256 * 1024)		/* reads, frames and batches */
#define BATCH_MAX (256u * 1024 * 1024)	/* one record, with --jobs */
#define RUN_LEN 22			/* base64url of 16 bytes */

void
sealer_run_key(const unsigned char seed[32], unsigned char key[32])
{
	static const char label[] = "ti-run/v1 run key";
	unsigned int n = 32;

	HMAC(EVP_sha256(), seed, 32, (const unsigned char *)label,
	    sizeof(label) - 1, key, &n);
}

void
sealer_run_id(char out[32], const unsigned char key[32],
    const char *measurement, const unsigned char digest[32])
{
	unsigned char data[16 + MEASUREMENT_LEN + 32], mac[32];
	unsigned int maclen = sizeof(mac);
	size_t ml = strlen(measurement), n;

	if (ml > MEASUREMENT_LEN)
		ml = MEASUREMENT_LEN;
	memcpy(data, "ti-run/v1\n", 10);
	n = 10;
	memcpy(data + n, measurement, ml);
	n += ml;
	memcpy(data + n, digest, 32);
	n += 32;
	HMAC(EVP_sha256(), key, 32, data, n, mac, &maclen);
	message_run_id(out, mac);
	OPENSSL_cleanse(mac, sizeof(mac));
}

/* ---- the opener ------------------------------------------------------ */

struct feed {
	const struct opener_opts *o;
	struct age_keys *ids;
	struct err e;
	int failed;
	int target;			/* named input k, or -1: the stream */
	int dead[SEALER_MAXJOBS];	/* the worker stopped reading */
	int named_dead[SEALER_MAXNAMED];
	unsigned char *bbuf;		/* --jobs: the batch being built */
	size_t blen, bcap, scanned, cut;
	struct jqrun_split split;
	uint64_t nbatch;
	EVP_MD_CTX *h;			/* digest of the current input */
	EVP_MD_CTX *all;		/* digest of the input digests */
	uint64_t bytes, messages;
};

static void
put_to(int fd, int *dead, const void *p, size_t n)
{
	/* A program that stopped reading is not an error of the input. */
	if (!*dead && n > 0 && writeall(fd, p, n) != 0)
		*dead = 1;
}

static void
frame_to(struct feed *f, int w, uint32_t type, const void *p, size_t n)
{
	struct jqrun_frame h = { type, (uint32_t)n };

	put_to(f->o->prog_in[w], &f->dead[w], &h, sizeof(h));
	put_to(f->o->prog_in[w], &f->dead[w], p, n);
}

static void
send_batch(struct feed *f, const unsigned char *p, size_t n)
{
	int w = (int)(f->nbatch++ % (uint64_t)f->o->jobs);

	frame_to(f, w, JQRUN_F_DATA, p, n);
	frame_to(f, w, JQRUN_F_BATCH, NULL, 0);
}

/* Batches end on a record boundary, so that every worker parses whole values. */
static int
batch_add(struct feed *f, const unsigned char *p, size_t n)
{
	unsigned char *nb;
	size_t c;

	if (f->blen + n > f->bcap) {
		if (f->blen + n > BATCH_MAX)
			return err_set(&f->e, EXIT_DATA, "an input record is "
			    "larger than %u bytes (--jobs)", BATCH_MAX);
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
batch_flush(struct feed *f)
{
	if (f->blen > 0 && f->bbuf[f->blen - 1] != '\n' &&
	    batch_add(f, (const unsigned char *)"\n", 1) != 0)
		return -1;
	if (f->blen > 0)
		send_batch(f, f->bbuf, f->blen);
	f->blen = f->scanned = f->cut = 0;
	return 0;
}

/* Plaintext of the current input: digest it and pass it on. */
static int
deliver(struct feed *f, const void *p, size_t n)
{
	const struct opener_opts *o = f->o;
	int w;

	if (n == 0)
		return 0;
	EVP_DigestUpdate(f->h, p, n);
	f->bytes += n;
	if (f->target >= 0) {
		if (!o->jq) {
			put_to(o->prog_named[f->target],
			    &f->named_dead[f->target], p, n);
			return 0;
		}
		for (w = 0; w < o->jobs; w++)
			frame_to(f, w, JQRUN_F_NAMED, p, n);
		return 0;
	}
	if (!o->jq)
		put_to(o->prog_in[0], &f->dead[0], p, n);
	else if (o->jobs > 1)
		return batch_add(f, p, n);
	else
		frame_to(f, 0, JQRUN_F_DATA, p, n);
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

/* Open age bytes (a FILE) into the current input. */
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
	memset(&e, 0, sizeof(e));
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
accepted(const struct opener_opts *o, const unsigned char signer[32])
{
	int i;

	if (o->from_any)
		return 1;
	for (i = 0; i < o->nfrom; i++)
		if (CRYPTO_memcmp(o->from[i], signer, 32) == 0)
			return 1;
	return 0;
}

/*
 * The "sealed" field of a message, read from the input as a FILE: base64
 * decoded on the fly and digested, so that a message of any size is opened
 * in constant memory; its signature is checked once the field has ended.
 */
struct field {
	FILE *in;
	EVP_MD_CTX *h;
	char q[4 * 4096];	/* base64 characters not yet decoded */
	size_t nq;
	unsigned char d[3 * 4096];	/* decoded, not yet read */
	size_t dpos, dlen;
	int end;		/* the closing quote was read */
	int bad;		/* not base64, or the line ended */
};

/* Decode the next run of whole base64 groups into fl->d. */
static int
field_fill(struct field *fl)
{
	size_t k;
	int c;

	/* b64_decode checks the characters; only the ends matter here. */
	while (!fl->end && fl->nq < sizeof(fl->q)) {
		if ((c = getc_unlocked(fl->in)) == '"') {
			fl->end = 1;
			break;
		}
		if (c == EOF || c == '\n')
			return fl->bad = 1, -1;
		fl->q[fl->nq++] = (char)c;
	}
	k = fl->end ? fl->nq : fl->nq - fl->nq % 4;
	fl->dpos = fl->dlen = 0;
	if (k == 0)
		return 0;
	/* The last group may be padded: the strict decoder checks it. */
	if (fl->end) {
		if (k % 4 != 0 || b64_decode(fl->d, &fl->dlen, fl->q, k,
		    B64_STD) != 0)
			return fl->bad = 1, -1;
	} else {
		if (b64_decode(fl->d, &fl->dlen, fl->q, k, B64_NOPAD) != 0)
			return fl->bad = 1, -1;
	}
	memmove(fl->q, fl->q + k, fl->nq - k);
	fl->nq -= k;
	EVP_DigestUpdate(fl->h, fl->d, fl->dlen);
	return 0;
}

static ssize_t
field_read(void *cookie, char *buf, size_t n)
{
	struct field *fl = cookie;
	size_t k;

	if (fl->dpos == fl->dlen) {
		if (fl->bad || (fl->end && fl->nq == 0))
			return fl->bad ? -1 : 0;
		if (field_fill(fl) != 0)
			return -1;
	}
	k = fl->dlen - fl->dpos;
	if (k > n)
		k = n;
	memcpy(buf, fl->d + fl->dpos, k);
	fl->dpos += k;
	return (ssize_t)k;
}

/*
 * The header of a message line, up to its "sealed" field (which
 * message_format writes last), into m. 1: the field's value comes next
 * on in; 0: the whole line is in *line instead (another key order); -1.
 */
#define HDR_MAX 4096
static const char sealed_key[] = "\"sealed\":\"";

static int
read_header(FILE *in, struct message *m, char **line, size_t *cap,
    ssize_t *len, struct err *e)
{
	char hdr[HDR_MAX + 64], *rest = NULL;
	size_t n = 0, kl = sizeof(sealed_key) - 1, rcap = 0;
	ssize_t rn;
	int c;

	*len = 0;
	while ((c = getc(in)) != EOF) {
		if (n == 0 && (c == '\n' || c == '\r'))
			continue;
		hdr[n++] = (char)c;
		if (c == '\n' || n == HDR_MAX)
			break;
		if (n >= kl && memcmp(hdr + n - kl, sealed_key, kl) == 0) {
			memcpy(hdr + n - kl, "\"sealed\":\"AAAA\"}", 17);
			return message_parse(hdr, n - kl + 16, m, e) == 0 ? 1 : -1;
		}
	}
	if (n == 0)
		return 0;
	/* Not the usual layout: the whole line, in memory. */
	if (c != '\n' && c != EOF && (rn = getline(&rest, &rcap, in)) > 0) {
		if ((*line = realloc(*line, n + (size_t)rn + 1)) == NULL) {
			free(rest);
			return err_set(e, EXIT_IO, "out of memory");
		}
		memcpy(*line, hdr, n);
		memcpy(*line + n, rest, (size_t)rn + 1);
		n += (size_t)rn;
		free(rest);
	} else {
		free(rest);
		if ((*line = realloc(*line, n + 1)) == NULL)
			return err_set(e, EXIT_IO, "out of memory");
		memcpy(*line, hdr, n);
		(*line)[n] = '\0';
	}
	*cap = n + 1;
	*len = (ssize_t)n;
	return message_parse(*line, n, m, e) == 0 ? 0 : -1;
}

/* The signature of m over the digest of its age bytes. */
static int
check_sig(const struct message *m, const unsigned char digest[32])
{
	char tbs[MESSAGE_TBS_MAX], hex[65];
	int i, n;

	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	n = snprintf(tbs, sizeof(tbs), "ti-message/v1\n%s\n%" PRIu64 "\n%s\n%s",
	    m->run, m->seq, m->last ? "true" : "false", hex);
	return sig_verify(m->signer, tbs, (size_t)n, m->sig);
}

/* Open the current message's sealed bytes, streamed from in. */
static int
open_streamed(struct feed *f, FILE *in, const struct message *m,
    const char *what, uint64_t count)
{
	cookie_io_functions_t io = { field_read, NULL, NULL, NULL };
	struct field *fl;
	unsigned char d[32], skip[4096];
	FILE *ff;
	int c, rc = -1;

	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		return err_set(&f->e, EXIT_IO, "out of memory");
	fl->in = in;
	if ((fl->h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(fl->h, EVP_sha256(), NULL) != 1 ||
	    (ff = fopencookie(fl, "r", io)) == NULL) {
		err_set(&f->e, EXIT_IO, "out of memory");
		goto out;
	}
	setvbuf(ff, NULL, _IOFBF, IO_BUFSZ);
	rc = open_age(f, ff, what);
	/* Whatever age did not need still counts for the signature. */
	while (rc == 0 && fread(skip, 1, sizeof(skip), ff) > 0)
		;
	fclose(ff);
	rc = rc != 0 ? -1 : 0;
	if (fl->bad || (rc == 0 && (!fl->end || fl->nq != 0))) {
		rc = -1;
		err_set(&f->e, EXIT_DATA, "%s: message %" PRIu64 ": truncated "
		    "or bad \"sealed\"", what, count);
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = -1;
	/* The rest of the line: "}" and perhaps keys a reader ignores. */
	while ((c = getc(in)) != EOF && c != '\n')
		;
	EVP_DigestFinal_ex(fl->h, d, NULL);
	if (check_sig(m, d) != 0) {
		err_set(&f->e, EXIT_DATA, "%s: message %" PRIu64 ": signature "
		    "does not verify", what, count);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(fl->h);
	free(fl);
	return rc;
}

/*
 * A stream of messages: each one's sender checked first, its sealed bytes
 * opened as they stream in (plaintext reaches the program only in
 * authenticated age chunks, and nothing is released before every
 * signature has verified), its signature, run and sequence checked.
 */
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
	int rc = -1, h;

	memset(&m, 0, sizeof(m));
	for (;; count++) {
		if ((h = read_header(in, &m, &line, &cap, &n, &f->e)) < 0) {
			err_prefix(&f->e, "%s: message %" PRIu64, what, count);
			goto out;
		}
		if (h == 0 && n == 0)
			break;
		if (!accepted(f->o, m.signer)) {
			sig_signer_string(who, m.signer);
			err_set(&f->e, EXIT_NO, "%s: message from unknown "
			    "sender %s", what, who);
			goto out;
		}
		if (m.seq != next || (next > 0 && strcmp(run, m.run) != 0)) {
			err_set(&f->e, EXIT_DATA, "%s: messages missing or out "
			    "of order (expected seq %" PRIu64 ")", what, next);
			goto out;
		}
		memcpy(run, m.run, sizeof(run));
		next = m.last ? 0 : next + 1;
		if (h == 1) {
			if (open_streamed(f, in, &m, what, count) != 0)
				goto out;
		} else {
			if (message_verify(&m, NULL, &f->e) != 0) {
				err_set(&f->e, EXIT_DATA, "%s: message %" PRIu64
				    ": signature does not verify", what, count);
				goto out;
			}
			if ((mf = fmemopen(m.sealed, m.sealedlen, "r")) == NULL) {
				err_errno(&f->e, EXIT_IO, "fmemopen");
				goto out;
			}
			rc = open_age(f, mf, what);
			fclose(mf);
			if (rc != 0)
				goto out;
			rc = -1;
		}
		message_fini(&m);
		f->messages++;
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

/* One input: plaintext, raw age, or messages. The fd is closed. */
static int
read_input(struct feed *f, int fd, const char *what)
{
	unsigned char buf[IO_BUFSZ], d[32];
	FILE *in = NULL;
	ssize_t n;
	int c, rc = -1;

	if (EVP_DigestInit_ex(f->h, EVP_sha256(), NULL) != 1) {
		close(fd);
		return err_set(&f->e, EXIT_IO, "digest");
	}
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
		rc = 0;
		goto out;
	}
	if ((in = fdopen(fd, "r")) == NULL) {
		err_errno(&f->e, EXIT_IO, "%s", what);
		goto out;
	}
	setvbuf(in, NULL, _IOFBF, CHUNK);
	if ((c = getc(in)) == EOF) {
		if (f->target < 0 && f->o->allow_empty)
			rc = 0;
		else
			err_set(&f->e, EXIT_DATA, "%s: empty input", what);
		goto out;
	}
	ungetc(c, in);
	if (c == '{')
		rc = read_messages(f, in, what);
	else if (f->o->from_any)
		rc = open_age(f, in, what);
	else
		err_set(&f->e, EXIT_DATA, "%s: not a message (raw age input "
		    "needs --from any)", what);
out:
	if (in != NULL)
		fclose(in);
	else
		close(fd);
	EVP_DigestFinal_ex(f->h, d, NULL);
	EVP_DigestUpdate(f->all, d, 32);
	return rc;
}

static int
feed_all(struct feed *f)
{
	const struct opener_opts *o = f->o;
	int k, w;

	for (k = 0; k < o->nnamed; k++) {
		f->target = k;
		if (read_input(f, o->named_fd[k], o->named_name[k]) != 0)
			return -1;
		if (!o->jq) {
			close(o->prog_named[k]);
			continue;
		}
		for (w = 0; w < o->jobs; w++)
			frame_to(f, w, JQRUN_F_NAMED_END, NULL, 0);
	}
	f->target = -1;
	if (read_input(f, o->in_fd, "input") != 0)
		return -1;
	if (o->jq && o->jobs > 1 && batch_flush(f) != 0)
		return -1;
	for (w = 0; o->jq && w < o->jobs; w++)
		frame_to(f, w, JQRUN_F_END, NULL, 0);
	return 0;
}

static void
report_err(int32_t *code, char *msg, size_t len, const struct err *e)
{
	*code = e->code ? e->code : EXIT_IO;
	snprintf(msg, len, "%s", e->msg);
}

int
sealer_open(const struct opener_opts *o, struct opener_report *r)
{
	struct feed f;
	unsigned char d[32];
	char run[32];
	int w, k;

	memset(r, 0, sizeof(*r));
	memset(&f, 0, sizeof(f));
	/* This is the opener's own process: a closed pipe is handled in place. */
	signal(SIGPIPE, SIG_IGN);
	f.o = o;
	if ((f.h = EVP_MD_CTX_new()) == NULL ||
	    (f.all = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(f.all, EVP_sha256(), NULL) != 1) {
		err_set(&f.e, EXIT_IO, "out of memory");
		goto fail;
	}
	if (o->x_priv != NULL && ((f.ids = age_keys_new()) == NULL ||
	    age_add_x25519_identity(f.ids, o->x_priv, &f.e) != 0))
		goto fail;
	if (feed_all(&f) != 0)
		goto fail;
	for (w = 0; w < o->jobs; w++)
		close(o->prog_in[w]);
	if (o->run_key != NULL && o->run_fd >= 0) {
		EVP_DigestFinal_ex(f.all, d, NULL);
		memset(run, 0, sizeof(run));
		sealer_run_id(run, o->run_key, o->measurement, d);
		if (writeall(o->run_fd, run, sizeof(run)) != 0) {
			err_errno(&f.e, EXIT_IO, "run id");
			goto fail;
		}
	}
	goto out;
fail:
	report_err(&r->code, r->msg, sizeof(r->msg), &f.e);
	/* The program sees its input end early; the parent releases nothing. */
	for (w = 0; w < o->jobs; w++)
		close(o->prog_in[w]);
	for (k = 0; !o->jq && k < o->nnamed; k++)
		close(o->prog_named[k]);
out:
	if (o->run_fd >= 0)
		close(o->run_fd);
	r->bytes_in = f.bytes;
	r->messages_in = f.messages;
	free(f.bbuf);
	age_keys_free(f.ids);
	EVP_MD_CTX_free(f.h);
	EVP_MD_CTX_free(f.all);
	return r->code;
}

/* ---- the sealer ------------------------------------------------------ */

/* The program's output, in order, as a FILE to read. */
struct source {
	const struct sealer_opts *o;
	struct sealer_report *rep;
	int w;			/* worker whose output comes next */
	uint32_t left;		/* bytes left in its current DATA frame */
	uint64_t base;		/* records before the current batch */
	int ended[SEALER_MAXJOBS];
	int done;
	int failed;		/* rep says how */
	size_t padleft;
	int padded;
	uint64_t total;
};

/* Read worker w's frames up to its STATUS (the other workers, at the end). */
static void
drain_status(struct source *s, int w)
{
	struct jqrun_frame h;
	struct jqrun_status st;
	unsigned char skip[4096];
	size_t n;

	for (;;) {
		if (readall(s->o->prog_out[w], &h, sizeof(h)) !=
		    (ssize_t)sizeof(h))
			break;
		if (h.type == JQRUN_F_STATUS && h.len == sizeof(st)) {
			if (readall(s->o->prog_out[w], &st, sizeof(st)) !=
			    (ssize_t)sizeof(st))
				break;
			s->rep->records += st.records;
			s->rep->results += st.results;
			s->ended[w] = 1;
			return;
		}
		for (; h.len > 0; h.len -= (uint32_t)n) {
			n = h.len < sizeof(skip) ? h.len : sizeof(skip);
			if (readall(s->o->prog_out[w], skip, n) !=
			    (ssize_t)n)
				goto died;
		}
	}
died:
	s->ended[w] = 1;
	if (s->rep->prog_code == 0)
		s->rep->prog_code = -1;
	s->failed = 1;
}

static void
worker_status(struct source *s, const struct jqrun_status *st)
{
	s->rep->records += st->records;
	s->rep->results += st->results;
	s->ended[s->w] = 1;
	if (st->code == JQRUN_OK)
		return;
	s->rep->prog_code = (int32_t)st->code;
	s->rep->prog_named = st->named;
	s->rep->prog_record = s->base + st->record;
	s->failed = 1;
}

static ssize_t
src_frames(struct source *s, char *buf, size_t n)
{
	const struct sealer_opts *o = s->o;
	struct jqrun_frame h;
	struct jqrun_status st;
	uint64_t cnt;
	ssize_t r;
	int w;

	for (;;) {
		if (s->left > 0) {
			if (n > s->left)
				n = s->left;
			do
				r = read(o->prog_out[s->w], buf, n);
			while (r < 0 && errno == EINTR);
			if (r <= 0)
				break;
			s->left -= (uint32_t)r;
			return r;
		}
		if (readall(o->prog_out[s->w], &h, sizeof(h)) !=
		    (ssize_t)sizeof(h))
			break;
		if (h.type == JQRUN_F_DATA) {
			s->left = h.len;
		} else if (h.type == JQRUN_F_BATCH && h.len == sizeof(cnt)) {
			if (readall(o->prog_out[s->w], &cnt, sizeof(cnt)) !=
			    (ssize_t)sizeof(cnt))
				break;
			s->base += cnt;
			s->w = (s->w + 1) % o->jobs;
		} else if (h.type == JQRUN_F_STATUS && h.len == sizeof(st)) {
			if (readall(o->prog_out[s->w], &st, sizeof(st)) !=
			    (ssize_t)sizeof(st))
				break;
			worker_status(s, &st);
			if (s->failed)
				return 0;
			/* No more batches here: none anywhere. */
			for (w = 0; w < o->jobs; w++)
				if (!s->ended[w])
					drain_status(s, w);
			s->done = 1;
			return 0;
		} else
			break;
	}
	/* The worker ended without a status: it was stopped. */
	if (s->rep->prog_code == 0)
		s->rep->prog_code = -1;
	s->failed = 1;
	return 0;
}

static ssize_t
src_read(void *cookie, char *buf, size_t n)
{
	struct source *s = cookie;
	ssize_t r = 0;

	if (!s->done && !s->failed) {
		if (s->o->jq)
			r = src_frames(s, buf, n);
		else {
			do
				r = read(s->o->prog_out[0], buf, n);
			while (r < 0 && errno == EINTR);
			if (r == 0)
				s->done = 1;
		}
	}
	if (r > 0) {
		s->total += (uint64_t)r;
		return r;
	}
	if (r < 0 || s->failed)
		return r;
	/* Round the plaintext up with spaces (--pad, one message). */
	if (!s->padded && !s->o->split && s->o->pad > 0 && !s->o->plain_out) {
		if (s->total % s->o->pad != 0)
			s->padleft = s->o->pad - s->total % s->o->pad;
		s->padded = 1;
	}
	if (s->padleft > 0) {
		r = (ssize_t)(s->padleft < n ? s->padleft : n);
		memset(buf, ' ', (size_t)r);
		s->padleft -= (size_t)r;
	}
	return r;
}

/* A message written with placeholders for its run and signature. */
struct piece {
	off_t run_off;
	off_t sig_off;
	unsigned char hash[32];
	int last;
};

struct sealed {
	FILE *out;		/* the temporary file */
	struct piece *p;
	size_t n, cap;
	/* streaming base64 of one message's age bytes */
	EVP_MD_CTX *h;
	unsigned char carry[3];
	size_t nc;
	int err;
};

static const char run_hold[] = "RRRRRRRRRRRRRRRRRRRRRR";
#define SIG_B64_LEN 86

static int
piece_begin(struct sealed *t, int last)
{
	struct piece *np;
	off_t start;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		if ((np = realloc(t->p, t->cap * sizeof(*np))) == NULL)
			return -1;
		t->p = np;
	}
	if ((start = ftello(t->out)) < 0)
		return -1;
	/* {"v":1,"run":"<22>","seq":N,"last":B,"signer":"...","sig":"<86>","sealed":"... */
	t->p[t->n].run_off = start + 14;
	if (fprintf(t->out, "{\"v\":1,\"run\":\"%s\",\"seq\":%zu,\"last\":%s,"
	    "\"signer\":\"", run_hold, t->n, last ? "true" : "false") < 0)
		return -1;
	return 0;
}

static int
piece_sig(struct sealed *t, const char *signer, int last)
{
	char sig[SIG_B64_LEN + 1];
	off_t at;

	memset(sig, 'S', SIG_B64_LEN);
	sig[SIG_B64_LEN] = '\0';
	if (fprintf(t->out, "%s\",\"sig\":\"", signer) < 0 ||
	    (at = ftello(t->out)) < 0 ||
	    fprintf(t->out, "%s\",\"sealed\":\"", sig) < 0)
		return -1;
	t->p[t->n].sig_off = at;
	t->p[t->n].last = last;
	return 0;
}

static int
piece_end(struct sealed *t, const unsigned char hash[32])
{
	if (fputs("\"}\n", t->out) == EOF)
		return -1;
	memcpy(t->p[t->n].hash, hash, 32);
	t->n++;
	return 0;
}

static void
b64_put(struct sealed *t, const unsigned char *p, size_t n)
{
	char out[4 * 4096 + 1];
	size_t k;

	EVP_DigestUpdate(t->h, p, n);
	while (t->nc > 0 && t->nc < 3 && n > 0) {
		t->carry[t->nc++] = *p++;
		n--;
	}
	if (t->nc == 3) {
		b64_encode(out, t->carry, 3, B64_STD);
		fputs(out, t->out);
		t->nc = 0;
	}
	while (n >= 3) {
		k = n - n % 3;
		if (k > 3 * 4096)
			k = 3 * 4096;
		b64_encode(out, p, k, B64_STD);
		fputs(out, t->out);
		p += k;
		n -= k;
	}
	memcpy(t->carry + t->nc, p, n);
	t->nc += n;
}

static void
b64_end(struct sealed *t)
{
	char out[8];

	if (t->nc > 0) {
		b64_encode(out, t->carry, t->nc, B64_STD);
		fputs(out, t->out);
	}
	t->nc = 0;
}

static ssize_t
b64_write(void *cookie, const char *buf, size_t n)
{
	b64_put(cookie, (const unsigned char *)buf, n);
	return (ssize_t)n;
}

static int
seal_one(struct sealed *t, FILE *src, const struct sealer_opts *o,
    const char *signer, struct err *e)
{
	cookie_io_functions_t io = { NULL, b64_write, NULL, NULL };
	unsigned char h[32];
	FILE *ct;
	int rc;

	if (piece_begin(t, 1) != 0 || piece_sig(t, signer, 1) != 0)
		return err_errno(e, EXIT_IO, "temporary file");
	if ((ct = fopencookie(t, "w", io)) == NULL)
		return err_errno(e, EXIT_IO, "fopencookie");
	setvbuf(ct, NULL, _IOFBF, CHUNK);
	EVP_DigestInit_ex(t->h, EVP_sha256(), NULL);
	rc = age_seal(src, ct, o->to, 0, e);
	fclose(ct);
	if (rc != 0)
		return -1;
	b64_end(t);
	EVP_DigestFinal_ex(t->h, h, NULL);
	if (piece_end(t, h) != 0)
		return err_errno(e, EXIT_IO, "temporary file");
	return 0;
}

/* Write one message of sealed bytes ct. */
static int
put_sealed(struct sealed *t, const unsigned char *ct, size_t n,
    const char *signer, int last)
{
	unsigned char h[32];

	if (piece_begin(t, last) != 0 || piece_sig(t, signer, last) != 0)
		return -1;
	EVP_DigestInit_ex(t->h, EVP_sha256(), NULL);
	b64_put(t, ct, n);
	b64_end(t);
	EVP_DigestFinal_ex(t->h, h, NULL);
	return piece_end(t, h);
}

static int
seal_split(struct sealed *t, FILE *src, const struct sealer_opts *o,
    const char *signer, struct err *e)
{
	char *line = NULL, *nl;
	size_t cap = 0, len, want, prevlen = 0;
	unsigned char *ct = NULL, *prev = NULL;
	size_t ctlen;
	ssize_t n;
	int rc = -1;

	/* A message is written when the next exists: then "last" is known. */
	while ((n = getline(&line, &cap, src)) > 0) {
		len = (size_t)n;
		if (o->pad > 0 && len % o->pad != 0) {
			want = len + o->pad - len % o->pad;
			if (want > cap) {
				if ((nl = realloc(line, want)) == NULL)
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
		if (prev != NULL && put_sealed(t, prev, prevlen, signer, 0) != 0)
			goto io;
		free(prev);
		prev = ct;
		prevlen = ctlen;
		ct = NULL;
	}
	if (prev != NULL && put_sealed(t, prev, prevlen, signer, 1) != 0)
		goto io;
	rc = 0;
	goto out;
io:
	err_errno(e, EXIT_IO, "temporary file");
	goto out;
nomem:
	err_set(e, EXIT_IO, "out of memory");
out:
	if (line != NULL)
		wipe(line, cap);
	free(line);
	free(ct);
	free(prev);
	return rc;
}

/* Fill in the run id and the signatures, now that the run is known. */
static int
sign_all(struct sealed *t, const struct sealer_opts *o, const char *run,
    struct err *e)
{
	char tbs[MESSAGE_TBS_MAX], hex[65], sigs[90];
	unsigned char sig[64];
	int fd = fileno(t->out), len;
	size_t i, j;

	if (fflush(t->out) != 0)
		return err_errno(e, EXIT_IO, "temporary file");
	for (i = 0; i < t->n; i++) {
		for (j = 0; j < 32; j++)
			snprintf(hex + 2 * j, 3, "%02x", t->p[i].hash[j]);
		len = snprintf(tbs, sizeof(tbs), "ti-message/v1\n%s\n%zu\n%s\n%s",
		    run, i, t->p[i].last ? "true" : "false", hex);
		if (sig_sign(o->ed_seed, tbs, (size_t)len, sig) != 0)
			return err_set(e, EXIT_IO, "signing failed");
		b64_encode(sigs, sig, 64, B64_URL);
		if (pwrite(fd, run, RUN_LEN, t->p[i].run_off) != RUN_LEN ||
		    pwrite(fd, sigs, SIG_B64_LEN, t->p[i].sig_off) !=
		    SIG_B64_LEN)
			return err_errno(e, EXIT_IO, "temporary file");
	}
	return 0;
}

int
sealer_seal(const struct sealer_opts *o, struct sealer_report *r)
{
	struct source s;
	struct sealed t;
	struct err e;
	cookie_io_functions_t io = { src_read, NULL, NULL, NULL };
	FILE *src = NULL;
	char buf[IO_BUFSZ], signer[SIG_SIGNER_LEN], run[32];
	unsigned char pub[32];
	size_t n;
	int rc = 0, w;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	memset(&e, 0, sizeof(e));
	signal(SIGPIPE, SIG_IGN);
	s.o = o;
	s.rep = r;
	if ((t.out = fdopen(o->out_fd, "w")) == NULL ||
	    (t.h = EVP_MD_CTX_new()) == NULL ||
	    (src = fopencookie(&s, "r", io)) == NULL) {
		rc = err_errno(&e, EXIT_IO, "sealer");
		goto out;
	}
	setvbuf(t.out, NULL, _IOFBF, CHUNK);
	setvbuf(src, NULL, _IOFBF, CHUNK);
	if (o->plain_out) {
		while ((n = fread(buf, 1, sizeof(buf), src)) > 0)
			if (fwrite(buf, 1, n, t.out) != n) {
				rc = err_errno(&e, EXIT_IO, "temporary file");
				break;
			}
	} else {
		if (sig_public(o->ed_seed, pub) != 0)
			rc = err_set(&e, EXIT_IO, "bad signing key");
		sig_signer_string(signer, pub);
		if (rc == 0 && o->split)
			rc = seal_split(&t, src, o, signer, &e);
		else if (rc == 0)
			rc = seal_one(&t, src, o, signer, &e);
	}
	/* What the program still writes is not wanted: closing ends it. */
	for (w = 0; w < o->jobs; w++)
		close(o->prog_out[w]);
	r->bytes_out = s.total;
	r->messages_out = t.n;
	if (s.failed) {
		r->code = EXIT_PROGRAM;
		snprintf(r->msg, sizeof(r->msg), "program failed");
		goto done;
	}
	if (rc != 0)
		goto out;
	if (o->run_fd >= 0) {
		if (readall(o->run_fd, run, sizeof(run)) != (ssize_t)sizeof(run) ||
		    strlen(run) != RUN_LEN) {
			rc = err_set(&e, EXIT_DATA, "the input did not complete");
			goto out;
		}
		memcpy(r->run, run, sizeof(run));
		if (!o->plain_out && sign_all(&t, o, run, &e) != 0) {
			rc = -1;
			goto out;
		}
	}
	if (fflush(t.out) != 0)
		rc = err_errno(&e, EXIT_IO, "temporary file");
out:
	if (rc != 0)
		report_err(&r->code, r->msg, sizeof(r->msg), &e);
done:
	if (src != NULL)
		fclose(src);
	if (t.out != NULL)
		fclose(t.out);
	free(t.p);
	EVP_MD_CTX_free(t.h);
	return r->code;
}
