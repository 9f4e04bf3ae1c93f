#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jq.h>
#include <jv.h>

#include "exitcode.h"
#include "io.h"
#include "jqrun.h"

/* Buffer sizes: large reads and writes keep syscalls off the per-record path. */
#define RBUFSZ (256 * 1024)
#define WBUFSZ (256 * 1024)

static const char *const refused[] = { "import", "include", "modulemeta" };

int
jqrun_check(const char *prog, struct err *e)
{
	/* Each level: 0 in code, or the paren depth of a \( ... ) in a string. */
	int stack[64], sp = 0, instr = 0, paren = 0;
	const char *p = prog, *w;
	size_t i, n;

	while (*p != '\0') {
		if (instr) {
			if (*p == '\\' && p[1] == '(') {
				if (sp == (int)(sizeof(stack) / sizeof(stack[0])))
					return err_set(e, EXIT_USAGE,
					    "program nests too deeply");
				stack[sp++] = paren;
				paren = 0;
				instr = 0;
				p += 2;
				continue;
			}
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				instr = 0;
			p++;
			continue;
		}
		if (*p == '#') {
			while (*p != '\0' && *p != '\n')
				p++;
			continue;
		}
		if (*p == '"') {
			instr = 1;
			p++;
			continue;
		}
		if (*p == '(')
			paren++;
		else if (*p == ')') {
			if (paren == 0 && sp > 0) {
				paren = stack[--sp];
				instr = 1;
				p++;
				continue;
			}
			paren--;
		}
		if (isalpha((unsigned char)*p) || *p == '_') {
			w = p;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			if (w > prog && (w[-1] == '.' || w[-1] == '$'))
				continue;
			n = (size_t)(p - w);
			for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
				if (strlen(refused[i]) == n &&
				    memcmp(refused[i], w, n) == 0)
					return err_set(e, EXIT_USAGE,
					    "program uses \"%s\": modules are "
					    "not available in ti-run", refused[i]);
			continue;
		}
		p++;
	}
	return 0;
}

size_t
jqrun_split_scan(struct jqrun_split *s, const unsigned char *buf, size_t n)
{
	size_t i, last = 0;
	int depth = s->depth, instr = s->instr, esc = s->esc;
	const unsigned char *q;

	for (i = 0; i < n; i++) {
		if (instr) {
			if (esc) {
				esc = 0;
				continue;
			}
			/* Skip string contents quickly: only '"' and '\\' matter. */
			while (i < n && buf[i] != '"' && buf[i] != '\\')
				i++;
			if (i == n)
				break;
			if (buf[i] == '\\')
				esc = 1;
			else
				instr = 0;
			continue;
		}
		switch (buf[i]) {
		case '"':
			instr = 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		case '\n':
			if (depth == 0)
				last = i + 1;
			break;
		default:
			/* Runs of ordinary bytes: jump to the next interesting one. */
			q = buf + i + 1;
			while (q < buf + n && *q != '"' && *q != '{' &&
			    *q != '[' && *q != '}' && *q != ']' && *q != '\n')
				q++;
			i = (size_t)(q - buf) - 1;
			break;
		}
	}
	s->depth = depth;
	s->instr = instr;
	s->esc = esc;
	return last;
}

struct reader {
	int fd;
	jv_parser *p;
	char *buf;
	/* The fast parser's window of the stream: fb[fpos, flen). */
	char *fb;
	size_t fcap, fpos, flen;
	char *scratch;		/* unescaped strings */
	size_t scap;
	int slow;		/* handed over to libjq's parser */
	int eof;		/* END seen */
	int final;		/* the parser was told */
	int batch_end;		/* BATCH seen */
	uint32_t frame_left;
	uint64_t records;	/* in all */
	uint64_t inbatch;	/* in this batch */
	int parse_error;
	int io_error;
};

struct writer {
	int fd;
	unsigned char *buf;	/* a frame header, then data */
	size_t len;
	int io_error;
	uint64_t results;
};

struct ctx {
	struct reader r;
	struct writer w;
	const struct jqrun_opts *o;
};

/* The next frame header; 0, or -1 at a premature end or on an error. */
static int
header(struct reader *r, struct jqrun_frame *h)
{
	if (readall(r->fd, h, sizeof(*h)) != (ssize_t)sizeof(*h)) {
		r->io_error = 1;
		return -1;
	}
	return 0;
}

