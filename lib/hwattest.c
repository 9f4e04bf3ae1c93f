/*
 * The hardware attestation backends (tsm, nitro, sgx) and evidence
 * verifiers (nitro, sgx, tdx, sev-snp) behind backend.h.
 *
 * A hardware quote is one line (docs/backends.md, "Evidence line"):
 *   ti-hw1.<tee>.<claims>.<evidence>[.<aux>]
 * each part base64url: claims is the JSON object of the bound claims
 * (measurement, recipient, sig_key, nonce, data), evidence the native
 * quote, report or document whose report_data is attest_report_data() of
 * those claims, aux what came with it: the SEV-SNP certificate table of
 * configfs-tsm's auxblob, or DCAP collateral JSON.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "b64.h"
#include "backend.h"
#include "dcap.h"
#include "exitcode.h"
#include "gramine.h"
#include "hwevidence.h"
#include "keyfile.h"
#include "nitro.h"
#include "snp.h"
#include "tsm.h"

#define PREFIX "ti-hw1."

static int
pathof(char *out, size_t n, const char *home, const char *name,
    struct err *e)
{
	if ((size_t)snprintf(out, n, "%s/%s", home, name) >= n)
		return err_set(e, EXIT_USAGE, "platform directory name too "
		    "long");
	return 0;
}

/*
 * A hardware platform is a per-boot secret made inside the TEE (home
 * belongs on the TEE's own memory, e.g. a tmpfs) and the backend's name.
 */
static int
hw_init(const char *home, const char *name, struct err *e)
{
	unsigned char secret[32];
	char path[4096], line[16];
	struct stat st;
	int rc;

	if (pathof(path, sizeof(path), home, "platform.key", e) != 0)
		return -1;
	if (lstat(path, &st) == 0)
		return err_set(e, EXIT_NO, "a platform already exists in %s "
		    "(platform.key); not overwriting it", home);
	if (RAND_priv_bytes(secret, sizeof(secret)) != 1)
		return err_set(e, EXIT_IO, "no randomness");
	rc = keyfile_write(path, secret, sizeof(secret), e);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc != 0)
		return -1;
	snprintf(line, sizeof(line), "%s\n", name);
	if (pathof(path, sizeof(path), home, "backend", e) != 0 ||
	    keyfile_write(path, line, strlen(line), e) != 0) {
		pathof(path, sizeof(path), home, "platform.key", NULL);
		unlink(path);
		return -1;
	}
	return 0;
}

static int
tsm_init(const char *home, struct err *e)
{
	return hw_init(home, "tsm", e);
}

static int
nitro_init(const char *home, struct err *e)
{
	return hw_init(home, "nitro", e);
}

static int
sgx_init(const char *home, struct err *e)
{
	return hw_init(home, "sgx", e);
}

static int
hw_secret(const char *home, unsigned char secret[32], struct err *e)
{
	unsigned char *buf;
	char path[4096];
	size_t n;

	if (pathof(path, sizeof(path), home, "platform.key", e) != 0)
		return -1;
	if (keyfile_read(path, &buf, &n, e) != 0) {
		if (e != NULL && e->code == EXIT_IO && access(path, F_OK) != 0)
			err_set(e, EXIT_IO, "no platform in %s (run ti-attest "
			    "init)", home);
		return -1;
	}
	if (n != 32) {
		keyfile_free(buf, n);
		return err_set(e, EXIT_DATA, "%s: not a 32-byte platform "
		    "secret", path);
	}
	memcpy(secret, buf, 32);
	keyfile_free(buf, n);
	return 0;
}

static jv
claims_json(const struct attest_claims *c)
{
	char *nonce = b64_encode_alloc(c->nonce, c->noncelen, B64_URL);
	jv o = jv_object();

	o = jv_object_set(o, jv_string("measurement"),
	    jv_string(c->measurement));
	o = jv_object_set(o, jv_string("recipient"), jv_string(c->recipient));
	o = jv_object_set(o, jv_string("sig_key"), jv_string(c->sig_key));
	o = jv_object_set(o, jv_string("nonce"), jv_string(nonce ? nonce :
	    ""));
	if (c->data != NULL)
		o = jv_object_set(o, jv_string("data"),
		    hwevidence_hex(c->data, 32));
	free(nonce);
	return o;
}

