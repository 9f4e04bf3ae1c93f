/*
 * The sim attestation backend: a root certificate and an attestation key
 * it certifies, both Ed25519, and a platform secret, all in files under
 * the platform directory. Its evidence is a compact JWS (docs/evidence.md).
 * The operator holds every secret: sim protects data from the process,
 * not from the operator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "backend.h"
#include "exitcode.h"
#include "io.h"
#include "jws.h"
#include "keyfile.h"

#define SIM_LIFETIME 300		/* seconds from iat to exp */
#define CERT_DAYS 3650
#define CACHE_SLOTS 16

static const char *const sim_files[] = {
	"platform.key", "attest.key", "attest.pem", "root.pem", "backend",
	NULL,
};

static int
pathof(char *out, size_t n, const char *home, const char *name,
    struct err *e)
{
	if ((size_t)snprintf(out, n, "%s/%s", home, name) >= n)
		return err_set(e, EXIT_USAGE, "platform directory name too long");
	return 0;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int rc;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

/* A certificate for key, issued by issuer (NULL: self-signed). */
static X509 *
mkcert(EVP_PKEY *key, const char *cn, EVP_PKEY *ikey, X509 *issuer)
{
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	int ok = 0, ca = issuer == NULL;

	if (x == NULL || name == NULL || RAND_bytes(serial, 16) != 1)
		goto out;
	serial[0] &= 0x7f;
	serial[0] |= 0x40;
	if ((bn = BN_bin2bn(serial, 16, NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_version(x, 2) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"ti", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, ca ? name :
	    X509_get_subject_name(issuer)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0,
	    NULL) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto out;
	if (add_ext(x, ca ? x : issuer, NID_basic_constraints, ca ?
	    "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE") != 0 ||
	    add_ext(x, ca ? x : issuer, NID_key_usage, ca ?
	    "critical,keyCertSign,cRLSign" : "critical,digitalSignature") != 0 ||
	    add_ext(x, ca ? x : issuer, NID_subject_key_identifier,
	    "hash") != 0 ||
	    add_ext(x, ca ? x : issuer, NID_authority_key_identifier,
	    "keyid:always") != 0)
		goto out;
	if (X509_sign(x, ca ? key : ikey, NULL) <= 0)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* PEM text of a certificate or private key into a new buffer. */
static int
pem(X509 *x, EVP_PKEY *k, unsigned char **buf, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ok;

	if (bio == NULL)
		return -1;
	ok = x ? PEM_write_bio_X509(bio, x) :
	    PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &p);
	if (ok != 1 || n <= 0 || (*buf = malloc((size_t)n)) == NULL) {
		BIO_free(bio);
		return -1;
	}
	memcpy(*buf, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_cleanse(p, (size_t)n);
	BIO_free(bio);
	return 0;
}

static int
sim_init(const char *home, struct err *e)
{
	unsigned char secret[32], tag[8], *bufs[5] = { 0 };
	size_t lens[5] = { 0 };
	char path[4096], cn[64];
	EVP_PKEY *rk = NULL, *ak = NULL;
	X509 *root = NULL, *att = NULL;
	int i, written = 0, rc = -1;
	struct stat st;

	for (i = 0; sim_files[i] != NULL; i++) {
		if (pathof(path, sizeof(path), home, sim_files[i], e) != 0)
			return -1;
		if (lstat(path, &st) == 0)
			return err_set(e, EXIT_NO, "a platform already exists "
			    "in %s (%s); not overwriting it", home,
			    sim_files[i]);
	}
	if (RAND_priv_bytes(secret, 32) != 1 || RAND_bytes(tag, 8) != 1 ||
	    (rk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    (ak = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		err_set(e, EXIT_IO, "key generation failed");
		goto out;
	}
	snprintf(cn, sizeof(cn), "ti sim root %02x%02x%02x%02x%02x%02x%02x%02x",
	    tag[0], tag[1], tag[2], tag[3], tag[4], tag[5], tag[6], tag[7]);
	if ((root = mkcert(rk, cn, NULL, NULL)) == NULL ||
	    (att = mkcert(ak, "ti sim attestation key", rk, root)) == NULL ||
	    pem(NULL, ak, &bufs[1], &lens[1]) != 0 ||
	    pem(att, NULL, &bufs[2], &lens[2]) != 0 ||
	    pem(root, NULL, &bufs[3], &lens[3]) != 0) {
		err_set(e, EXIT_IO, "certificate generation failed");
		goto out;
	}
	bufs[0] = secret;
	lens[0] = 32;
	bufs[4] = (unsigned char *)"sim\n";
	lens[4] = 4;
	for (written = 0; sim_files[written] != NULL; written++) {
		pathof(path, sizeof(path), home, sim_files[written], e);
		if (keyfile_write(path, bufs[written], lens[written], e) != 0)
			goto out;
	}
	rc = 0;
out:
	/* The root key is not kept: nothing else is ever certified by it. */
	if (rc != 0)
		for (i = 0; i < written; i++) {
			pathof(path, sizeof(path), home, sim_files[i], NULL);
			unlink(path);
		}
	OPENSSL_cleanse(secret, sizeof(secret));
	for (i = 1; i < 4; i++)
		if (bufs[i] != NULL) {
			OPENSSL_cleanse(bufs[i], lens[i]);
			free(bufs[i]);
		}
	X509_free(root);
	X509_free(att);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ak);
	return rc;
}

static int
sim_secret(const char *home, unsigned char secret[32], struct err *e)
{
	unsigned char *buf = NULL;
	char path[4096];
	size_t n = 0;

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
		return err_set(e, EXIT_DATA, "%s: not a 32-byte platform secret",
		    path);
	}
	memcpy(secret, buf, 32);
	keyfile_free(buf, n);
	return 0;
}

/* base64 (standard, padded) of the DER of the PEM certificate in file. */
static char *
cert_b64(const char *home, const char *name, struct err *e)
{
	unsigned char *buf = NULL, *der = NULL;
	char path[4096], *b64 = NULL;
	X509 *x = NULL;
	BIO *bio;
	size_t n;
	int dl;

	if (pathof(path, sizeof(path), home, name, e) != 0 ||
	    io_slurp(path, 65536, &buf, &n, e) != 0)
		return NULL;
	if ((bio = BIO_new_mem_buf(buf, (int)n)) != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(buf);
	if (x == NULL || (dl = i2d_X509(x, &der)) <= 0) {
		X509_free(x);
		err_set(e, EXIT_DATA, "%s: not a PEM certificate", path);
		return NULL;
	}
	b64 = b64_encode_alloc(der, (size_t)dl, B64_STD);
	OPENSSL_free(der);
	X509_free(x);
	if (b64 == NULL)
		err_set(e, EXIT_IO, "out of memory");
	return b64;
}

static int
sim_quote(const char *home, const struct attest_claims *c, char **out,
    struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char *kbuf = NULL, jti[16];
	char path[4096], *leaf = NULL, *root = NULL, *s, datahex[65];
	size_t kn = 0, i;
	EVP_PKEY *ak = NULL;
	BIO *bio = NULL;
	time_t now = time(NULL);
	jv h, p;
	int rc = -1;

	if (c->noncelen == 0 || c->noncelen > ATTEST_NONCE_MAX)
		return err_set(e, EXIT_USAGE, "nonce must be 1 to %d bytes",
		    ATTEST_NONCE_MAX);
	if (pathof(path, sizeof(path), home, "attest.key", e) != 0 ||
	    keyfile_read(path, &kbuf, &kn, e) != 0)
		return -1;
	if ((bio = BIO_new_mem_buf(kbuf, (int)kn)) != NULL)
		ak = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	keyfile_free(kbuf, kn);
	if (ak == NULL || EVP_PKEY_get_id(ak) != EVP_PKEY_ED25519) {
		err_set(e, EXIT_DATA, "%s: not an Ed25519 private key", path);
		goto out;
	}
	if ((leaf = cert_b64(home, "attest.pem", e)) == NULL ||
	    (root = cert_b64(home, "root.pem", e)) == NULL)
		goto out;
	if (RAND_bytes(jti, sizeof(jti)) != 1) {
		err_set(e, EXIT_IO, "no random bytes");
		goto out;
	}
	h = JV_OBJECT(jv_string("alg"), jv_string("EdDSA"),
	    jv_string("typ"), jv_string("JWT"),
	    jv_string("x5c"), JV_ARRAY(jv_string(leaf), jv_string(root)));
	p = JV_OBJECT(jv_string("tee"), jv_string("sim"),
	    jv_string("measurement"), jv_string(c->measurement),
	    jv_string("recipient"), jv_string(c->recipient),
	    jv_string("sig_key"), jv_string(c->sig_key),
	    jv_string("iat"), jv_number((double)now),
	    jv_string("exp"), jv_number((double)(now + SIM_LIFETIME)));
	if ((s = b64_encode_alloc(c->nonce, c->noncelen, B64_URL)) == NULL) {
		jv_free(h);
		jv_free(p);
		err_set(e, EXIT_IO, "out of memory");
		goto out;
	}
	p = jv_object_set(p, jv_string("nonce"), jv_string(s));
	free(s);
	b64_encode(datahex, jti, sizeof(jti), B64_URL);
	p = jv_object_set(p, jv_string("jti"), jv_string(datahex));
	if (c->data != NULL) {
		for (i = 0; i < 32; i++) {
			datahex[2 * i] = hex[c->data[i] >> 4];
			datahex[2 * i + 1] = hex[c->data[i] & 15];
		}
		datahex[64] = '\0';
		p = jv_object_set(p, jv_string("data"), jv_string(datahex));
	}
	rc = jws_sign(h, p, ak, out, e);
out:
	free(leaf);
	free(root);
	EVP_PKEY_free(ak);
	return rc;
}

const struct attest_backend attest_sim = {
	.name = "sim",
	.init = sim_init,
	.secret = sim_secret,
	.quote = sim_quote,
};

/* Verification. */

struct cached {
	unsigned char fp[32];	/* SHA-256 of x5c[0], the attestation cert */
	EVP_PKEY *pk;		/* its key */
	time_t nb, na;		/* the verified chain's common validity */
	int used;
};

struct cache {
	struct cached slot[CACHE_SLOTS];
	unsigned next;
};

static void *
sim_cache_new(void)
{
	return calloc(1, sizeof(struct cache));
}

static void
sim_cache_free(void *p)
{
	struct cache *c = p;
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		EVP_PKEY_free(c->slot[i].pk);
	free(c);
}

static int
sim_match(const char *s, size_t n)
{
	/* A JWS whose header is a JSON object: base64url of "{". */
	return n > 3 && s[0] == 'e' && s[1] == 'y' && memchr(s, '.', n);
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static int
chain_error(int err, struct err *e)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return err_set(e, EXIT_NO, "evidence certificate expired");
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return err_set(e, EXIT_NO, "evidence certificate not yet valid");
	default:
		return err_set(e, EXIT_NO, "evidence does not chain to a trusted "
		    "root (%s)", X509_verify_cert_error_string(err));
	}
}

/* The attestation key, its chain to roots verified at time at (cached). */
static EVP_PKEY *
leaf_key(struct cache *c, jv x5c, STACK_OF(X509) *roots, time_t at,
    struct err *e)
{
	STACK_OF(X509) *untrusted = NULL, *chain;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *leaf = NULL, *x;
	EVP_PKEY *pk = NULL;
	unsigned char *der = NULL, fp[32] = { 0 };
	const unsigned char *q;
	size_t dl;
	int i, n, k;
	struct cached *s;
	jv v;

	if (jv_get_kind(x5c) != JV_KIND_ARRAY ||
	    (n = jv_array_length(jv_copy(x5c))) < 1 || n > 4) {
		err_set(e, EXIT_DATA, "malformed evidence: x5c is not an array "
		    "of 1 to 4 certificates");
		goto out;
	}
	/* The cache is keyed by the certificate's text as the JWS has it. */
	v = jv_array_get(jv_copy(x5c), 0);
	if (jv_get_kind(v) == JV_KIND_STRING)
		EVP_Digest(jv_string_value(v), strlen(jv_string_value(v)), fp,
		    NULL, EVP_sha256(), NULL);
	jv_free(v);
	for (i = 0; i < CACHE_SLOTS; i++) {
		s = &c->slot[i];
		if (s->used && CRYPTO_memcmp(s->fp, fp, 32) == 0 &&
		    at >= s->nb && at <= s->na) {
			EVP_PKEY_up_ref(s->pk);
			pk = s->pk;
			goto out;
		}
	}
	if ((untrusted = sk_X509_new_null()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		v = jv_array_get(jv_copy(x5c), i);
		k = jv_get_kind(v) == JV_KIND_STRING;
		x = NULL;
		if (k) {
			const char *b = jv_string_value(v);
			size_t bl = strlen(b);
			if ((der = malloc(b64_declen(bl) + 1)) == NULL) {
				jv_free(v);
				goto nomem;
			}
			k = b64_decode(der, &dl, b, bl, B64_STD) == 0;
		}
		jv_free(v);
		q = der;
		if (!k || (x = d2i_X509(NULL, &q, (long)dl)) == NULL ||
		    q != der + dl) {
			X509_free(x);
			err_set(e, EXIT_DATA, "malformed evidence: x5c[%d] is not "
			    "a base64 DER certificate", i);
			goto out;
		}
		if (i == 0)
			leaf = x;
		else if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			goto nomem;
		}
		free(der);
		der = NULL;
	}
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto nomem;
	for (i = 0; i < sk_X509_num(roots); i++)
		X509_STORE_add_cert(store, sk_X509_value(roots, i));
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1)
		goto nomem;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	if (X509_verify_cert(ctx) != 1) {
		chain_error(X509_STORE_CTX_get_error(ctx), e);
		goto out;
	}
	if ((pk = X509_get_pubkey(leaf)) == NULL ||
	    EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pk);
		pk = NULL;
		err_set(e, EXIT_NO, "evidence key is not Ed25519");
		goto out;
	}
	s = &c->slot[c->next++ % CACHE_SLOTS];
	EVP_PKEY_free(s->pk);
	memcpy(s->fp, fp, 32);
	s->pk = pk;
	EVP_PKEY_up_ref(pk);
	s->used = 1;
	s->nb = 0;
	s->na = (time_t)1 << 62;
	chain = X509_STORE_CTX_get0_chain(ctx);
	for (i = 0; i < sk_X509_num(chain); i++) {
		time_t nb = asn1_time(X509_get0_notBefore(sk_X509_value(chain, i)));
		time_t na = asn1_time(X509_get0_notAfter(sk_X509_value(chain, i)));
		if (nb > s->nb)
			s->nb = nb;
		if (na < s->na)
			s->na = na;
	}
	goto out;
nomem:
	err_set(e, EXIT_IO, "out of memory");
out:
	free(der);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(leaf);
	sk_X509_pop_free(untrusted, X509_free);
	jv_free(x5c);
	return pk;
}

static int
str_claim(jv p, const char *name, jv *out, struct err *e)
{
	jv v = jv_object_get(jv_copy(p), jv_string(name));

	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return err_set(e, EXIT_DATA, "malformed evidence: claim %s "
		    "missing or not a string", name);
	}
	*out = jv_object_set(*out, jv_string(name), v);
	return 0;
}

static int
num_claim(jv p, const char *name, int required, jv *out, struct err *e)
{
	jv v = jv_object_get(jv_copy(p), jv_string(name));
	double d;

	if (!jv_is_valid(v) && !required) {
		jv_free(v);
		return 0;
	}
	d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
	if (d < 0 || d > 1e15 || d != (double)(long long)d) {
		jv_free(v);
		return err_set(e, EXIT_DATA, "malformed evidence: claim %s "
		    "missing or not a time", name);
	}
	*out = jv_object_set(*out, jv_string(name), v);
	return 0;
}

static int
sim_verify(void *cache, const char *s, size_t n, STACK_OF(X509) *roots,
    time_t at, jv *claims, struct err *e)
{
	static const char *const strs[] = { "measurement", "recipient",
	    "sig_key", "nonce", "jti", NULL };
	struct jws j;
	EVP_PKEY *pk;
	jv out = jv_object(), d;
	int i, rc = -1;

	if (jws_parse(s, n, &j, e) != 0)
		goto out;
	pk = leaf_key(cache, jv_object_get(jv_copy(j.header), jv_string("x5c")),
	    roots, at, e);
	if (pk == NULL)
		goto out;
	i = jws_verify(&j, pk);
	EVP_PKEY_free(pk);
	if (i != 0) {
		err_set(e, EXIT_NO, "evidence signature does not verify");
		goto out;
	}
	for (i = 0; strs[i] != NULL; i++)
		if (str_claim(j.payload, strs[i], &out, e) != 0)
			goto out;
	if (num_claim(j.payload, "iat", 1, &out, e) != 0 ||
	    num_claim(j.payload, "exp", 1, &out, e) != 0 ||
	    num_claim(j.payload, "nbf", 0, &out, e) != 0)
		goto out;
	d = jv_object_get(jv_copy(j.payload), jv_string("data"));
	if (jv_is_valid(d)) {
		if (jv_get_kind(d) != JV_KIND_STRING) {
			jv_free(d);
			err_set(e, EXIT_DATA, "malformed evidence: claim data not "
			    "a string");
			goto out;
		}
		out = jv_object_set(out, jv_string("data"), d);
	} else {
		jv_free(d);
	}
	*claims = out;
	out = jv_invalid();
	rc = 0;
out:
	jv_free(out);
	jws_fini(&j);
	return rc;
}

const struct attest_verifier attest_verify_sim = {
	.tee = "sim",
	.match = sim_match,
	.verify = sim_verify,
	.cache_new = sim_cache_new,
	.cache_free = sim_cache_free,
};