/* Read up to a buffer of the current frame's payload. */
static ssize_t
payload(struct reader *r)
{
	size_t want = r->frame_left < RBUFSZ ? r->frame_left : RBUFSZ;
	ssize_t n;

	do
		n = read(r->fd, r->buf, want);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r->io_error = 1;
		return -1;
	}
	r->frame_left -= (uint32_t)n;
	return n;
}

static int
fill(struct reader *r)
{
	struct jqrun_frame h;
	ssize_t n;

	while (r->frame_left == 0) {
		if (header(r, &h) != 0)
			return -1;
		switch (h.type) {
		case JQRUN_F_DATA:
			r->frame_left = h.len;
			break;
		case JQRUN_F_BATCH:
			r->batch_end = 1;
			return 0;
		case JQRUN_F_END:
			r->eof = 1;
			return 0;
		default:
			r->io_error = 1;
			return -1;
		}
	}
	if ((n = payload(r)) < 0)
		return -1;
	jv_parser_set_buf(r->p, r->buf, (int)n, 1);
	return 0;
}

/*
 * A fast parser for plain JSON, the common case: parsing was about half of
 * a program's time with libjq 1.6's parser. It builds the same jv values
 * libjq's parser builds (numbers correctly rounded, strings through
 * jv_string_sized, objects with jv_object_set) and hands anything else
 * (jq's lenient literals, surrogate escapes, raw control characters, a
 * byte-order mark, errors) over to libjq's parser, from the start of the
 * value on, for good: the results stay exactly jq's.
 */
enum { FP_OK, FP_MORE, FP_BAIL };
#define FAST_DEPTH 200

struct fp {
	struct reader *r;
	const char *p, *e;
	int final;		/* no more input after e */
};

static int
ws(int c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* Can a jq token (a number or literal) end before c? */
static int
ends_token(int c)
{
	return ws(c) || c == '"' || c == '[' || c == '{' || c == ':' ||
	    c == ',' || c == ']' || c == '}';
}

static int
after_token(struct fp *f)
{
	if (f->p == f->e)
		return f->final ? FP_OK : FP_MORE;
	return ends_token((unsigned char)*f->p) ? FP_OK : FP_BAIL;
}

static int
hex4(const char *s)
{
	int i, v = 0, c;

	for (i = 0; i < 4; i++) {
		c = (unsigned char)s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static int
fast_string(struct fp *f, jv *out)
{
	struct reader *r = f->r;
	const char *p = f->p + 1, *start = p, *q;
	size_t n = 0, need;
	char *nb;
	int c, u;

	while (p < f->e && *p != '"' && *p != '\\' &&
	    (unsigned char)*p >= 0x20)
		p++;
	if (p == f->e)
		return FP_MORE;
	if (*p == '"') {
		*out = jv_string_sized(start, (int)(p - start));
		f->p = p + 1;
		return FP_OK;
	}
	if ((unsigned char)*p < 0x20)
		return FP_BAIL;
	/* Escapes: unescape into scratch (never longer than the text). */
	for (q = p; q < f->e && *q != '"'; q++)
		if (*q == '\\' && ++q == f->e)
			break;
	if (q >= f->e)
		return FP_MORE;
	need = (size_t)(q - start);
	if (need > r->scap) {
		if ((nb = realloc(r->scratch, need)) == NULL)
			return FP_BAIL;
		r->scratch = nb;
		r->scap = need;
	}
	for (p = start; p < q;) {
		c = (unsigned char)*p;
		if (c < 0x20)
			return FP_BAIL;
		if (c != '\\') {
			r->scratch[n++] = (char)c;
			p++;
			continue;
		}
		switch (p[1]) {
		case '"': case '\\': case '/': c = p[1]; break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (q - p < 6 || (u = hex4(p + 2)) < 0 ||
			    (u >= 0xd800 && u <= 0xdfff))
				return FP_BAIL;
			if (u < 0x80) {
				r->scratch[n++] = (char)u;
			} else if (u < 0x800) {
				r->scratch[n++] = (char)(0xc0 | u >> 6);
				r->scratch[n++] = (char)(0x80 | (u & 0x3f));
			} else {
				r->scratch[n++] = (char)(0xe0 | u >> 12);
				r->scratch[n++] = (char)(0x80 | (u >> 6 & 0x3f));
				r->scratch[n++] = (char)(0x80 | (u & 0x3f));
			}
			p += 6;
			continue;
		default:
			return FP_BAIL;
		}
		r->scratch[n++] = (char)c;
		p += 2;
	}
	*out = jv_string_sized(r->scratch, (int)n);
	f->p = q + 1;
	return FP_OK;
}

static int
fast_number(struct fp *f, jv *out)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
	    1e19, 1e20, 1e21, 1e22 };
	const char *p = f->p, *s = p;
	char tmp[64];
	uint64_t m = 0;
	int neg = 0, digits = 0, scale = 0, ex = 0, exneg = 0, exd = 0, rc;
	double d;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p == f->e)
		return FP_MORE;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		for (; p < f->e && *p >= '0' && *p <= '9'; p++)
			if (digits < 19) {
				m = m * 10 + (uint64_t)(*p - '0');
				digits++;
			} else
				scale++;
	} else
		return FP_BAIL;
	if (p < f->e && *p == '.') {
		if (++p == f->e)
			return FP_MORE;
		if (*p < '0' || *p > '9')
			return FP_BAIL;
		for (; p < f->e && *p >= '0' && *p <= '9'; p++)
			if (digits < 19) {
				if (m == 0 && *p == '0') {
					scale--;
					continue;
				}
				m = m * 10 + (uint64_t)(*p - '0');
				digits++;
				scale--;
			}
	}
	if (p < f->e && (*p == 'e' || *p == 'E')) {
		if (++p < f->e && (*p == '+' || *p == '-'))
			exneg = *p++ == '-';
		if (p == f->e)
			return FP_MORE;
		if (*p < '0' || *p > '9')
			return FP_BAIL;
		for (; p < f->e && *p >= '0' && *p <= '9'; p++)
			if (++exd < 6)
				ex = ex * 10 + (*p - '0');
		if (exd >= 6)
			ex = 99999;
	}
	f->p = p;
	if ((rc = after_token(f)) != FP_OK)
		return rc;
	scale += exneg ? -ex : ex;
	if (digits <= 15 && scale >= -22 && scale <= 22) {
		/* Exact operands, one correctly rounded operation (Clinger). */
		d = scale >= 0 ? (double)m * p10[scale] : (double)m / p10[-scale];
	} else {
		if ((size_t)(p - s) >= sizeof(tmp))
			return FP_BAIL;
		memcpy(tmp, s, (size_t)(p - s));
		tmp[p - s] = '\0';
		d = strtod(tmp, NULL);
		neg = 0;
	}
	*out = jv_number(neg ? -d : d);
	return FP_OK;
}

