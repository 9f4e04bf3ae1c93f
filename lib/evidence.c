#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agekey.h"
#include "b64.h"
#include "backend.h"
#include "evidence.h"
#include "exitcode.h"
#include "hwevidence.h"
#include "io.h"
#include "keyfile.h"
#include "policy.h"
#include "sig.h"
#include "snp.h"

#define SKEW 60			/* seconds of clock difference tolerated */
#define EVIDENCE_MAX (64 * 1024)
#define ROOTS_MAX (1024 * 1024)

char *
evidence_home(void)
{
	const char *h = getenv("TI_HOME"), *home;
	struct passwd *pw;
	char *out;

	if (h != NULL && *h != '\0')
		return strdup(h);
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return NULL;
		home = pw->pw_dir;
	}
	if (asprintf(&out, "%s/.local/share/ti", home) < 0)
		return NULL;
	return out;
}

int
evidence_secret(const char *home, unsigned char secret[32], struct err *e)
{
	const struct attest_backend *b = attest_backend_of(home, e);

	if (b == NULL)
		return -1;
	return b->secret(home, secret, e);
}

int
evidence_keys(const char *home, const char *measurement, struct tikeys *k,
    struct err *e)
{
	unsigned char secret[32];
	int rc;

	if (evidence_secret(home, secret, e) != 0)
		return -1;
	rc = keys_derive(secret, 32, measurement, k, e);
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

int
evidence_quote(const char *home, const char *measurement,
    const unsigned char *nonce, size_t noncelen, const unsigned char *data,
    char **out, struct err *e)
{
	const struct attest_backend *b;
	char rcp[AGE_RECIPIENT_LEN], sk[SIG_SIGNER_LEN];
	struct attest_claims c;
	struct tikeys k;

	if ((b = attest_backend_of(home, e)) == NULL ||
	    evidence_keys(home, measurement, &k, e) != 0)
		return -1;
	age_recipient_string(rcp, k.x_pub);
	sig_signer_string(sk, k.ed_pub);
	keys_wipe(&k);
	c.measurement = measurement;
	c.recipient = rcp;
	c.sig_key = sk;
	c.nonce = nonce;
	c.noncelen = noncelen;
	c.data = data;
	return b->quote(home, &c, out, e);
}

#define HWLINE "ti-hw1."	/* a hardware evidence line (lib/hwattest.c) */
#define CERTS_MAX 8		/* --certs files */

struct verifier {
	STACK_OF(X509) *roots;
	STACK_OF(X509) *certs;	/* sev-snp: VCEK, ASK, ARK; or NULL */
	char *collateral;	/* DCAP collateral JSON text, or NULL */
	int format;		/* HWEV_UNKNOWN: detected */
	struct policy *policy;
	long max_age;
	time_t at;
	void *cache[8];		/* per entry of attest_verifiers[] */
};

static int
load_roots(STACK_OF(X509) *roots, const char *path, struct err *e)
{
	unsigned char *buf = NULL;
	const unsigned char *q;
	size_t n;
	X509 *x;
	BIO *bio;
	int rc = -1;

	if (io_slurp(path, ROOTS_MAX, &buf, &n, e) != 0)
		return -1;
	if (strstr((char *)buf, "-----BEGIN CERTIFICATE-----") != NULL) {
		if ((bio = BIO_new_mem_buf(buf, (int)n)) == NULL)
			goto out;
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(roots, x)) {
				X509_free(x);
				break;
			}
		BIO_free(bio);
	} else {
		q = buf;
		while (q < buf + n && (x = d2i_X509(NULL, &q,
		    (long)(buf + n - q))) != NULL)
			if (!sk_X509_push(roots, x)) {
				X509_free(x);
				break;
			}
	}
	if (sk_X509_num(roots) == 0)
		err_set(e, EXIT_DATA, "%s: no certificates (PEM or DER)", path);
	else
		rc = 0;
out:
	free(buf);
	return rc;
}