/* The evidence line for tee, claims c, native evidence ev and aux. */
static int
line(const char *tee, const struct attest_claims *c, const unsigned char *ev,
    size_t n, const unsigned char *aux, size_t auxn, char **out,
    struct err *e)
{
	jv j = jv_dump_string(claims_json(c), JV_PRINT_SORTED);
	const char *js = jv_string_value(j);
	size_t len = strlen(PREFIX) + strlen(tee) + 4 +
	    b64_enclen(strlen(js), B64_URL) + b64_enclen(n, B64_URL) +
	    b64_enclen(auxn, B64_URL);
	char *p;

	if ((*out = p = malloc(len + 1)) == NULL) {
		jv_free(j);
		return err_set(e, EXIT_IO, "out of memory");
	}
	p += sprintf(p, PREFIX "%s.", tee);
	b64_encode(p, (const unsigned char *)js, strlen(js), B64_URL);
	p += strlen(p);
	*p++ = '.';
	b64_encode(p, ev, n, B64_URL);
	p += strlen(p);
	if (aux != NULL && auxn > 0) {
		*p++ = '.';
		b64_encode(p, aux, auxn, B64_URL);
	}
	jv_free(j);
	return 0;
}

static int
report_data(const struct attest_claims *c, unsigned char rd[64],
    struct err *e)
{
	memset(rd, 0, 64);
	return attest_report_data(c, rd, e);
}

static int
tsm_backend_quote(const char *home, const struct attest_claims *c,
    char **out, struct err *e)
{
	unsigned char rd[64];
	struct tsm_report r;
	const char *tee;
	int rc;

	(void)home;
	if (report_data(c, rd, e) != 0 || tsm_quote(NULL, rd, &r, e) != 0)
		return -1;
	if (strcmp(r.provider, "tdx_guest") == 0)
		tee = "tdx";
	else if (strcmp(r.provider, "sev_guest") == 0)
		tee = "sev-snp";
	else {
		err_set(e, EXIT_IO, "tsm: provider %s is not supported",
		    r.provider);
		tsm_report_fini(&r);
		return -1;
	}
	rc = line(tee, c, r.outblob, r.outlen, r.auxblob, r.auxlen, out, e);
	tsm_report_fini(&r);
	return rc;
}

static int
nitro_backend_quote(const char *home, const struct attest_claims *c,
    char **out, struct err *e)
{
	unsigned char rd[64], *doc;
	size_t n;
	int rc;

	(void)home;
	if (report_data(c, rd, e) != 0 || nitro_quote(rd, &doc, &n, e) != 0)
		return -1;
	rc = line("nitro", c, doc, n, NULL, 0, out, e);
	free(doc);
	return rc;
}

static int
sgx_backend_quote(const char *home, const struct attest_claims *c,
    char **out, struct err *e)
{
	unsigned char rd[64], *q;
	size_t n;
	int rc;

	(void)home;
	if (report_data(c, rd, e) != 0 ||
	    gramine_quote(NULL, rd, &q, &n, e) != 0)
		return -1;
	rc = line("sgx", c, q, n, NULL, 0, out, e);
	free(q);
	return rc;
}

const struct attest_backend attest_tsm = {
	"tsm", tsm_init, hw_secret, tsm_backend_quote,
};
const struct attest_backend attest_nitro = {
	"nitro", nitro_init, hw_secret, nitro_backend_quote,
};
const struct attest_backend attest_sgx = {
	"sgx", sgx_init, hw_secret, sgx_backend_quote,
};

/* Decode base64url part [p, p + n) into a new buffer. */
static int
part(const char *p, size_t n, unsigned char **out, size_t *outlen)
{
	if ((*out = malloc(b64_declen(n) + 1)) == NULL)
		return -1;
	if (b64_decode(*out, outlen, p, n, B64_URL) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Is s an evidence line of tee? */
static int
is_line(const char *tee, const char *s, size_t n)
{
	size_t k = strlen(PREFIX), t = strlen(tee);

	return n > k + t + 1 && memcmp(s, PREFIX, k) == 0 &&
	    memcmp(s + k, tee, t) == 0 && s[k + t] == '.';
}

static int
match_format(int f, const char *s, size_t n)
{
	return is_line(hwevidence_name(f), s, n) ||
	    hwevidence_detect((const unsigned char *)s, n) == f;
}

static int
match_nitro(const char *s, size_t n)
{
	return match_format(HWEV_NITRO, s, n);
}

static int
match_sgx(const char *s, size_t n)
{
	return match_format(HWEV_SGX, s, n);
}

static int
match_tdx(const char *s, size_t n)
{
	return match_format(HWEV_TDX, s, n);
}

static int
match_snp(const char *s, size_t n)
{
	return match_format(HWEV_SNP, s, n);
}

/* The string k of o as a new C string, or NULL. */
static char *
strdup_of(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));
	char *s = jv_get_kind(v) == JV_KIND_STRING ?
	    strdup(jv_string_value(v)) : NULL;

	jv_free(v);
	return s;
}