static int
fast_lit(struct fp *f, const char *lit, size_t n, jv v, jv *out)
{
	size_t have = (size_t)(f->e - f->p);
	int rc;

	if (memcmp(f->p, lit, have < n ? have : n) != 0)
		return FP_BAIL;
	if (have < n)
		return FP_MORE;
	f->p += n;
	if ((rc = after_token(f)) != FP_OK)
		return rc;
	*out = v;
	return FP_OK;
}

static int
skip_ws(struct fp *f)
{
	while (f->p < f->e && ws((unsigned char)*f->p))
		f->p++;
	return f->p == f->e ? FP_MORE : FP_OK;
}

static int
fast_value(struct fp *f, jv *out, int depth)
{
	jv c, k, v;
	int rc;

	if ((rc = skip_ws(f)) != FP_OK)
		return rc;
	switch (*f->p) {
	case '"':
		return fast_string(f, out);
	case 't':
		return fast_lit(f, "true", 4, jv_true(), out);
	case 'f':
		return fast_lit(f, "false", 5, jv_false(), out);
	case 'n':
		return fast_lit(f, "null", 4, jv_null(), out);
	case '[':
	case '{':
		break;
	default:
		return fast_number(f, out);
	}
	if (depth >= FAST_DEPTH)
		return FP_BAIL;
	if (*f->p++ == '[') {
		c = jv_array();
		if ((rc = skip_ws(f)) != FP_OK)
			goto fail;
		if (*f->p == ']') {
			f->p++;
			*out = c;
			return FP_OK;
		}
		for (;;) {
			if ((rc = fast_value(f, &v, depth + 1)) != FP_OK)
				goto fail;
			c = jv_array_append(c, v);
			if ((rc = skip_ws(f)) != FP_OK)
				goto fail;
			if (*f->p == ']') {
				f->p++;
				*out = c;
				return FP_OK;
			}
			if (*f->p++ != ',') {
				rc = FP_BAIL;
				goto fail;
			}
		}
	}
	c = jv_object();
	if ((rc = skip_ws(f)) != FP_OK)
		goto fail;
	if (*f->p == '}') {
		f->p++;
		*out = c;
		return FP_OK;
	}
	for (;;) {
		if ((rc = skip_ws(f)) != FP_OK)
			goto fail;
		if (*f->p != '"') {
			rc = FP_BAIL;
			goto fail;
		}
		if ((rc = fast_string(f, &k)) != FP_OK)
			goto fail;
		if ((rc = skip_ws(f)) != FP_OK || *f->p++ != ':') {
			jv_free(k);
			rc = rc != FP_OK ? rc : FP_BAIL;
			goto fail;
		}
		if ((rc = fast_value(f, &v, depth + 1)) != FP_OK) {
			jv_free(k);
			goto fail;
		}
		c = jv_object_set(c, k, v);
		if ((rc = skip_ws(f)) != FP_OK)
			goto fail;
		if (*f->p == '}') {
			f->p++;
			*out = c;
			return FP_OK;
		}
		if (*f->p++ != ',') {
			rc = FP_BAIL;
			goto fail;
		}
	}
fail:
	jv_free(c);
	return rc;
}

