#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "agekey.h"
#include "dcap.h"
#include "nitro.h"
#include "snp.h"
#include "b64.h"
#include "exitcode.h"
#include "hwevidence.h"
#include "io.h"
#include "sig.h"
#include "version.h"

static const char *const names[] = {
	[HWEV_UNKNOWN] = "unknown",
	[HWEV_SIM] = "sim",
	[HWEV_NITRO] = "nitro",
	[HWEV_SGX] = "sgx",
	[HWEV_TDX] = "tdx",
	[HWEV_SNP] = "sev-snp",
};

const char *
hwevidence_name(int format)
{
	if (format < 0 || format > HWEV_SNP)
		return names[HWEV_UNKNOWN];
	return names[format];
}

int
hwevidence_format(const char *s)
{
	int i;

	for (i = HWEV_SIM; i <= HWEV_SNP; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return HWEV_UNKNOWN;
}

static unsigned
le16(const unsigned char *p)
{
	return p[0] | (unsigned)p[1] << 8;
}

static unsigned long
le32(const unsigned char *p)
{
	return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	    (unsigned long)p[3] << 24;
}

/* The format of raw bytes, without trying base64. */
static int
detect_raw(const unsigned char *b, size_t n)
{
	size_t i, dots = 0;

	if (n >= 48 && le16(b + 2) == 2) {
		/* DCAP quote header: version, key type 2 (ECDSA-256). */
		if (le16(b) == 3 && le32(b + 4) == 0 && n >= 436)
			return HWEV_SGX;
		if ((le16(b) == 4 || le16(b) == 5) && le32(b + 4) == 0x81 &&
		    n >= 636)
			return HWEV_TDX;
	}
	if (n == 1184 && le32(b) >= 2 && le32(b) <= 5 && le32(b + 0x34) == 1)
		return HWEV_SNP;
	/* COSE_Sign1: an array of 4, optionally with tag 18. */
	if (n > 2 && (b[0] == 0x84 || (b[0] == 0xd2 && b[1] == 0x84)))
		return HWEV_NITRO;
	/* A compact JWS: base64url header "{"..., two dots. */
	if (n > 4 && memcmp(b, "eyJ", 3) == 0) {
		for (i = 0; i < n; i++) {
			if (b[i] == '.')
				dots++;
			else if (!isalnum(b[i]) && b[i] != '-' && b[i] != '_' &&
			    !(i == n - 1 && b[i] == '\n'))
				return HWEV_UNKNOWN;
		}
		if (dots == 2)
			return HWEV_SIM;
	}
	return HWEV_UNKNOWN;
}

/* Decode base64 or base64url text b, whitespace ignored. -1 if it is not. */
static int
unb64(const unsigned char *b, size_t n, unsigned char **out, size_t *outlen)
{
	char *t;
	unsigned char *d;
	size_t i, m = 0;
	int mode;

	if (n == 0 || (t = malloc(n + 1)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!isspace(b[i]))
			t[m++] = b[i];
	t[m] = '\0';
	if (m == 0 || (d = malloc(b64_declen(m) + 1)) == NULL) {
		free(t);
		return -1;
	}
	mode = strpbrk(t, "-_") != NULL ? B64_URL :
	    t[m - 1] == '=' || m % 4 == 0 ? B64_STD : B64_NOPAD;
	if (b64_decode(d, outlen, t, m, mode) != 0 &&
	    (mode != B64_STD || b64_decode(d, outlen, t, m, B64_URL) != 0)) {
		free(t);
		free(d);
		return -1;
	}
	free(t);
	*out = d;
	return 0;
}

int
hwevidence_detect(const unsigned char *b, size_t n)
{
	unsigned char *d;
	size_t dn;
	int f;

	if ((f = detect_raw(b, n)) != HWEV_UNKNOWN)
		return f;
	if (n > HWEV_MAX || unb64(b, n, &d, &dn) != 0)
		return HWEV_UNKNOWN;
	f = detect_raw(d, dn);
	free(d);
	return f == HWEV_SIM ? HWEV_UNKNOWN : f;
}

int
hwevidence_raw(const unsigned char *b, size_t n, unsigned char **out,
    size_t *outlen, struct err *e)
{
	int f = detect_raw(b, n);

	if (n > HWEV_MAX)
		return err_set(e, EXIT_DATA, "evidence too large");
	if (f != HWEV_UNKNOWN && f != HWEV_SIM) {
		if ((*out = malloc(n ? n : 1)) == NULL)
			return err_set(e, EXIT_IO, "out of memory");
		memcpy(*out, b, n);
		*outlen = n;
		return 0;
	}
	if (unb64(b, n, out, outlen) != 0)
		return err_set(e, EXIT_DATA, "evidence is neither binary nor "
		    "base64");
	return 0;
}

int
hwevidence_certs_parse(const unsigned char *b, size_t n, STACK_OF(X509) **out,
    struct err *e)
{
	STACK_OF(X509) *s;
	BIO *bio;
	X509 *x;
	const unsigned char *p = b;

	if ((s = sk_X509_new_null()) == NULL)
		return err_set(e, EXIT_IO, "out of memory");
	if (n > 10 && memmem(b, n, "-----BEGIN", 10) != NULL) {
		if ((bio = BIO_new_mem_buf(b, (int)n)) == NULL)
			goto oom;
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(s, x)) {
				X509_free(x);
				BIO_free(bio);
				goto oom;
			}
		BIO_free(bio);
		ERR_clear_error();
	} else {
		while (p < b + n) {
			x = d2i_X509(NULL, &p, (long)(b + n - p));
			if (x == NULL)
				break;
			if (!sk_X509_push(s, x)) {
				X509_free(x);
				goto oom;
			}
		}
		ERR_clear_error();
		if (p != b + n)
			sk_X509_pop_free(s, X509_free), s = NULL;
	}
	if (s == NULL || sk_X509_num(s) == 0) {
		sk_X509_pop_free(s, X509_free);
		return err_set(e, EXIT_DATA, "no certificate found");
	}
	*out = s;
	return 0;
oom:
	sk_X509_pop_free(s, X509_free);
	return err_set(e, EXIT_IO, "out of memory");
}

int
hwevidence_certs_load(const char *path, STACK_OF(X509) **out, struct err *e)
{
	unsigned char *b;
	size_t n;
	int r;

	if (io_slurp(path, HWEV_MAX, &b, &n, e) != 0)
		return err_prefix(e, "%s", path);
	r = hwevidence_certs_parse(b, n, out, e);
	free(b);
	if (r != 0)
		return err_prefix(e, "%s", path);
	return 0;
}

int
hwevidence_chain(const char *what, X509 *leaf, STACK_OF(X509) *untrusted,
    STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls, time_t at,
    struct err *e)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *vp;
	int i, r = -1, rc;

	if (roots == NULL || sk_X509_num(roots) == 0)
		return err_set(e, EXIT_NO, "%s: no trust roots", what);
	if ((st = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto oom;
	for (i = 0; i < sk_X509_num(roots); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(roots, i)))
			goto oom;
	if (!X509_STORE_CTX_init(ctx, st, leaf, untrusted))
		goto oom;
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, at ? at : time(NULL));
	if (crls != NULL) {
		X509_STORE_CTX_set0_crls(ctx, crls);
		X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL);
	}
	rc = X509_verify_cert(ctx);
	if (rc == 1)
		r = 0;
	else
		err_set(e, EXIT_NO, "%s: certificate chain: %s", what,
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return r;
oom:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return err_set(e, EXIT_IO, "out of memory");
}