/* The collateral and SEV-SNP certificates of o into v. 0, or -1. */
static int
load_hw(struct verifier *v, const struct verifier_opts *o, struct err *e)
{
	STACK_OF(X509) *more;
	unsigned char *b;
	size_t n, i;
	X509 *x;
	int rc;

	if (o->collateral != NULL) {
		if (io_slurp(o->collateral, HWEV_MAX, &b, &n, e) != 0)
			return -1;
		if (memchr(b, '\0', n) != NULL) {
			free(b);
			return err_set(e, EXIT_DATA, "%s: not DCAP collateral "
			    "JSON", o->collateral);
		}
		v->collateral = (char *)b;
	}
	for (i = 0; o->certs != NULL && o->certs[i] != NULL; i++) {
		if (i == CERTS_MAX)
			return err_set(e, EXIT_USAGE, "too many certificate "
			    "files (max %d)", CERTS_MAX);
		if (io_slurp(o->certs[i], HWEV_MAX, &b, &n, e) != 0)
			return -1;
		rc = snp_certs_parse(b, n, &more, e);
		free(b);
		if (rc != 0)
			return err_prefix(e, "%s", o->certs[i]);
		if (v->certs == NULL)
			v->certs = more;
		else {
			while ((x = sk_X509_shift(more)) != NULL)
				if (!sk_X509_push(v->certs, x)) {
					X509_free(x);
					sk_X509_pop_free(more, X509_free);
					return err_set(e, EXIT_IO, "out of "
					    "memory");
				}
			sk_X509_free(more);
		}
	}
	return 0;
}

struct verifier *
verifier_new(const struct verifier_opts *o, struct err *e)
{
	struct verifier *v;
	size_t i;

	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->roots = sk_X509_new_null()) == NULL) {
		free(v);
		err_set(e, EXIT_IO, "out of memory");
		return NULL;
	}
	v->max_age = o->max_age;
	v->at = o->at;
	if (o->trust == NULL) {
		err_set(e, EXIT_USAGE, "no trust roots given");
		goto fail;
	}
	if (o->policy == NULL) {
		err_set(e, EXIT_USAGE, "no policy given");
		goto fail;
	}
	if (o->format != NULL &&
	    (v->format = hwevidence_format(o->format)) == HWEV_UNKNOWN) {
		err_set(e, EXIT_USAGE, "unknown evidence format %s (sim, "
		    "nitro, sgx, tdx, sev-snp)", o->format);
		goto fail;
	}
	if (load_roots(v->roots, o->trust, e) != 0 ||
	    load_hw(v, o, e) != 0 ||
	    (v->policy = policy_new(o->policy, e)) == NULL)
		goto fail;
	for (i = 0; attest_verifiers[i] != NULL && i < 8; i++)
		if (attest_verifiers[i]->cache_new != NULL &&
		    (v->cache[i] = attest_verifiers[i]->cache_new()) == NULL) {
			err_set(e, EXIT_IO, "out of memory");
			goto fail;
		}
	return v;
fail:
	verifier_free(v);
	return NULL;
}

void
verifier_free(struct verifier *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; attest_verifiers[i] != NULL && i < 8; i++)
		if (attest_verifiers[i]->cache_free != NULL)
			attest_verifiers[i]->cache_free(v->cache[i]);
	sk_X509_pop_free(v->roots, X509_free);
	sk_X509_pop_free(v->certs, X509_free);
	free(v->collateral);
	policy_free(v->policy);
	free(v);
}

static double
num(jv claims, const char *name)
{
	jv x = jv_object_get(jv_copy(claims), jv_string(name));
	double d = jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) : -1;

	jv_free(x);
	return d;
}