/* More of the stream into fb; 0, or -1 (then io_error, or batch_end/eof set). */
static int
fast_fill(struct reader *r)
{
	struct jqrun_frame h;
	size_t want;
	char *nb;
	ssize_t n;

	if (r->fpos > 0) {
		memmove(r->fb, r->fb + r->fpos, r->flen - r->fpos);
		r->flen -= r->fpos;
		r->fpos = 0;
	}
	while (r->frame_left == 0) {
		if (header(r, &h) != 0)
			return -1;
		if (h.type == JQRUN_F_DATA)
			r->frame_left = h.len;
		else if (h.type == JQRUN_F_BATCH) {
			r->batch_end = 1;
			return -1;
		} else if (h.type == JQRUN_F_END) {
			r->eof = 1;
			return -1;
		} else {
			r->io_error = 1;
			return -1;
		}
	}
	if (r->flen == r->fcap) {
		if ((nb = realloc(r->fb, r->fcap * 2)) == NULL) {
			r->io_error = 1;
			return -1;
		}
		r->fb = nb;
		r->fcap *= 2;
	}
	want = r->fcap - r->flen;
	if (want > r->frame_left)
		want = r->frame_left;
	do
		n = read(r->fd, r->fb + r->flen, want);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r->io_error = 1;
		return -1;
	}
	r->frame_left -= (uint32_t)n;
	r->flen += (size_t)n;
	return 0;
}

/* Hand what is left of the window to libjq's parser, for good. */
static void
go_slow(struct reader *r)
{
	r->slow = 1;
	if (r->flen > r->fpos)
		jv_parser_set_buf(r->p, r->fb + r->fpos,
		    (int)(r->flen - r->fpos), !r->eof);
	else if (r->eof)
		jv_parser_set_buf(r->p, "", 0, 0);
	r->final = r->eof;
}

static jv next_slow(struct reader *);

static jv
next_value(struct reader *r)
{
	struct fp f;
	jv v;
	int rc;

	while (!r->slow) {
		f.r = r;
		f.p = r->fb + r->fpos;
		f.e = r->fb + r->flen;
		f.final = r->eof;
		if (r->records == 0 && r->flen - r->fpos >= 3 &&
		    memcmp(f.p, "\xef\xbb\xbf", 3) == 0) {
			go_slow(r);	/* jq strips a byte-order mark */
			break;
		}
		rc = fast_value(&f, &v, 0);
		if (rc == FP_OK) {
			r->fpos = (size_t)(f.p - r->fb);
			r->records++;
			r->inbatch++;
			return v;
		}
		if (rc == FP_BAIL || (rc == FP_MORE && r->eof)) {
			go_slow(r);
			break;
		}
		/* FP_MORE: read on, unless the stream or the batch ended. */
		if (r->batch_end || r->io_error)
			return jv_invalid();
		if (fast_fill(r) != 0) {
			if (r->io_error)
				return jv_invalid();
			if (r->eof)
				continue;
			/* A batch ends between values: only blanks may remain. */
			f.p = r->fb + r->fpos;
			f.e = r->fb + r->flen;
			if (skip_ws(&f) != FP_MORE) {
				r->parse_error = 1;
				r->inbatch++;
				return jv_invalid_with_msg(jv_string(
				    "a value spans batches"));
			}
			r->fpos = r->flen;
			return jv_invalid();
		}
	}
	return next_slow(r);
}