int
hwevidence_time(const char *s, time_t *t)
{
	struct tm tm;
	const char *p;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (strcmp(p, "Z") != 0 || tm.tm_year < 1970 || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	return 0;
}

int
hwevidence_der(const unsigned char **p, const unsigned char *end, int *tag,
    const unsigned char **val, size_t *len)
{
	const unsigned char *q = *p;
	size_t l, k;

	if (end - q < 2 || (q[0] & 0x1f) == 0x1f)
		return -1;
	*tag = q[0];
	l = q[1];
	q += 2;
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return -1;
		for (l = 0; k > 0; k--)
			l = l << 8 | *q++;
	}
	if (l > (size_t)(end - q))
		return -1;
	*val = q;
	*len = l;
	*p = q + l;
	return 0;
}

jv
hwevidence_hex(const unsigned char *b, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char buf[256], *s = buf;
	size_t i;
	jv r;

	if (n * 2 + 1 > sizeof(buf) && (s = malloc(n * 2 + 1)) == NULL)
		return jv_invalid_with_msg(jv_string("out of memory"));
	for (i = 0; i < n; i++) {
		s[2 * i] = hx[b[i] >> 4];
		s[2 * i + 1] = hx[b[i] & 15];
	}
	s[2 * n] = '\0';
	r = jv_string(s);
	if (s != buf)
		free(s);
	return r;
}