/* Times, nonce and the form of the bound claims. */
static int
check_claims(const struct verifier *v, jv c, time_t at,
    const unsigned char *nonce, size_t noncelen, struct err *e)
{
	unsigned char buf[ATTEST_NONCE_MAX + 3], pub[32];
	double iat = num(c, "iat"), exp = num(c, "exp"), nbf = num(c, "nbf");
	const char *s;
	size_t n, i;
	jv x;
	int rc = 0;

	if (iat < 0 || exp < 0)
		return err_set(e, EXIT_DATA, "malformed evidence: no iat/exp");
	if (iat > (double)at + SKEW || (nbf >= 0 && nbf > (double)at + SKEW))
		return err_set(e, EXIT_NO, "evidence not yet valid");
	if (exp < (double)at - SKEW)
		return err_set(e, EXIT_NO, "evidence expired");
	if (v->max_age > 0 && (double)at - iat > (double)v->max_age)
		return err_set(e, EXIT_NO, "evidence too old (older than %ld "
		    "seconds)", v->max_age);

	x = jv_object_get(jv_copy(c), jv_string("measurement"));
	s = jv_string_value(x);
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71 ||
	    strspn(s + 7, "0123456789abcdef") != 64)
		rc = err_set(e, EXIT_DATA, "malformed evidence: measurement");
	jv_free(x);
	x = jv_object_get(jv_copy(c), jv_string("recipient"));
	if (rc == 0 && age_recipient_parse(jv_string_value(x), pub, NULL) != 0)
		rc = err_set(e, EXIT_DATA, "malformed evidence: recipient");
	jv_free(x);
	x = jv_object_get(jv_copy(c), jv_string("sig_key"));
	if (rc == 0 && sig_signer_parse(jv_string_value(x), pub, NULL) != 0)
		rc = err_set(e, EXIT_DATA, "malformed evidence: sig_key");
	jv_free(x);
	x = jv_object_get(jv_copy(c), jv_string("data"));
	if (rc == 0 && jv_is_valid(x) && (strlen(jv_string_value(x)) != 64 ||
	    strspn(jv_string_value(x), "0123456789abcdef") != 64))
		rc = err_set(e, EXIT_DATA, "malformed evidence: data");
	jv_free(x);
	if (rc != 0)
		return rc;

	x = jv_object_get(jv_copy(c), jv_string("nonce"));
	s = jv_string_value(x);
	n = strlen(s);
	if (n == 0 || n > b64_enclen(ATTEST_NONCE_MAX, B64_URL) ||
	    b64_decode(buf, &i, s, n, B64_URL) != 0 || i == 0) {
		jv_free(x);
		return err_set(e, EXIT_DATA, "malformed evidence: nonce");
	}
	jv_free(x);
	if (nonce != NULL && (i != noncelen ||
	    CRYPTO_memcmp(buf, nonce, noncelen) != 0))
		return err_set(e, EXIT_NO, "nonce mismatch");
	return 0;
}

/*
 * Native hardware evidence (raw or base64) of format f: its signatures,
 * chain and collateral (hwevidence_verify). It binds no ti claims.
 */
static int
check_native(const struct verifier *v, int f, const char *evidence,
    size_t len, time_t at, const unsigned char *nonce, jv *claims,
    struct err *e)
{
	struct hwev_opts ho;
	double ts;
	jv c;

	ho.roots = v->roots;
	ho.certs = v->certs;
	ho.collateral = v->collateral;
	ho.at = at;
	if (hwevidence_verify(f, (const unsigned char *)evidence, len, &ho, &c,
	    e) != 0)
		return -1;
	c = jv_object_set(c, jv_string("tee"), jv_string(hwevidence_name(f)));
	c = hwevidence_bind(c, NULL, 0, NULL, NULL, NULL, NULL, e);
	if (nonce != NULL) {
		jv_free(c);
		return err_set(e, EXIT_NO, "nonce mismatch: %s evidence alone "
		    "binds no ti nonce", hwevidence_name(f));
	}
	if (v->max_age > 0) {
		/* Only a Nitro document carries a signed time (ms). */
		ts = num(c, "timestamp");
		if (ts < 0) {
			jv_free(c);
			return err_set(e, EXIT_NO, "evidence too old: %s "
			    "evidence carries no signed time (--max-age)",
			    hwevidence_name(f));
		}
		if ((double)at - ts / 1000 > (double)v->max_age) {
			jv_free(c);
			return err_set(e, EXIT_NO, "evidence too old (older "
			    "than %ld seconds)", v->max_age);
		}
	}
	*claims = c;
	return 0;
}