/*
 * The next input value; jv_invalid() without a message at the end of the
 * stream or of a batch (r->batch_end), with a message on a parse error.
 */
static jv
next_slow(struct reader *r)
{
	jv v;

	for (;;) {
		v = jv_parser_next(r->p);
		if (jv_is_valid(v)) {
			r->records++;
			r->inbatch++;
			return v;
		}
		if (jv_invalid_has_msg(jv_copy(v))) {
			r->parse_error = 1;
			r->inbatch++;
			return v;
		}
		jv_free(v);
		/* An ASCII RS ends a value without one: the buffer goes on. */
		if (jv_parser_remaining(r->p) > 0)
			continue;
		if (r->final || r->io_error || r->batch_end)
			return jv_invalid();
		if (fill(r) != 0 || r->batch_end)
			return jv_invalid();
		if (r->eof) {
			jv_parser_set_buf(r->p, "", 0, 0);
			r->final = 1;
		}
	}
}

/* Append the values p has to *arr until it needs more; -1 on an error. */
static int
drain(jv_parser *p, jv *arr)
{
	jv v;

	for (;;) {
		v = jv_parser_next(p);
		if (jv_is_valid(v)) {
			*arr = jv_array_append(*arr, v);
			continue;
		}
		if (jv_invalid_has_msg(jv_copy(v))) {
			jv_free(v);
			return -1;
		}
		jv_free(v);
		if (jv_parser_remaining(p) == 0)
			return 0;
	}
}