/*
 * Check that the platform claims pc bind the ti claims tc (report_data =
 * attest_report_data), and merge them: the ti measurement becomes
 * "measurement", the platform's "platform_measurement".
 */
static int
bind(jv *pc, jv tc, struct err *e)
{
	struct attest_claims c;
	unsigned char nonce[ATTEST_NONCE_MAX], data[32], rd[32];
	char *m = strdup_of(tc, "measurement"), *r = strdup_of(tc, "recipient");
	char *k = strdup_of(tc, "sig_key"), *n = strdup_of(tc, "nonce");
	char *d = strdup_of(tc, "data"), *got = strdup_of(*pc, "report_data");
	size_t nl = 0, i;
	unsigned v;
	int rc = -1;
	jv want;

	if (m == NULL || r == NULL || k == NULL || n == NULL ||
	    got == NULL || strlen(n) > b64_enclen(ATTEST_NONCE_MAX, B64_URL) ||
	    b64_decode(nonce, &nl, n, strlen(n), B64_URL) != 0 ||
	    (d != NULL && strlen(d) != 64)) {
		err_set(e, EXIT_DATA, "malformed evidence: bound claims");
		goto out;
	}
	for (i = 0; d != NULL && i < 32; i++) {
		if (sscanf(d + 2 * i, "%2x", &v) != 1) {
			err_set(e, EXIT_DATA, "malformed evidence: data");
			goto out;
		}
		data[i] = (unsigned char)v;
	}
	c.measurement = m;
	c.recipient = r;
	c.sig_key = k;
	c.nonce = nonce;
	c.noncelen = nl;
	c.data = d != NULL ? data : NULL;
	if (attest_report_data(&c, rd, e) != 0)
		goto out;
	want = hwevidence_hex(rd, 32);
	/* report_data is 64 bytes: the binding, then zeros. */
	if (strlen(got) != 128 ||
	    strncmp(got, jv_string_value(want), 64) != 0 ||
	    strspn(got + 64, "0") != 64) {
		jv_free(want);
		err_set(e, EXIT_NO, "report_data does not bind the evidence's "
		    "claims");
		goto out;
	}
	jv_free(want);
	*pc = jv_object_set(*pc, jv_string("platform_measurement"),
	    jv_object_get(jv_copy(*pc), jv_string("measurement")));
	*pc = jv_object_set(*pc, jv_string("measurement"), jv_string(m));
	*pc = jv_object_set(*pc, jv_string("recipient"), jv_string(r));
	*pc = jv_object_set(*pc, jv_string("sig_key"), jv_string(k));
	*pc = jv_object_set(*pc, jv_string("nonce"), jv_string(n));
	if (d != NULL)
		*pc = jv_object_set(*pc, jv_string("data"), jv_string(d));
	*pc = jv_object_set(*pc, jv_string("bound"), jv_true());
	rc = 0;
out:
	free(m);
	free(r);
	free(k);
	free(n);
	free(d);
	free(got);
	return rc;
}