/*
 * Evidence the policy admits may still be refused: sim unless the policy
 * requires tee "sim", debug unless it requires debug true. The policy is
 * evaluated again with the claim changed; if it still admits, it does not
 * depend on it.
 */
static int
admit(const struct verifier *v, jv c, struct err *e)
{
	jv x = jv_object_get(jv_copy(c), jv_string("tee")), probe;
	int sim = jv_get_kind(x) == JV_KIND_STRING &&
	    strcmp(jv_string_value(x), "sim") == 0, rc;

	jv_free(x);
	if (sim) {
		probe = jv_object_set(jv_copy(c), jv_string("tee"),
		    jv_string("unknown"));
		rc = policy_check(v->policy, probe, NULL);
		jv_free(probe);
		if (rc == 0)
			return err_set(e, EXIT_NO, "policy does not name sim "
			    "(require .tee == \"sim\" to admit simulated "
			    "evidence)");
	}
	x = jv_object_get(jv_copy(c), jv_string("debug"));
	if (jv_get_kind(x) == JV_KIND_TRUE) {
		jv_free(x);
		probe = jv_object_set(jv_copy(c), jv_string("debug"),
		    jv_false());
		rc = policy_check(v->policy, probe, NULL);
		jv_free(probe);
		if (rc == 0)
			return err_set(e, EXIT_NO, "policy denied: debug "
			    "(require .debug == true to admit debug evidence)");
	} else
		jv_free(x);
	return 0;
}

int
verifier_check(struct verifier *v, const char *evidence, size_t len,
    const unsigned char *nonce, size_t noncelen, jv *claims, struct err *e)
{
	const struct attest_verifier *av = NULL;
	time_t at = v->at ? v->at : time(NULL);
	jv c = jv_invalid();
	size_t i;
	int f = v->format, line;

	*claims = jv_invalid();
	if (len > EVIDENCE_MAX)
		return err_set(e, EXIT_DATA, "evidence too large (max %d bytes)",
		    EVIDENCE_MAX);
	line = len > strlen(HWLINE) && memcmp(evidence, HWLINE,
	    strlen(HWLINE)) == 0;
	if (!line && f != HWEV_SIM) {
		if (f == HWEV_UNKNOWN)
			f = hwevidence_detect((const unsigned char *)evidence,
			    len);
		if (f != HWEV_UNKNOWN && f != HWEV_SIM) {
			if (check_native(v, f, evidence, len, at, nonce, &c,
			    e) != 0)
				return -1;
			goto policy;
		}
		f = v->format;
	}
	for (i = 0; attest_verifiers[i] != NULL && i < 8; i++)
		if ((f == HWEV_UNKNOWN || strcmp(attest_verifiers[i]->tee,
		    hwevidence_name(f)) == 0) &&
		    attest_verifiers[i]->match(evidence, len)) {
			av = attest_verifiers[i];
			break;
		}
	if (av == NULL) {
		if (f != HWEV_UNKNOWN)
			return err_set(e, EXIT_DATA, "malformed evidence: not "
			    "%s evidence", hwevidence_name(f));
		return err_set(e, EXIT_DATA, "malformed evidence: unknown "
		    "format");
	}
	if (av->verify(v->cache[i], evidence, len, v->roots, at, &c, e) != 0)
		return -1;
	c = jv_object_set(c, jv_string("tee"), jv_string(av->tee));
	if (check_claims(v, c, at, nonce, noncelen, e) != 0) {
		jv_free(c);
		return -1;
	}
	/* sim evidence is its signed claims: all of them are bound. */
	c = jv_object_set(c, jv_string("bound"), jv_true());
policy:
	if (policy_check(v->policy, c, e) != 0 || admit(v, c, e) != 0) {
		jv_free(c);
		return -1;
	}
	*claims = c;
	return 0;
}