/* A named input: its NAMED frames, parsed into an array of values. */
static int
read_named(struct reader *r, jv *out)
{
	struct jqrun_frame h;
	jv_parser *p = jv_parser_new(0);
	jv arr = jv_array();
	ssize_t n;
	int done = 0, bad = 0;

	while (!done && !bad) {
		if (header(r, &h) != 0)
			bad = 1;
		else if (h.type == JQRUN_F_NAMED_END) {
			jv_parser_set_buf(p, "", 0, 0);
			done = 1;
		} else if (h.type != JQRUN_F_NAMED) {
			r->io_error = bad = 1;
		} else {
			for (r->frame_left = h.len; r->frame_left > 0 && !bad;) {
				if ((n = payload(r)) < 0) {
					bad = 1;
					break;
				}
				jv_parser_set_buf(p, r->buf, (int)n, 1);
				bad = drain(p, &arr) != 0;
				r->parse_error = bad;
			}
			continue;
		}
		if (!bad && drain(p, &arr) != 0)
			r->parse_error = bad = 1;
	}
	jv_parser_free(p);
	if (bad) {
		jv_free(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

static jv
input_cb(jq_state *jq, void *data)
{
	struct ctx *c = data;

	(void)jq;
	return next_value(&c->r);
}

static void
msg_cb(void *data, jv msg)
{
	struct ctx *c = data;

	if (c->o->stderr_pass) {
		msg = jv_dump_string(msg, 0);
		fprintf(stderr, "jq: %s\n", jv_string_value(msg));
	}
	jv_free(msg);
}

static void
frame_out(struct writer *w, uint32_t type, const void *p, size_t n)
{
	struct jqrun_frame h = { type, (uint32_t)n };

	if (w->io_error)
		return;
	if (writeall(w->fd, &h, sizeof(h)) != 0 ||
	    (n > 0 && writeall(w->fd, p, n) != 0))
		w->io_error = 1;
}

static void
flush(struct writer *w)
{
	struct jqrun_frame h = { JQRUN_F_DATA, (uint32_t)w->len };

	if (w->len == 0 || w->io_error)
		return;
	memcpy(w->buf, &h, sizeof(h));
	if (writeall(w->fd, w->buf, w->len + sizeof(h)) != 0)
		w->io_error = 1;
	w->len = 0;
}

static void
put(struct writer *w, const char *s, size_t n)
{
	size_t k;

	while (n > 0 && !w->io_error) {
		if (w->len == WBUFSZ)
			flush(w);
		k = WBUFSZ - w->len;
		if (k > n)
			k = n;
		memcpy(w->buf + sizeof(struct jqrun_frame) + w->len, s, k);
		w->len += k;
		s += k;
		n -= k;
	}
}

/*
 * Printing as jq 1.6 prints with -c (jv_dump_term without flags), but
 * whole runs of bytes at a time: libjq emits strings a character at a
 * time and numbers through dtoa, which made printing a third of the cost.
 */

/* jq's layout of a decimal: digits d (n of them), point after decpt. */
static void
put_decimal(struct writer *w, int neg, const char *d, int n, int decpt)
{
	char b[64];
	int i, k = 0, e;

	if (neg)
		b[k++] = '-';
	if (decpt <= -4 || decpt > n + 15) {
		b[k++] = d[0];
		if (n > 1) {
			b[k++] = '.';
			for (i = 1; i < n; i++)
				b[k++] = d[i];
		}
		b[k++] = 'e';
		e = decpt - 1;
		b[k++] = e < 0 ? '-' : '+';
		k += snprintf(b + k, sizeof(b) - (size_t)k, "%02d", e < 0 ? -e : e);
	} else if (decpt <= 0) {
		b[k++] = '0';
		b[k++] = '.';
		for (i = decpt; i < 0; i++)
			b[k++] = '0';
		for (i = 0; i < n; i++)
			b[k++] = d[i];
	} else {
		for (i = 0; i < n; i++) {
			b[k++] = d[i];
			if (i + 1 == decpt && i + 1 < n)
				b[k++] = '.';
		}
		for (i = n; i < decpt; i++)
			b[k++] = '0';
	}
	put(w, b, (size_t)k);
}

/* The decimal digits of v into d (at least 21 bytes); their count. */
static int
utoa(char *d, uint64_t v)
{
	char t[24];
	int n = 0, i;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		d[i] = t[n - 1 - i];
	d[n] = '\0';
	return n;
}

/* The shortest digits that read back as x, as dtoa's mode 0 gives them. */
static void
put_number(struct writer *w, double x)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8 };
	char d[40], e[40];
	int neg, n, k, decpt, prec;
	double m, ax;
	char *p;

	if (x != x) {
		put(w, "null", 4);
		return;
	}
	if (x > DBL_MAX)
		x = DBL_MAX;
	if (x < -DBL_MAX)
		x = -DBL_MAX;
	neg = signbit(x) != 0;
	ax = fabs(x);
	if (ax == 0) {
		put_decimal(w, neg, "0", 1, 1);
		return;
	}
	/* Few decimals (amounts, ids): m / 10^k is x exactly when rounded. */
	for (k = 0; k <= 8 && ax < 1e15; k++) {
		m = nearbyint(ax * p10[k]);
		if (m / p10[k] == ax && m < 9007199254740992.0) {
			n = utoa(d, (uint64_t)m);
			decpt = n - k;
			while (n > 1 && d[n - 1] == '0')
				n--;
			put_decimal(w, neg, d, n, decpt);
			return;
		}
	}
	/*
	 * Otherwise the fewest of 15, 16 or 17 digits that read back (15
	 * rounded digits always end in the zeros of a shorter form, except
	 * for subnormals, which have fewer digits of precision).
	 */
	for (prec = ax < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, ax);
		if (prec == 17 || strtod(e, NULL) == ax)
			break;
	}
	p = strchr(e, 'e');
	decpt = atoi(p + 1) + 1;
	for (n = 0, k = 0; e + k < p; k++)
		if (e[k] != '.')
			d[n++] = e[k];
	while (n > 1 && d[n - 1] == '0')
		n--;
	put_decimal(w, neg, d, n, decpt);
}

static void
put_string(struct writer *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	char esc[8];
	unsigned char c;

	put(w, "\"", 1);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		put(w, s + start, i - start);
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(w, esc, 6);
			continue;
		}
		put(w, esc, 2);
	}
	put(w, s + start, n - start);
	put(w, "\"", 1);
}