static int
hw_verify(int f, const char *s, size_t n, STACK_OF(X509) *roots, time_t at,
    jv *claims, struct err *e)
{
	struct hwev_opts o = { roots, NULL, NULL, at };
	const char *p[4];
	size_t len[4], k = 0, i;
	unsigned char *tj = NULL, *ev = NULL, *aux = NULL;
	size_t tn, en, an;
	jv tc = jv_invalid(), ts;
	int rc = -1;

	*claims = jv_invalid();
	if (!is_line(hwevidence_name(f), s, n)) {
		/* Native evidence alone: nothing bound. */
		if (hwevidence_verify(f, (const unsigned char *)s, n, &o,
		    claims, e) != 0)
			return -1;
		*claims = jv_object_set(*claims, jv_string("iat"),
		    jv_number((double)at));
		*claims = jv_object_set(*claims, jv_string("exp"),
		    jv_number((double)at));
		return 0;
	}
	/* Split "ti-hw1.<tee>.<claims>.<evidence>[.<aux>]" after the tee. */
	s += strlen(PREFIX) + strlen(hwevidence_name(f)) + 1;
	n -= strlen(PREFIX) + strlen(hwevidence_name(f)) + 1;
	p[0] = s;
	for (i = 0; i < n && k < 3; i++)
		if (s[i] == '.') {
			len[k] = (size_t)(s + i - p[k]);
			p[++k] = s + i + 1;
		}
	len[k] = (size_t)(s + n - p[k]);
	if (k < 1 || k > 2 || part(p[0], len[0], &tj, &tn) != 0 ||
	    part(p[1], len[1], &ev, &en) != 0 ||
	    (k == 2 && part(p[2], len[2], &aux, &an) != 0)) {
		err_set(e, EXIT_DATA, "malformed evidence: not an evidence "
		    "line");
		goto out;
	}
	tc = jv_parse_sized((const char *)tj, (int)tn);
	if (jv_get_kind(tc) != JV_KIND_OBJECT) {
		err_set(e, EXIT_DATA, "malformed evidence: bound claims");
		goto out;
	}
	if (aux != NULL && f == HWEV_SNP &&
	    snp_certs_parse(aux, an, &o.certs, e) != 0)
		goto out;
	/* DCAP collateral is signed by Intel: it may travel with a quote. */
	if (aux != NULL && (f == HWEV_SGX || f == HWEV_TDX)) {
		if (memchr(aux, '\0', an) != NULL) {
			err_set(e, EXIT_DATA, "malformed evidence: collateral");
			goto out;
		}
		aux[an] = '\0';
		o.collateral = (const char *)aux;
	}
	if (hwevidence_verify(f, ev, en, &o, claims, e) != 0)
		goto out;
	if (bind(claims, tc, e) != 0) {
		jv_free(*claims);
		*claims = jv_invalid();
		goto out;
	}
	/*
	 * Only a Nitro document carries a signed time; for the others
	 * freshness is the bound nonce, and the time is that of checking.
	 */
	ts = jv_object_get(jv_copy(*claims), jv_string("timestamp"));
	*claims = jv_object_set(*claims, jv_string("iat"),
	    jv_get_kind(ts) == JV_KIND_NUMBER ?
	    jv_number((double)(long long)(jv_number_value(ts) / 1000)) :
	    jv_number((double)at));
	jv_free(ts);
	*claims = jv_object_set(*claims, jv_string("exp"),
	    jv_number((double)at));
	rc = 0;
out:
	jv_free(tc);
	free(tj);
	free(ev);
	free(aux);
	sk_X509_pop_free(o.certs, X509_free);
	return rc;
}

static int
verify_nitro(void *cache, const char *s, size_t n, STACK_OF(X509) *roots,
    time_t at, jv *claims, struct err *e)
{
	(void)cache;
	return hw_verify(HWEV_NITRO, s, n, roots, at, claims, e);
}

static int
verify_sgx(void *cache, const char *s, size_t n, STACK_OF(X509) *roots,
    time_t at, jv *claims, struct err *e)
{
	(void)cache;
	return hw_verify(HWEV_SGX, s, n, roots, at, claims, e);
}

static int
verify_tdx(void *cache, const char *s, size_t n, STACK_OF(X509) *roots,
    time_t at, jv *claims, struct err *e)
{
	(void)cache;
	return hw_verify(HWEV_TDX, s, n, roots, at, claims, e);
}

static int
verify_snp(void *cache, const char *s, size_t n, STACK_OF(X509) *roots,
    time_t at, jv *claims, struct err *e)
{
	(void)cache;
	return hw_verify(HWEV_SNP, s, n, roots, at, claims, e);
}

const struct attest_verifier attest_verify_nitro = {
	"nitro", match_nitro, verify_nitro, NULL, NULL,
};
const struct attest_verifier attest_verify_sgx = {
	"sgx", match_sgx, verify_sgx, NULL, NULL,
};
const struct attest_verifier attest_verify_tdx = {
	"tdx", match_tdx, verify_tdx, NULL, NULL,
};
const struct attest_verifier attest_verify_snp = {
	"sev-snp", match_snp, verify_snp, NULL, NULL,
};