static int
unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	unsigned v;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

int
hwevidence_binding(const unsigned char *nonce, size_t noncelen,
    const char *measurement, const char *recipient, const char *sig_key,
    const unsigned char *data, unsigned char out[32], struct err *e)
{
	static const char label[] = "ti-attest/v1";
	unsigned char buf[12 + 5 * 32];
	unsigned int len;
	int r = -1;

	memcpy(buf, label, 12);
	if (EVP_Digest(nonce, noncelen, buf + 12, &len, EVP_sha256(),
	    NULL) != 1)
		return err_set(e, EXIT_IO, "sha256 failed");
	if (measurement == NULL || strncmp(measurement, "sha256:", 7) != 0 ||
	    unhex(measurement + 7, buf + 44, 32) != 0) {
		err_set(e, EXIT_DATA, "binding: malformed measurement");
		goto out;
	}
	if (recipient == NULL ||
	    age_recipient_parse(recipient, buf + 76, e) != 0) {
		err_set(e, EXIT_DATA, "binding: malformed recipient");
		goto out;
	}
	if (sig_key == NULL || sig_signer_parse(sig_key, buf + 108, e) != 0) {
		err_set(e, EXIT_DATA, "binding: malformed sig_key");
		goto out;
	}
	if (data != NULL)
		memcpy(buf + 140, data, 32);
	else
		memset(buf + 140, 0, 32);
	if (EVP_Digest(buf, sizeof(buf), out, &len, EVP_sha256(), NULL) != 1)
		err_set(e, EXIT_IO, "sha256 failed");
	else
		r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

jv
hwevidence_bind(jv claims, const unsigned char *nonce, size_t noncelen,
    const char *measurement, const char *recipient, const char *sig_key,
    const unsigned char *data, struct err *e)
{
	unsigned char want[32], got[64];
	jv rd;
	size_t i;
	int good;

	if (nonce == NULL)
		return jv_object_set(claims, jv_string("bound"), jv_false());
	rd = jv_object_get(jv_copy(claims), jv_string("report_data"));
	if (jv_get_kind(rd) != JV_KIND_STRING) {
		jv_free(rd);
		jv_free(claims);
		err_set(e, EXIT_NO, "evidence carries no report_data to bind");
		return jv_invalid();
	}
	memset(got, 0, sizeof(got));
	good = strlen(jv_string_value(rd)) >= 64 &&
	    strlen(jv_string_value(rd)) <= 2 * sizeof(got) &&
	    unhex(jv_string_value(rd), got, strlen(jv_string_value(rd)) / 2) ==
	    0;
	jv_free(rd);
	if (hwevidence_binding(nonce, noncelen, measurement, recipient,
	    sig_key, data, want, e) != 0) {
		jv_free(claims);
		return jv_invalid();
	}
	for (i = 32; i < sizeof(got); i++)
		good &= got[i] == 0;
	if (!good || CRYPTO_memcmp(want, got, 32) != 0) {
		jv_free(claims);
		err_set(e, EXIT_NO, "report_data does not bind the nonce, "
		    "measurement and keys");
		return jv_invalid();
	}
	return jv_object_set(claims, jv_string("bound"), jv_true());
}

/* AR4SI trustworthiness claim values (draft-ietf-rats-ar4si). */
enum { AR_AFFIRMING = 2, AR_WARNING = 32, AR_CONTRA = 96 };

jv
hwevidence_ear(jv claims, time_t at)
{
	jv tee, tcb, dbg, sub, tv;
	const char *t, *s, *status;
	int hw, cfg;

	tee = jv_object_get(jv_copy(claims), jv_string("tee"));
	tcb = jv_object_get(jv_copy(claims), jv_string("tcb_status"));
	dbg = jv_object_get(jv_copy(claims), jv_string("debug"));
	t = jv_get_kind(tee) == JV_KIND_STRING ? jv_string_value(tee) :
	    "unknown";
	s = jv_get_kind(tcb) == JV_KIND_STRING ? jv_string_value(tcb) :
	    "unknown";
	if (jv_get_kind(dbg) == JV_KIND_TRUE || strcmp(s, "Revoked") == 0 ||
	    strncmp(s, "OutOfDate", 9) == 0)
		hw = AR_CONTRA;
	else if (strcmp(t, "sim") == 0 || strcmp(t, "morello") == 0 ||
	    strcmp(s, "UpToDate") != 0)
		hw = AR_WARNING;
	else
		hw = AR_AFFIRMING;
	cfg = jv_get_kind(dbg) == JV_KIND_TRUE ? AR_CONTRA :
	    strstr(s, "Configuration") != NULL ? AR_WARNING : AR_AFFIRMING;
	status = hw == AR_CONTRA ? "contraindicated" :
	    hw == AR_WARNING ? "warning" : "affirming";
	tv = jv_object();
	tv = jv_object_set(tv, jv_string("hardware"), jv_number(hw));
	tv = jv_object_set(tv, jv_string("configuration"), jv_number(cfg));
	sub = jv_object();
	sub = jv_object_set(sub, jv_string("ear.status"), jv_string(status));
	sub = jv_object_set(sub, jv_string("ear.trustworthiness-vector"), tv);
	sub = jv_object_set(sub, jv_string("ear.veraison.annotated-evidence"),
	    claims);
	claims = jv_object();
	claims = jv_object_set(claims, jv_string("eat_profile"),
	    jv_string("tag:github.com,2023:veraison/ear"));
	claims = jv_object_set(claims, jv_string("iat"),
	    jv_number((double)(at ? at : time(NULL))));
	claims = jv_object_set(claims, jv_string("ear.verifier-id"),
	    jv_object_set(jv_object_set(jv_object(), jv_string("developer"),
	    jv_string("ti")), jv_string("build"),
	    jv_string("ti " TI_VERSION)));
	claims = jv_object_set(claims, jv_string("submods"),
	    jv_object_set(jv_object(), jv_string(t), sub));
	jv_free(tee);
	jv_free(tcb);
	jv_free(dbg);
	return claims;
}

int
hwevidence_verify(int format, const unsigned char *b, size_t n,
    const struct hwev_opts *o, jv *claims, struct err *e)
{
	unsigned char *raw;
	size_t rn;
	int r;

	if (hwevidence_raw(b, n, &raw, &rn, e) != 0)
		return -1;
	if (format == HWEV_UNKNOWN)
		format = hwevidence_detect(raw, rn);
	switch (format) {
	case HWEV_NITRO:
		r = nitro_verify(raw, rn, o->roots, o->at, claims, e);
		break;
	case HWEV_SGX:
	case HWEV_TDX:
		r = dcap_verify(raw, rn, o->roots, o->collateral, o->at,
		    claims, e);
		if (r == 0 && hwevidence_detect(raw, rn) != format) {
			jv_free(*claims);
			r = err_set(e, EXIT_NO, "evidence is not a %s quote",
			    hwevidence_name(format));
		}
		break;
	case HWEV_SNP:
		r = snp_verify(raw, rn, o->certs, o->roots, o->at, claims, e);
		break;
	default:
		r = err_set(e, EXIT_DATA, "unknown evidence format");
	}
	free(raw);
	return r;
}