/* Print x (borrowed). */
static void
dump(struct writer *w, jv x)
{
	jv k, v;
	int i, n;

	switch (jv_get_kind(x)) {
	case JV_KIND_NULL:
		put(w, "null", 4);
		break;
	case JV_KIND_FALSE:
		put(w, "false", 5);
		break;
	case JV_KIND_TRUE:
		put(w, "true", 4);
		break;
	case JV_KIND_NUMBER:
		put_number(w, jv_number_value(x));
		break;
	case JV_KIND_STRING:
		put_string(w, jv_string_value(x),
		    (size_t)jv_string_length_bytes(jv_copy(x)));
		break;
	case JV_KIND_ARRAY:
		put(w, "[", 1);
		n = jv_array_length(jv_copy(x));
		for (i = 0; i < n; i++) {
			if (i > 0)
				put(w, ",", 1);
			v = jv_array_get(jv_copy(x), i);
			dump(w, v);
			jv_free(v);
		}
		put(w, "]", 1);
		break;
	case JV_KIND_OBJECT:
		put(w, "{", 1);
		for (n = 0, i = jv_object_iter(x); jv_object_iter_valid(x, i);
		    i = jv_object_iter_next(x, i), n++) {
			if (n > 0)
				put(w, ",", 1);
			k = jv_object_iter_key(x, i);
			v = jv_object_iter_value(x, i);
			put_string(w, jv_string_value(k),
			    (size_t)jv_string_length_bytes(jv_copy(k)));
			put(w, ":", 1);
			dump(w, v);
			jv_free(k);
			jv_free(v);
		}
		put(w, "}", 1);
		break;
	default:
		/* Not a result jq prints; libjq's own printer says what it is. */
		v = jv_dump_string(jv_copy(x), 0);
		put(w, jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
		jv_free(v);
		break;
	}
}

/*
 * Run the program on one input. Returns JQRUN_OK or a failure code; *stop
 * is set when the program halted successfully.
 */
static int
process(jq_state *jq, struct ctx *c, jv in, int *lastkind, int *stop)
{
	jv r, code;
	int rc = JQRUN_OK;

	jq_start(jq, in, 0);
	while (jv_is_valid(r = jq_next(jq))) {
		if (c->o->raw_output && jv_get_kind(r) == JV_KIND_STRING) {
			put(&c->w, jv_string_value(r),
			    (size_t)jv_string_length_bytes(jv_copy(r)));
			*lastkind = JV_KIND_TRUE;
			jv_free(r);
		} else {
			*lastkind = jv_get_kind(r);
			dump(&c->w, r);
			jv_free(r);
		}
		put(&c->w, "\n", 1);
		c->w.results++;
	}
	if (jq_halted(jq)) {
		*stop = 1;
		code = jq_get_exit_code(jq);
		if (jv_is_valid(code) && !(jv_get_kind(code) == JV_KIND_NUMBER &&
		    jv_number_value(code) == 0))
			rc = JQRUN_HALT;
		jv_free(code);
		if (c->o->stderr_pass) {
			code = jq_get_error_message(jq);
			if (jv_get_kind(code) == JV_KIND_STRING)
				fprintf(stderr, "%s", jv_string_value(code));
			else if (jv_is_valid(code))
				msg_cb(c, jv_copy(code));
			jv_free(code);
		}
	} else if (jv_invalid_has_msg(jv_copy(r))) {
		rc = c->r.parse_error ? JQRUN_PARSE : JQRUN_ERROR;
		if (c->o->stderr_pass && rc == JQRUN_ERROR) {
			code = jv_invalid_get_msg(jv_copy(r));
			if (jv_get_kind(code) == JV_KIND_STRING)
				fprintf(stderr, "jq: error: %s\n",
				    jv_string_value(code));
			else
				msg_cb(c, jv_copy(code));
			jv_free(code);
		}
	}
	jv_free(r);
	if (c->r.parse_error)
		rc = JQRUN_PARSE;
	if (c->r.io_error || c->w.io_error)
		rc = JQRUN_IO;
	return rc;
}

static int
run(jq_state *jq, struct ctx *c)
{
	const struct jqrun_opts *o = c->o;
	int rc = JQRUN_OK, lastkind = JV_KIND_INVALID, stop = 0;
	uint64_t cnt;
	jv v, x;

	if (o->null_input) {
		rc = process(jq, c, jv_null(), &lastkind, &stop);
	} else if (o->slurp) {
		v = jv_array();
		for (;;) {
			x = next_value(&c->r);
			if (jv_is_valid(x)) {
				v = jv_array_append(v, x);
				continue;
			}
			jv_free(x);
			if (!c->r.batch_end)
				break;
			c->r.batch_end = 0;
		}
		if (c->r.parse_error || c->r.io_error) {
			jv_free(v);
			return c->r.parse_error ? JQRUN_PARSE : JQRUN_IO;
		}
		rc = process(jq, c, v, &lastkind, &stop);
	} else {
		while (rc == JQRUN_OK && !stop) {
			v = next_value(&c->r);
			if (jv_is_valid(v)) {
				rc = process(jq, c, v, &lastkind, &stop);
				continue;
			}
			jv_free(v);
			if (c->r.parse_error) {
				rc = JQRUN_PARSE;
			} else if (c->r.io_error) {
				rc = JQRUN_IO;
			} else if (c->r.batch_end) {
				flush(&c->w);
				cnt = c->r.inbatch;
				frame_out(&c->w, JQRUN_F_BATCH, &cnt, sizeof(cnt));
				c->r.batch_end = 0;
				c->r.inbatch = 0;
			} else
				break;
		}
	}
	if (rc == JQRUN_OK)
		flush(&c->w);
	if (rc == JQRUN_OK && c->w.io_error)
		rc = JQRUN_IO;
	if (rc == JQRUN_OK && o->exit_status) {
		if (c->w.results == 0)
			rc = JQRUN_NOOUT;
		else if (lastkind == JV_KIND_FALSE || lastkind == JV_KIND_NULL)
			rc = JQRUN_FALSE;
	}
	return rc;
}

int
jqrun_main(const char *prog, jv vars, jv positional,
    const struct jqrun_opts *o, int in, int out)
{
	static char *empty_env[] = { NULL };
	struct jqrun_status st;
	struct ctx c;
	jq_state *jq = NULL;
	jv args, arr;
	int rc = JQRUN_OK, k;

	memset(&st, 0, sizeof(st));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.r.fd = in;
	c.w.fd = out;
	/*
	 * An empty environment: no HOME, for libjq 1.6 would load $HOME/.jq,
	 * which can redefine builtins, and an empty $ENV. (clearenv() would
	 * leave environ NULL, which libjq's $ENV does not expect.)
	 */
	clearenv();
	environ = empty_env;
	c.r.buf = malloc(RBUFSZ);
	c.r.fcap = RBUFSZ;
	c.r.fb = malloc(c.r.fcap);
	c.w.buf = malloc(WBUFSZ + sizeof(struct jqrun_frame));
	c.r.p = jv_parser_new(0);
	if (c.r.buf == NULL || c.r.fb == NULL || c.w.buf == NULL ||
	    c.r.p == NULL) {
		rc = JQRUN_IO;
		goto out;
	}
	for (k = 0; k < o->nnamed; k++) {
		if (read_named(&c.r, &arr) != 0) {
			rc = c.r.parse_error ? JQRUN_PARSE : JQRUN_IO;
			st.named = (uint32_t)k + 1;
			c.r.parse_error = 0;
			goto out;
		}
		vars = jv_object_set(vars, jv_string(o->names[k]), arr);
	}
	if ((jq = jq_init()) == NULL) {
		rc = JQRUN_IO;
		goto out;
	}
	jq_set_error_cb(jq, msg_cb, &c);
	jq_set_debug_cb(jq, msg_cb, &c);
	jq_set_input_cb(jq, input_cb, &c);
	jq_set_attr(jq, jv_string("JQ_LIBRARY_PATHS"), jv_array());
	jq_set_attr(jq, jv_string("JQ_ORIGIN"), jv_string("/nonexistent"));
	jq_set_attr(jq, jv_string("PROGRAM_ORIGIN"), jv_string("/nonexistent"));
	args = jv_object_set(jv_copy(vars), jv_string("ARGS"),
	    JV_OBJECT(jv_string("positional"), positional,
	    jv_string("named"), jv_copy(vars)));
	positional = jv_invalid();
	if (!jq_compile_args(jq, prog, args)) {
		rc = JQRUN_COMPILE;
		goto out;
	}
	rc = run(jq, &c);
out:
	jv_free(vars);
	jv_free(positional);
	st.code = (uint32_t)rc;
	st.record = c.r.inbatch;
	st.records = c.r.records;
	st.results = c.w.results;
	c.w.io_error = 0;
	frame_out(&c.w, JQRUN_F_STATUS, &st, sizeof(st));
	if (jq != NULL)
		jq_teardown(&jq);
	if (c.r.p != NULL)
		jv_parser_free(c.r.p);
	free(c.r.buf);
	free(c.r.fb);
	free(c.r.scratch);
	free(c.w.buf);
	return rc == JQRUN_OK ? 0 : EXIT_PROGRAM;
}
