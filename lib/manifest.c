#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "agekey.h"
#include "exitcode.h"
#include "io.h"
#include "jsonio.h"
#include "manifest.h"
#include "sig.h"

/*
 * RFC 8785 (JCS): objects with members sorted by the UTF-16 code units of
 * their names, strings escaped as ECMAScript's JSON.stringify does, numbers
 * as ECMAScript's Number.prototype.toString writes them.
 */

struct buf {
	char *p;
	size_t n, cap;
	int oom;
};

static void
put(struct buf *b, const void *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (b->n + n + 1 > cap)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Next UTF-16 code unit of a valid UTF-8 string; *pend holds a low surrogate. */
static int
u16next(const unsigned char **s, const unsigned char *end, unsigned *pend)
{
	const unsigned char *p = *s;
	unsigned c;

	if (*pend) {
		c = *pend;
		*pend = 0;
		return (int)c;
	}
	if (p >= end)
		return -1;
	if (p[0] < 0x80) {
		c = p[0];
		p += 1;
	} else if ((p[0] & 0xe0) == 0xc0 && end - p >= 2) {
		c = (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu);
		p += 2;
	} else if ((p[0] & 0xf0) == 0xe0 && end - p >= 3) {
		c = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
		p += 3;
	} else if (end - p >= 4) {
		c = (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 |
		    (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
		p += 4;
	} else {
		c = p[0];
		p = end;
	}
	*s = p;
	if (c >= 0x10000) {
		c -= 0x10000;
		*pend = 0xdc00 | (c & 0x3ff);
		return (int)(0xd800 | (c >> 10));
	}
	return (int)c;
}

static int
u16cmp(jv a, jv b)
{
	const unsigned char *p = (const unsigned char *)jv_string_value(a);
	const unsigned char *q = (const unsigned char *)jv_string_value(b);
	const unsigned char *pe = p + jv_string_length_bytes(jv_copy(a));
	const unsigned char *qe = q + jv_string_length_bytes(jv_copy(b));
	unsigned pp = 0, qp = 0;
	int x, y;

	for (;;) {
		x = u16next(&p, pe, &pp);
		y = u16next(&q, qe, &qp);
		if (x != y || x < 0)
			return x < y ? -1 : x > y;
	}
}

static int
keycmp(const void *a, const void *b)
{
	return u16cmp(*(const jv *)a, *(const jv *)b);
}

static void
put_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	char esc[8];

	put(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *r = NULL;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': r = "\\\""; break;
		case '\\': r = "\\\\"; break;
		case '\b': r = "\\b"; break;
		case '\f': r = "\\f"; break;
		case '\n': r = "\\n"; break;
		case '\r': r = "\\r"; break;
		case '\t': r = "\\t"; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
			r = esc;
		}
		puts_(b, r);
	}
	put(b, s + start, n - start);
	put(b, "\"", 1);
}

/* ECMAScript Number::toString(m) for a finite double (ECMA-262 6.1.6.1.20). */
static void
put_number(struct buf *b, double m)
{
	char tmp[40], digits[24], out[48];
	int prec, k = 0, n, exp10, i, o = 0;
	char *p;

	if (m == 0) {	/* also -0 */
		put(b, "0", 1);
		return;
	}
	if (m < 0) {
		put(b, "-", 1);
		m = -m;
	}
	/* Shortest digit string that reads back as m, correctly rounded. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, m);
		if (strtod(tmp, NULL) == m)
			break;
	}
	for (p = tmp; *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[k++] = *p;
	exp10 = atoi(p + 1);
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	n = exp10 + 1;
	if (k <= n && n <= 21) {
		memcpy(out, digits, (size_t)k);
		o = k;
		for (i = 0; i < n - k; i++)
			out[o++] = '0';
	} else if (0 < n && n <= 21) {
		memcpy(out, digits, (size_t)n);
		o = n;
		out[o++] = '.';
		memcpy(out + o, digits + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < -n; i++)
			out[o++] = '0';
		memcpy(out + o, digits, (size_t)k);
		o += k;
	} else {
		out[o++] = digits[0];
		if (k > 1) {
			out[o++] = '.';
			memcpy(out + o, digits + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += snprintf(out + o, sizeof(out) - (size_t)o, "e%c%d",
		    n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	put(b, out, (size_t)o);
}

static int
canon(struct buf *b, jv v, int depth, struct err *e)
{
	jv keys = jv_invalid();
	jv *kv = NULL;
	int i, len, rc = -1;
	double d;

	if (depth > 256) {
		err_set(e, EXIT_DATA, "JSON nested too deeply");
		goto out;
	}
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		puts_(b, "null");
		break;
	case JV_KIND_TRUE:
		puts_(b, "true");
		break;
	case JV_KIND_FALSE:
		puts_(b, "false");
		break;
	case JV_KIND_NUMBER:
		d = jv_number_value(v);
		if (!isfinite(d)) {
			err_set(e, EXIT_DATA, "number not representable in JSON");
			goto out;
		}
		put_number(b, d);
		break;
	case JV_KIND_STRING:
		put_string(b, jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_ARRAY:
		put(b, "[", 1);
		len = jv_array_length(jv_copy(v));
		for (i = 0; i < len; i++) {
			if (i > 0)
				put(b, ",", 1);
			if (canon(b, jv_array_get(jv_copy(v), i), depth + 1,
			    e) != 0)
				goto out;
		}
		put(b, "]", 1);
		break;
	case JV_KIND_OBJECT:
		keys = jv_keys_unsorted(jv_copy(v));
		len = jv_array_length(jv_copy(keys));
		if ((kv = calloc((size_t)len + 1, sizeof(*kv))) == NULL) {
			err_set(e, EXIT_IO, "out of memory");
			goto out;
		}
		for (i = 0; i < len; i++)
			kv[i] = jv_array_get(jv_copy(keys), i);
		qsort(kv, (size_t)len, sizeof(*kv), keycmp);
		put(b, "{", 1);
		for (i = 0; i < len; i++) {
			if (i > 0)
				put(b, ",", 1);
			put_string(b, jv_string_value(kv[i]),
			    (size_t)jv_string_length_bytes(jv_copy(kv[i])));
			put(b, ":", 1);
			if (canon(b, jv_object_get(jv_copy(v), jv_copy(kv[i])),
			    depth + 1, e) != 0)
				goto out;
		}
		put(b, "}", 1);
		break;
	default:
		err_set(e, EXIT_DATA, "not a JSON value");
		goto out;
	}
	rc = 0;
out:
	if (kv != NULL) {
		for (i = 0; i < len; i++)
			jv_free(kv[i]);
		free(kv);
	}
	jv_free(keys);
	jv_free(v);
	return rc;
}

int
manifest_canonical(jv v, char **out, size_t *len, struct err *e)
{
	struct buf b = { 0 };

	if (canon(&b, v, 0, e) != 0) {
		free(b.p);
		return -1;
	}
	if (b.oom || (b.p == NULL && (b.p = calloc(1, 1)) == NULL)) {
		free(b.p);
		return err_set(e, EXIT_IO, "out of memory");
	}
	*out = b.p;
	*len = b.n;
	return 0;
}

int
manifest_measure(jv m, char *out, struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *c;
	size_t n, i;

	if (manifest_canonical(m, &c, &n, e) != 0)
		return -1;
	if (EVP_Digest(c, n, md, &mdlen, EVP_sha256(), NULL) != 1) {
		free(c);
		return err_set(e, EXIT_IO, "SHA-256 failed");
	}
	free(c);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[71] = '\0';
	return 0;
}

/* Validation: every field of docs/formats.md "Manifest", nothing else. */

static int
fail(struct err *e, const char *field, const char *what)
{
	return err_set(e, EXIT_DATA, "manifest: %s: %s", field, what);
}

static int
is_kind(jv v, jv_kind k)
{
	return jv_get_kind(v) == k;
}

static int
is_bool(jv v)
{
	return is_kind(v, JV_KIND_TRUE) || is_kind(v, JV_KIND_FALSE);
}

static int
is_uint(jv v, double min)
{
	double d;

	if (!is_kind(v, JV_KIND_NUMBER))
		return 0;
	d = jv_number_value(v);
	return d >= min && d <= 9007199254740991.0 && d == floor(d);
}

/* Every key of o is one of allowed (NULL-terminated); else names it. */
static int
only_keys(jv o, const char *const *allowed, const char *where, struct err *e)
{
	jv keys = jv_keys_unsorted(jv_copy(o));
	int i, j, len = jv_array_length(jv_copy(keys)), rc = 0;

	for (i = 0; i < len && rc == 0; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(jv_string_value(k), allowed[j]) == 0)
				break;
		if (allowed[j] == NULL)
			rc = err_set(e, EXIT_DATA,
			    "manifest: %s%s%.64s: unknown field", where,
			    *where ? "." : "", jv_string_value(k));
		jv_free(k);
	}
	jv_free(keys);
	return rc;
}

static int
require_keys(jv o, const char *const *req, const char *where, struct err *e)
{
	int j;

	for (j = 0; req[j] != NULL; j++)
		if (!jv_object_has(jv_copy(o), jv_string(req[j])))
			return err_set(e, EXIT_DATA,
			    "manifest: %s%s%s: missing", where, *where ? "." : "",
			    req[j]);
	return 0;
}

int
manifest_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9') || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* A sorted array of unique strings, each accepted by ok. */
static int
sorted_strings(jv a, int (*ok)(const char *), const char *field,
    struct err *e)
{
	int i, len;
	jv prev = jv_invalid(), x;

	if (!is_kind(a, JV_KIND_ARRAY))
		return fail(e, field, "not an array");
	len = jv_array_length(jv_copy(a));
	for (i = 0; i < len; i++) {
		x = jv_array_get(jv_copy(a), i);
		if (!is_kind(x, JV_KIND_STRING) || !ok(jv_string_value(x))) {
			jv_free(x);
			jv_free(prev);
			return fail(e, field, "malformed entry");
		}
		if (i > 0 && strcmp(jv_string_value(prev),
		    jv_string_value(x)) >= 0) {
			jv_free(x);
			jv_free(prev);
			return fail(e, field, "not sorted and unique");
		}
		jv_free(prev);
		prev = x;
	}
	jv_free(prev);
	return 0;
}

static int
ok_signer(const char *s)
{
	unsigned char pub[32];

	return sig_signer_parse(s, pub, NULL) == 0;
}

static int
ok_recipient(const char *s)
{
	unsigned char pub[32];

	return age_recipient_parse(s, pub, NULL) == 0;
}

static int
ok_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static int
ok_backend(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_'))
			return 0;
	return i > 0 && i <= 32;
}

static int
check_program(jv p, struct err *e)
{
	static const char *const keys[] = { "path", "sha256", NULL };
	jv x;
	int rc = 0;

	if (!is_kind(p, JV_KIND_OBJECT))
		return fail(e, "program", "not an object");
	if (only_keys(p, keys, "program", e) != 0 ||
	    require_keys(p, keys, "program", e) != 0)
		return -1;
	x = jv_object_get(jv_copy(p), jv_string("path"));
	if (!is_kind(x, JV_KIND_STRING) || jv_string_value(x)[0] == '\0' ||
	    strlen(jv_string_value(x)) > 4096)
		rc = fail(e, "program.path", "not a path");
	jv_free(x);
	if (rc != 0)
		return rc;
	x = jv_object_get(jv_copy(p), jv_string("sha256"));
	if (!is_kind(x, JV_KIND_STRING) || !ok_hex64(jv_string_value(x)))
		rc = fail(e, "program.sha256", "not 64 lowercase hex digits");
	jv_free(x);
	return rc;
}

static int
check_jq(jv q, struct err *e)
{
	static const char *const keys[] = { "raw_output", "null_input",
	    "slurp", "exit_status", "arg", "argjson", NULL };
	static const char *const flags[] = { "raw_output", "null_input",
	    "slurp", "exit_status", NULL };
	jv x, k;
	int i, j, len, rc = 0;

	if (!is_kind(q, JV_KIND_OBJECT))
		return fail(e, "jq", "not an object");
	if (only_keys(q, keys, "jq", e) != 0 ||
	    require_keys(q, keys, "jq", e) != 0)
		return -1;
	for (i = 0; flags[i] != NULL && rc == 0; i++) {
		x = jv_object_get(jv_copy(q), jv_string(flags[i]));
		if (!is_bool(x))
			rc = err_set(e, EXIT_DATA, "manifest: jq.%s: not a "
			    "boolean", flags[i]);
		jv_free(x);
	}
	for (i = 0; i < 2 && rc == 0; i++) {
		const char *f = i == 0 ? "arg" : "argjson";
		x = jv_object_get(jv_copy(q), jv_string(f));
		if (!is_kind(x, JV_KIND_OBJECT)) {
			jv_free(x);
			return err_set(e, EXIT_DATA, "manifest: jq.%s: not an "
			    "object", f);
		}
		k = jv_keys_unsorted(jv_copy(x));
		len = jv_array_length(jv_copy(k));
		for (j = 0; j < len && rc == 0; j++) {
			jv name = jv_array_get(jv_copy(k), j);
			jv val = jv_object_get(jv_copy(x), jv_copy(name));
			if (!manifest_name_ok(jv_string_value(name)))
				rc = err_set(e, EXIT_DATA, "manifest: jq.%s: "
				    "malformed name", f);
			else if (i == 0 && !is_kind(val, JV_KIND_STRING))
				rc = err_set(e, EXIT_DATA, "manifest: jq.arg.%s: "
				    "not a string", jv_string_value(name));
			jv_free(name);
			jv_free(val);
		}
		jv_free(k);
		jv_free(x);
	}
	return rc;
}

static int
check_output(jv o, struct err *e)
{
	static const char *const keys[] = { "mode", "plain", "pad", NULL };
	jv x;
	int rc = 0;

	if (!is_kind(o, JV_KIND_OBJECT))
		return fail(e, "output", "not an object");
	if (only_keys(o, keys, "output", e) != 0 ||
	    require_keys(o, keys, "output", e) != 0)
		return -1;
	x = jv_object_get(jv_copy(o), jv_string("mode"));
	if (!is_kind(x, JV_KIND_STRING) || (strcmp(jv_string_value(x), "one") &&
	    strcmp(jv_string_value(x), "split")))
		rc = fail(e, "output.mode", "not \"one\" or \"split\"");
	jv_free(x);
	x = jv_object_get(jv_copy(o), jv_string("plain"));
	if (rc == 0 && !is_bool(x))
		rc = fail(e, "output.plain", "not a boolean");
	jv_free(x);
	x = jv_object_get(jv_copy(o), jv_string("pad"));
	if (rc == 0 && !is_uint(x, 0))
		rc = fail(e, "output.pad", "not a non-negative integer");
	jv_free(x);
	return rc;
}

static int
check_limits(jv o, struct err *e)
{
	static const char *const keys[] = { "timeout_s", "memory_bytes",
	    "jobs", NULL };
	int i, rc = 0;

	if (!is_kind(o, JV_KIND_OBJECT))
		return fail(e, "limits", "not an object");
	if (only_keys(o, keys, "limits", e) != 0 ||
	    require_keys(o, keys, "limits", e) != 0)
		return -1;
	for (i = 0; keys[i] != NULL && rc == 0; i++) {
		jv x = jv_object_get(jv_copy(o), jv_string(keys[i]));
		if (!is_uint(x, 1))
			rc = err_set(e, EXIT_DATA, "manifest: limits.%s: not a "
			    "positive integer", keys[i]);
		jv_free(x);
	}
	return rc;
}

static int
check_fields(jv m, struct err *e)
{
	static const char *const keys[] = { "ti", "kind", "program", "argv",
	    "jq", "inputs", "from", "to", "output", "input", "stderr",
	    "limits", "backend", NULL };
	static const char *const req[] = { "ti", "kind", "program", "argv",
	    "inputs", "from", "to", "output", "input", "stderr", "limits",
	    "backend", NULL };
	static const char *const inkeys[] = { "plain", NULL };
	jv x, y;
	int jq, rc, plain_in, plain_out, nto, nin, null_input = 0;

	if (!is_kind(m, JV_KIND_OBJECT))
		return err_set(e, EXIT_DATA, "manifest: not a JSON object");
	if (only_keys(m, keys, "", e) != 0 || require_keys(m, req, "", e) != 0)
		return -1;
	x = jv_object_get(jv_copy(m), jv_string("ti"));
	rc = is_kind(x, JV_KIND_STRING) &&
	    strcmp(jv_string_value(x), "manifest/v1") == 0;
	jv_free(x);
	if (!rc)
		return fail(e, "ti", "not \"manifest/v1\"");
	x = jv_object_get(jv_copy(m), jv_string("kind"));
	if (!is_kind(x, JV_KIND_STRING) || (strcmp(jv_string_value(x), "jq") &&
	    strcmp(jv_string_value(x), "exec"))) {
		jv_free(x);
		return fail(e, "kind", "not \"jq\" or \"exec\"");
	}
	jq = strcmp(jv_string_value(x), "jq") == 0;
	jv_free(x);
	x = jv_object_get(jv_copy(m), jv_string("program"));
	if (check_program(x, e) != 0) {
		jv_free(x);
		return -1;
	}
	y = jv_object_get(x, jv_string("path"));
	rc = !jq && jv_string_value(y)[0] != '/';
	jv_free(y);
	if (rc)
		return fail(e, "program.path", "not absolute");
	x = jv_object_get(jv_copy(m), jv_string("argv"));
	rc = is_kind(x, JV_KIND_ARRAY);
	if (rc) {
		int i, len = jv_array_length(jv_copy(x));
		for (i = 0; i < len && rc; i++) {
			y = jv_array_get(jv_copy(x), i);
			rc = is_kind(y, JV_KIND_STRING);
			jv_free(y);
		}
	}
	jv_free(x);
	if (!rc)
		return fail(e, "argv", "not an array of strings");
	if (jq != jv_object_has(jv_copy(m), jv_string("jq")))
		return fail(e, "jq", jq ? "missing" : "only for kind \"jq\"");
	if (jq) {
		x = jv_object_get(jv_copy(m), jv_string("jq"));
		if (check_jq(x, e) != 0) {
			jv_free(x);
			return -1;
		}
		null_input = is_kind(jv_object_get(x, jv_string("null_input")),
		    JV_KIND_TRUE);
	}
	x = jv_object_get(jv_copy(m), jv_string("inputs"));
	rc = sorted_strings(x, manifest_name_ok, "inputs", e);
	nin = rc == 0 ? jv_array_length(jv_copy(x)) : 0;
	jv_free(x);
	if (rc != 0)
		return -1;
	x = jv_object_get(jv_copy(m), jv_string("to"));
	rc = sorted_strings(x, ok_recipient, "to", e);
	nto = rc == 0 ? jv_array_length(jv_copy(x)) : 0;
	jv_free(x);
	if (rc != 0)
		return -1;
	x = jv_object_get(jv_copy(m), jv_string("output"));
	if (check_output(x, e) != 0) {
		jv_free(x);
		return -1;
	}
	plain_out = is_kind(jv_object_get(x, jv_string("plain")),
	    JV_KIND_TRUE);
	x = jv_object_get(jv_copy(m), jv_string("input"));
	if (!is_kind(x, JV_KIND_OBJECT)) {
		jv_free(x);
		return fail(e, "input", "not an object");
	}
	if (only_keys(x, inkeys, "input", e) != 0 ||
	    require_keys(x, inkeys, "input", e) != 0) {
		jv_free(x);
		return -1;
	}
	y = jv_object_get(x, jv_string("plain"));
	if (!is_bool(y)) {
		jv_free(y);
		return fail(e, "input.plain", "not a boolean");
	}
	plain_in = is_kind(y, JV_KIND_TRUE);
	jv_free(y);
	x = jv_object_get(jv_copy(m), jv_string("from"));
	if (is_kind(x, JV_KIND_STRING)) {
		rc = strcmp(jv_string_value(x), "any") == 0 ? 0 :
		    fail(e, "from", "not \"any\" or an array of signing keys");
	} else {
		rc = sorted_strings(x, ok_signer, "from", e);
		if (rc == 0 && jv_array_length(jv_copy(x)) == 0 && !plain_in &&
		    !(null_input && nin == 0))
			rc = fail(e, "from", "sealed input needs senders "
			    "(--from KEYFILE or --from any) or --plain-in");
	}
	jv_free(x);
	if (rc != 0)
		return -1;
	if (!plain_out && nto == 0)
		return fail(e, "to", "sealed output needs at least one "
		    "recipient (--to), or --plain-out");
	if (plain_out && nto > 0)
		return fail(e, "to", "recipients given for plaintext output");
	x = jv_object_get(jv_copy(m), jv_string("stderr"));
	rc = is_kind(x, JV_KIND_STRING) && (!strcmp(jv_string_value(x), "drop") ||
	    !strcmp(jv_string_value(x), "pass"));
	jv_free(x);
	if (!rc)
		return fail(e, "stderr", "not \"drop\" or \"pass\"");
	x = jv_object_get(jv_copy(m), jv_string("limits"));
	rc = check_limits(x, e);
	jv_free(x);
	if (rc != 0)
		return -1;
	x = jv_object_get(jv_copy(m), jv_string("backend"));
	rc = is_kind(x, JV_KIND_STRING) && ok_backend(jv_string_value(x));
	jv_free(x);
	if (!rc)
		return fail(e, "backend", "not a backend name");
	return 0;
}

int
manifest_check(jv m, struct err *e)
{
	int rc = check_fields(m, e);

	jv_free(m);
	return rc;
}

int
manifest_load(const char *path, jv *m, struct err *e)
{
	unsigned char *buf = NULL;
	size_t n;
	jv v;

	if (io_slurp(path, MANIFEST_MAX, &buf, &n, e) != 0)
		return err_prefix(e, "manifest");
	/* Not jv_parse_sized: its messages quote the input, bytes and all. */
	v = jsonio_parse((const char *)buf, n, "malformed manifest", e);
	free(buf);
	if (!jv_is_valid(v)) {
		jv_free(v);
		return err_prefix(e, "%s", path ? path : "-");
	}
	if (manifest_check(jv_copy(v), e) != 0) {
		jv_free(v);
		return err_prefix(e, "%s", path ? path : "-");
	}
	*m = v;
	return 0;
}
