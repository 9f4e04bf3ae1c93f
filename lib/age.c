#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "age.h"
#include "b64.h"
#include "exitcode.h"
#include "io.h"
#include "keyfile.h"

#define CHUNK		65536		/* plaintext bytes a chunk */
#define TAGLEN		16
#define ENC		(CHUNK + TAGLEN) /* ciphertext bytes per chunk */
#ifndef BATCH
#define BATCH		16		/* chunks per read and write */
#endif
#define HEADER_MAX	(1024 * 1024)	/* largest header accepted */
#define STANZA_MAX	4096		/* most stanzas in a header */
#define SCRYPT_DEFAULT	18
#define SCRYPT_CAP	22		/* largest work factor opened */
#define PASS_MAX	1024
#define ARMOR_COLS	64
#define ARMOR_BEGIN	"-----BEGIN AGE ENCRYPTED FILE-----"
#define ARMOR_END	"-----END AGE ENCRYPTED FILE-----"
#define V1_LINE		"age-encryption.org/v1"
#define X25519_INFO	"age-encryption.org/v1/X25519"
#define SCRYPT_SALT	"age-encryption.org/v1/scrypt"

enum { K_RECIPIENT, K_IDENTITY, K_PASSPHRASE };

struct age_key {
	int type;
	int log2n;
	unsigned char pub[32];
	unsigned char priv[32];
	size_t passlen;
	char pass[PASS_MAX];
};

struct age_keys {
	struct age_key *v;
	size_t n, cap;
};

/* Key material of one file, wiped on every path. */
struct secrets {
	unsigned char filekey[16];
	unsigned char wrap[32];
	unsigned char shared[32];
	unsigned char eph[32];
	unsigned char hmackey[32];
	unsigned char paykey[32];
	unsigned char mac[32];
};

/* Sets of keys. */

struct age_keys *
age_keys_new(void)
{
	return calloc(1, sizeof(struct age_keys));
}

void
age_keys_free(struct age_keys *k)
{
	if (k == NULL)
		return;
	wipe(k->v, k->cap * sizeof(*k->v));
	free(k->v);
	free(k);
}

size_t
age_keys_count(const struct age_keys *k)
{
	return k->n;
}

static struct age_key *
keys_add(struct age_keys *k, int type, struct err *e)
{
	struct age_key *nv;
	size_t ncap;

	if (k->n == k->cap) {
		ncap = k->cap ? k->cap * 2 : 4;
		/* Not realloc: the old array holds secrets to wipe. */
		if ((nv = calloc(ncap, sizeof(*nv))) == NULL) {
			err_errno(e, EXIT_IO, "out of memory");
			return NULL;
		}
		if (k->n > 0)
			memcpy(nv, k->v, k->n * sizeof(*nv));
		wipe(k->v, k->cap * sizeof(*k->v));
		free(k->v);
		k->v = nv;
		k->cap = ncap;
	}
	memset(&k->v[k->n], 0, sizeof(k->v[0]));
	k->v[k->n].type = type;
	return &k->v[k->n++];
}

int
age_add_x25519_recipient(struct age_keys *k, const unsigned char pub[32],
    struct err *e)
{
	struct age_key *a;

	if ((a = keys_add(k, K_RECIPIENT, e)) == NULL)
		return -1;
	memcpy(a->pub, pub, 32);
	return 0;
}

int
age_add_recipient(struct age_keys *k, const char *s, struct err *e)
{
	unsigned char pub[32];

	if (strncmp(s, "age1pq1", 7) == 0 || strncmp(s, "age1tag", 7) == 0)
		return err_set(e, EXIT_DATA,
		    "unsupported recipient type: %.20s...", s);
	if (age_recipient_parse(s, pub, e) != 0)
		return -1;
	return age_add_x25519_recipient(k, pub, e);
}

int
age_add_x25519_identity(struct age_keys *k, const unsigned char priv[32],
    struct err *e)
{
	struct age_key *a;

	if ((a = keys_add(k, K_IDENTITY, e)) == NULL)
		return -1;
	memcpy(a->priv, priv, 32);
	if (age_x25519_public(priv, a->pub) != 0) {
		k->n--;
		wipe(a, sizeof(*a));
		return err_set(e, EXIT_DATA, "invalid X25519 identity");
	}
	return 0;
}

int
age_add_identity(struct age_keys *k, const char *s, struct err *e)
{
	unsigned char priv[32];
	int rc;

	if (strncmp(s, "AGE-SECRET-KEY-PQ-1", 19) == 0)
		return err_set(e, EXIT_DATA, "unsupported identity type: "
		    "post-quantum (mlkem768x25519)");
	if (strncmp(s, "AGE-PLUGIN-", 11) == 0)
		return err_set(e, EXIT_DATA,
		    "unsupported identity type: plugin identities");
	if (age_identity_parse(s, priv, e) != 0)
		return -1;
	rc = age_add_x25519_identity(k, priv, e);
	wipe(priv, sizeof(priv));
	return rc;
}

int
age_add_passphrase(struct age_keys *k, const char *pass, int log2n,
    struct err *e)
{
	struct age_key *a;
	size_t n = strlen(pass);

	if (n == 0)
		return err_set(e, EXIT_DATA, "empty passphrase");
	if (n >= PASS_MAX)
		return err_set(e, EXIT_DATA, "passphrase too long (max %d "
		    "bytes)", PASS_MAX - 1);
	if (log2n == 0)
		log2n = SCRYPT_DEFAULT;
	if (log2n < 1 || log2n > SCRYPT_CAP)
		return err_set(e, EXIT_USAGE, "scrypt work factor %d out of "
		    "range (1 to %d)", log2n, SCRYPT_CAP);
	if ((a = keys_add(k, K_PASSPHRASE, e)) == NULL)
		return -1;
	memcpy(a->pass, pass, n);
	a->passlen = n;
	a->log2n = log2n;
	return 0;
}

/* Call fn on each meaningful line of buf (comments and blank lines skipped). */
static int
each_line(char *buf, size_t len, const char *path,
    int (*fn)(struct age_keys *, const char *, struct err *),
    struct age_keys *k, struct err *e)
{
	char *p = buf, *end = buf + len, *nl;
	int lineno = 0, found = 0;

	if (memchr(buf, '\0', len) != NULL)
		return err_set(e, EXIT_DATA, "%s: not a text file", path);
	while (p < end) {
		size_t n;

		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		p[n] = '\0';
		if (n > 0 && p[0] != '#') {
			if (fn(k, p, e) != 0)
				return err_prefix(e, "%s line %d", path,
				    lineno);
			found++;
		}
		p = nl ? nl + 1 : end;
	}
	if (found == 0)
		return err_set(e, EXIT_DATA, "%s: no keys found", path);
	return 0;
}

int
age_add_recipients_file(struct age_keys *k, const char *path, struct err *e)
{
	unsigned char *buf;
	size_t len;
	int rc;

	if (io_slurp(path, KEYFILE_MAX, &buf, &len, e) != 0)
		return -1;
	rc = each_line((char *)buf, len, path, age_add_recipient, k, e);
	free(buf);
	return rc;
}

int
age_add_identity_file(struct age_keys *k, const char *path, struct err *e)
{
	unsigned char *buf;
	size_t len;
	int rc;

	if (keyfile_read(path, &buf, &len, e) != 0)
		return -1;
	if (len >= 19 && (memcmp(buf, "age-encryption.org/", 19) == 0 ||
	    memcmp(buf, "-----BEGIN AGE", 14) == 0))
		rc = err_set(e, EXIT_DATA, "%s: encrypted identity files are "
		    "not supported", path);
	else
		rc = each_line((char *)buf, len, path, age_add_identity, k, e);
	keyfile_free(buf, len);
	return rc;
}

int
age_keys_recipient(const struct age_keys *k, size_t i,
    char out[AGE_RECIPIENT_LEN])
{
	if (i >= k->n || k->v[i].type == K_PASSPHRASE)
		return -1;
	age_recipient_string(out, k->v[i].pub);
	return 0;
}

int
age_keygen_text(char *buf, size_t cap, char pub[AGE_RECIPIENT_LEN],
    struct err *e)
{
	unsigned char sk[32], pk[32];
	char id[AGE_IDENTITY_LEN], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (age_x25519_keygen(sk, pk) != 0) {
		wipe(sk, sizeof(sk));
		return err_set(e, EXIT_IO, "unable to generate a key");
	}
	age_identity_string(id, sk);
	age_recipient_string(pub, pk);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(buf, cap, "# created: %s\n# public key: %s\n%s\n", when,
	    pub, id);
	wipe(sk, sizeof(sk));
	wipe(id, sizeof(id));
	if (n < 0 || (size_t)n >= cap)
		return err_set(e, EXIT_IO, "key buffer too small");
	return 0;
}

/* Primitives. */

static int
hkdf(const unsigned char *ikm, size_t ikmlen, const unsigned char *salt,
    size_t saltlen, const char *info, unsigned char out[32])
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *c = NULL;
	OSSL_PARAM p[5], *q = p;
	int rc = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return -1;
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikmlen);
	/* An empty salt is HashLen zero bytes (RFC 5869), the default. */
	if (saltlen > 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, saltlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	*q = OSSL_PARAM_construct_end();
	if ((c = EVP_KDF_CTX_new(kdf)) != NULL &&
	    EVP_KDF_derive(c, out, 32, p) == 1)
		rc = 0;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	return rc;
}

/* X25519(priv, pub) into out; -1 also when the result is all zero. */
static int
x25519(const unsigned char priv[32], const unsigned char pub[32],
    unsigned char out[32])
{
	static const unsigned char zero[32];
	EVP_PKEY *sk, *pk;
	EVP_PKEY_CTX *c = NULL;
	size_t n = 32;
	int rc = -1;

	sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	if (sk != NULL && pk != NULL &&
	    (c = EVP_PKEY_CTX_new(sk, NULL)) != NULL &&
	    EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_derive_set_peer(c, pk) == 1 &&
	    EVP_PKEY_derive(c, out, &n) == 1 && n == 32 &&
	    CRYPTO_memcmp(out, zero, 32) != 0)
		rc = 0;
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(pk);
	return rc;
}

static int
scrypt(const char *pass, size_t passlen, const unsigned char salt[16],
    int log2n, unsigned char out[32])
{
	unsigned char s[sizeof(SCRYPT_SALT) - 1 + 16];
	uint64_t n = (uint64_t)1 << log2n;

	memcpy(s, SCRYPT_SALT, sizeof(SCRYPT_SALT) - 1);
	memcpy(s + sizeof(SCRYPT_SALT) - 1, salt, 16);
	/* 128 * r * (N + 2) bytes of V and B, r = 8, with room to spare. */
	if (EVP_PBE_scrypt(pass, passlen, s, sizeof(s), n, 8, 1,
	    1024 * (n + 4) + (1 << 20), out, 32) != 1)
		return -1;
	return 0;
}

/* ChaCha20-Poly1305 with a zero nonce, for stanza bodies (16 <-> 32 bytes). */
static int
wrap_key(const unsigned char key[32], const unsigned char in[16],
    unsigned char out[32])
{
	static const unsigned char nonce[12];
	EVP_CIPHER_CTX *c;
	int n, rc = -1;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key,
	    nonce) == 1 && EVP_EncryptUpdate(c, out, &n, in, 16) == 1 &&
	    EVP_EncryptFinal_ex(c, out + 16, &n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + 16) == 1)
		rc = 0;
	EVP_CIPHER_CTX_free(c);
	return rc;
}

static int
unwrap_key(const unsigned char key[32], const unsigned char in[32],
    unsigned char out[16])
{
	static const unsigned char nonce[12];
	EVP_CIPHER_CTX *c;
	int n, rc = -1;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key,
	    nonce) == 1 && EVP_DecryptUpdate(c, out, &n, in, 16) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16,
	    (void *)(in + 16)) == 1 && EVP_DecryptFinal_ex(c, out + n, &n) == 1)
		rc = 0;
	EVP_CIPHER_CTX_free(c);
	if (rc != 0)
		wipe(out, 16);
	return rc;
}

/* The STREAM nonce of chunk i: an 11-byte big-endian counter, last flag. */
static void
stream_nonce(unsigned char iv[12], uint64_t i, int last)
{
	int j;

	memset(iv, 0, 12);
	for (j = 10; j >= 3; j--, i >>= 8)
		iv[j] = (unsigned char)(i & 0xff);
	iv[11] = last ? 1 : 0;
}

/*
 * ChaCha20-Poly1305 with c's key and a new iv: n bytes of in sealed into
 * out, tag appended. Only the iv changes between chunks. 0, or -1.
 */
static int
aead_seal(EVP_CIPHER_CTX *c, const unsigned char iv[12],
    const unsigned char *aad, size_t aadlen, const unsigned char *in,
    size_t n, unsigned char *out)
{
	int l;

	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    (aadlen > 0 && EVP_EncryptUpdate(c, NULL, &l, aad,
	    (int)aadlen) != 1) ||
	    (n > 0 && EVP_EncryptUpdate(c, out, &l, in, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(c, out + n, &l) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAGLEN,
	    out + n) != 1)
		return -1;
	return 0;
}

/* Open n bytes of in (tag included) into out. 0, or -1. */
static int
aead_open(EVP_CIPHER_CTX *c, const unsigned char iv[12],
    const unsigned char *aad, size_t aadlen, const unsigned char *in,
    size_t n, unsigned char *out)
{
	size_t m = n - TAGLEN;
	int l;

	if (n < TAGLEN ||
	    EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    (aadlen > 0 && EVP_DecryptUpdate(c, NULL, &l, aad,
	    (int)aadlen) != 1) ||
	    (m > 0 && EVP_DecryptUpdate(c, out, &l, in, (int)m) != 1) ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAGLEN,
	    (void *)(in + m)) != 1 ||
	    EVP_DecryptFinal_ex(c, out + m, &l) != 1)
		return -1;
	return 0;
}

static int
chunk_seal(EVP_CIPHER_CTX *c, uint64_t i, int last, const unsigned char *in,
    size_t n, unsigned char *out)
{
	unsigned char iv[12];

	stream_nonce(iv, i, last);
	return aead_seal(c, iv, NULL, 0, in, n, out);
}

/* Decrypt n bytes (tag included) of chunk i into out. 0, or -1. */
static int
chunk_open(EVP_CIPHER_CTX *c, uint64_t i, int last, const unsigned char *in,
    size_t n, unsigned char *out)
{
	unsigned char iv[12];

	stream_nonce(iv, i, last);
	return aead_open(c, iv, NULL, 0, in, n, out);
}

/* Byte sources: a FILE or memory, with readall semantics. */

struct src {
	FILE *fp;
	const unsigned char *mem;
	size_t memlen, mempos;
	int eof;
};

static ssize_t
src_read(struct src *s, void *buf, size_t n, struct err *e)
{
	size_t r;

	if (s->eof || n == 0)
		return 0;
	if (s->fp == NULL) {
		r = s->memlen - s->mempos;
		if (r > n)
			r = n;
		memcpy(buf, s->mem + s->mempos, r);
		s->mempos += r;
	} else {
		r = fread(buf, 1, n, s->fp);
		if (r < n && ferror(s->fp))
			return err_errno(e, EXIT_IO, "error reading input");
	}
	if (r < n)
		s->eof = 1;
	return (ssize_t)r;
}

/*
 * The input of age_open: raw bytes through a small lookahead buffer, and,
 * when the input is armored, the bytes it decodes to.
 */
struct in {
	struct src src;
	unsigned char raw[4096];
	size_t rpos, rlen;
	int armored, armor_done;
	unsigned char dec[48];
	size_t dpos, dlen;
};

/* Make at least need bytes available in raw (fewer only at end of input). */
static int
raw_peek(struct in *in, size_t need, struct err *e)
{
	ssize_t r;

	if (in->rlen - in->rpos >= need || in->src.eof)
		return 0;
	memmove(in->raw, in->raw + in->rpos, in->rlen - in->rpos);
	in->rlen -= in->rpos;
	in->rpos = 0;
	r = src_read(&in->src, in->raw + in->rlen, sizeof(in->raw) - in->rlen,
	    e);
	if (r < 0)
		return -1;
	in->rlen += (size_t)r;
	return 0;
}

static ssize_t
raw_read(struct in *in, unsigned char *dst, size_t n, struct err *e)
{
	size_t got = in->rlen - in->rpos;
	ssize_t r;

	if (got > n)
		got = n;
	memcpy(dst, in->raw + in->rpos, got);
	in->rpos += got;
	if (got < n) {
		if ((r = src_read(&in->src, dst + got, n - got, e)) < 0)
			return -1;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * Read a text line of at most cap bytes (without its LF or CRLF) into
 * line. *nl tells whether it ended with a newline (else at end of input).
 */
static int
raw_line(struct in *in, char *line, size_t cap, size_t *len, int *nl,
    struct err *e)
{
	size_t n = 0;

	*nl = 0;
	for (;;) {
		unsigned char c;

		if (in->rpos == in->rlen) {
			if (raw_peek(in, 1, e) != 0)
				return -1;
			if (in->rpos == in->rlen)
				break;
		}
		c = in->raw[in->rpos++];
		if (c == '\n') {
			*nl = 1;
			break;
		}
		if (n == cap)
			return err_set(e, EXIT_DATA, "invalid armor: line too "
			    "long");
		line[n++] = (char)c;
	}
	if (*nl && n > 0 && line[n - 1] == '\r')
		n--;
	*len = n;
	return 0;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	    c == '\f';
}

/* After the end line: only whitespace may follow. */
static int
armor_trailer(struct in *in, struct err *e)
{
	for (;;) {
		if (raw_peek(in, 1, e) != 0)
			return -1;
		if (in->rpos == in->rlen)
			return 0;
		while (in->rpos < in->rlen)
			if (!is_space(in->raw[in->rpos++]))
				return err_set(e, EXIT_DATA, "invalid armor: "
				    "trailing data after the end line");
	}
}

static int
armor_end(struct in *in, struct err *e)
{
	char line[80];
	size_t n;
	int nl;

	if (raw_line(in, line, sizeof(line), &n, &nl, e) != 0)
		return -1;
	if (n != sizeof(ARMOR_END) - 1 || memcmp(line, ARMOR_END, n) != 0)
		return err_set(e, EXIT_DATA, "invalid armor: bad or missing "
		    "end line");
	in->armor_done = 1;
	return armor_trailer(in, e);
}

/* Decode the next armor line into dec. */
static int
armor_next(struct in *in, struct err *e)
{
	char line[80];
	size_t n, dn;
	int nl;

	in->dpos = in->dlen = 0;
	if (in->armor_done)
		return 0;
	if (raw_line(in, line, sizeof(line), &n, &nl, e) != 0)
		return -1;
	if (n == sizeof(ARMOR_END) - 1 && memcmp(line, ARMOR_END, n) == 0) {
		in->armor_done = 1;
		return armor_trailer(in, e);
	}
	if (!nl)
		return err_set(e, EXIT_DATA, "invalid armor: missing end line");
	if (n == 0 || n > ARMOR_COLS)
		return err_set(e, EXIT_DATA, "invalid armor: line of %zu "
		    "columns", n);
	if (b64_decode(in->dec, &dn, line, n, B64_STD) != 0)
		return err_set(e, EXIT_DATA, "invalid armor: bad base64");
	in->dlen = dn;
	/* A short or padded line is the last one. */
	if (n < ARMOR_COLS || line[n - 1] == '=')
		return armor_end(in, e);
	return 0;
}

/* Read n bytes of the age file (fewer only at its end). */
static ssize_t
bin_read(struct in *in, unsigned char *dst, size_t n, struct err *e)
{
	size_t got = 0, k;

	if (!in->armored)
		return raw_read(in, dst, n, e);
	while (got < n) {
		if (in->dpos == in->dlen) {
			if (in->armor_done)
				break;
			if (armor_next(in, e) != 0)
				return -1;
			continue;
		}
		k = in->dlen - in->dpos;
		if (k > n - got)
			k = n - got;
		memcpy(dst + got, in->dec + in->dpos, k);
		in->dpos += k;
		got += k;
	}
	return (ssize_t)got;
}

/* Detect armor (after optional leading whitespace) or a binary file. */
static int
in_start(struct in *in, struct err *e)
{
	char line[80];
	size_t n;
	int nl, space = 0;

	for (;;) {
		if (raw_peek(in, sizeof(ARMOR_BEGIN), e) != 0)
			return -1;
		if (in->rpos == in->rlen)
			return err_set(e, EXIT_DATA, space ? "not an age file" :
			    "empty input");
		if (!is_space(in->raw[in->rpos]))
			break;
		in->rpos++;
		space = 1;
	}
	if (in->rlen - in->rpos < 5 ||
	    memcmp(in->raw + in->rpos, "-----", 5) != 0) {
		size_t n = in->rlen - in->rpos;
		/* Say so at once rather than after a long first line. */
		if (n > 19)
			n = 19;
		if (space || memcmp(in->raw + in->rpos, "age-encryption.org/",
		    n) != 0)
			return err_set(e, EXIT_DATA, "not an age file");
		return 0;
	}
	in->armored = 1;
	if (raw_line(in, line, sizeof(line), &n, &nl, e) != 0)
		return -1;
	if (!nl || n != sizeof(ARMOR_BEGIN) - 1 ||
	    memcmp(line, ARMOR_BEGIN, n) != 0)
		return err_set(e, EXIT_DATA, "invalid armor: bad begin line");
	return 0;
}

/* Header. */

struct stanza {
	char **args;
	int argc;
	unsigned char *body;
	size_t bodylen;
};

struct header {
	char *raw;		/* header text as read */
	size_t len, cap;
	size_t maclen;		/* bytes covered by the MAC */
	unsigned char mac[32];
	struct stanza *v;
	size_t n;
};

static void
header_free(struct header *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].args);
		wipe(h->v[i].body, h->v[i].bodylen);
		free(h->v[i].body);
	}
	free(h->v);
	free(h->raw);
	memset(h, 0, sizeof(*h));
}

/* Read the next header line into h->raw; *off and *len locate it. */
static int
header_line(struct in *in, struct header *h, size_t *off, size_t *len,
    struct err *e)
{
	unsigned char c;
	ssize_t r;

	*off = h->len;
	for (;;) {
		if ((r = bin_read(in, &c, 1, e)) < 0)
			return -1;
		if (r == 0)
			return err_set(e, EXIT_DATA, h->len == 0 ?
			    "empty input" : "truncated header");
		if (h->len + 1 >= h->cap) {
			size_t ncap = h->cap ? h->cap * 2 : 512;
			char *nr;
			if (ncap > HEADER_MAX)
				return err_set(e, EXIT_DATA, "header too "
				    "large");
			if ((nr = realloc(h->raw, ncap)) == NULL)
				return err_errno(e, EXIT_IO, "out of memory");
			h->raw = nr;
			h->cap = ncap;
		}
		h->raw[h->len++] = (char)c;
		if (c == '\n')
			break;
	}
	*len = h->len - 1 - *off;
	h->raw[h->len] = '\0';
	return 0;
}

static int
is_b64(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Parse "-> arg..." (at p, n bytes, no LF) into s. */
static int
stanza_args(struct stanza *s, const char *p, size_t n, struct err *e)
{
	char *a;
	size_t i, argc = 1;

	for (i = 0; i < n; i++) {
		if (p[i] == ' ')
			argc++;
		else if (p[i] < 0x21 || p[i] > 0x7e)
			return err_set(e, EXIT_DATA, "malformed header: bad "
			    "character in stanza");
	}
	/* One allocation: the argument pointers, then their text. */
	if ((s->args = malloc(argc * sizeof(char *) + n + 1)) == NULL)
		return err_errno(e, EXIT_IO, "out of memory");
	a = (char *)(s->args + argc);
	memcpy(a, p, n);
	a[n] = '\0';
	s->args[0] = a;
	s->argc = 1;
	for (i = 0; i < n; i++)
		if (a[i] == ' ') {
			a[i] = '\0';
			s->args[s->argc++] = a + i + 1;
		}
	for (i = 0; i < argc; i++)
		if (s->args[i][0] == '\0')
			return err_set(e, EXIT_DATA, "malformed header: empty "
			    "stanza argument");
	return 0;
}

static int
header_read(struct in *in, struct header *h, struct err *e)
{
	size_t off, len;
	char *body = NULL;
	size_t blen = 0;

	if (header_line(in, h, &off, &len, e) != 0)
		return -1;
	if (len != sizeof(V1_LINE) - 1 || memcmp(h->raw, V1_LINE, len) != 0) {
		if (strncmp(h->raw, "age-encryption.org/", 19) == 0)
			return err_set(e, EXIT_DATA, "unsupported age version");
		return err_set(e, EXIT_DATA, "not an age file");
	}
	for (;;) {
		struct stanza *s;
		struct stanza *nv;
		const char *p;

		if (header_line(in, h, &off, &len, e) != 0)
			goto fail;
		p = h->raw + off;
		if (len >= 3 && memcmp(p, "---", 3) == 0) {
			size_t mn;
			if (h->n == 0) {
				err_set(e, EXIT_DATA, "malformed header: no "
				    "recipient stanzas");
				goto fail;
			}
			if (len != 47 || p[3] != ' ' ||
			    b64_decode(h->mac, &mn, p + 4, 43,
			    B64_NOPAD) != 0 ||
			    mn != 32) {
				err_set(e, EXIT_DATA, "malformed header MAC");
				goto fail;
			}
			h->maclen = off + 3;
			return 0;
		}
		if (len < 3 || memcmp(p, "-> ", 3) != 0) {
			err_set(e, EXIT_DATA, "malformed header line");
			goto fail;
		}
		if (h->n == STANZA_MAX) {
			err_set(e, EXIT_DATA, "too many stanzas");
			goto fail;
		}
		if ((nv = realloc(h->v, (h->n + 1) * sizeof(*nv))) == NULL) {
			err_errno(e, EXIT_IO, "out of memory");
			goto fail;
		}
		h->v = nv;
		s = &h->v[h->n];
		memset(s, 0, sizeof(*s));
		h->n++;
		if (stanza_args(s, p + 3, len - 3, e) != 0)
			goto fail;
		/* Body: full 64-column lines, then one shorter line. */
		blen = 0;
		for (;;) {
			size_t i;
			char *nb;
			if (header_line(in, h, &off, &len, e) != 0)
				goto fail;
			p = h->raw + off;
			if (len > 64) {
				err_set(e, EXIT_DATA, "malformed header: "
				    "stanza line longer than 64 columns");
				goto fail;
			}
			for (i = 0; i < len; i++)
				if (!is_b64((unsigned char)p[i])) {
					err_set(e, EXIT_DATA, "malformed "
					    "header: bad stanza body");
					goto fail;
				}
			if ((nb = realloc(body, blen + len + 1)) == NULL) {
				err_errno(e, EXIT_IO, "out of memory");
				goto fail;
			}
			body = nb;
			memcpy(body + blen, p, len);
			blen += len;
			if (len < 64)
				break;
		}
		if ((s->body = malloc(b64_declen(blen) + 1)) == NULL) {
			err_errno(e, EXIT_IO, "out of memory");
			goto fail;
		}
		if (b64_decode(s->body, &s->bodylen, body, blen,
		    B64_NOPAD) != 0) {
			err_set(e, EXIT_DATA, "malformed header: stanza body "
			    "is not canonical base64");
			goto fail;
		}
		free(body);
		body = NULL;
	}
fail:
	free(body);
	return -1;
}

/* Decode a canonical base64 argument of exactly n bytes. */
static int
arg_bytes(const char *a, unsigned char *out, size_t n)
{
	unsigned char tmp[64];
	size_t len = strlen(a), got;

	if (len != b64_enclen(n, B64_NOPAD) || n > sizeof(tmp) ||
	    b64_decode(tmp, &got, a, len, B64_NOPAD) != 0 || got != n)
		return -1;
	memcpy(out, tmp, n);
	return 0;
}

/* Work factor: ^[1-9][0-9]*$, at most SCRYPT_CAP. */
static int
work_factor(const char *a, int *log2n, struct err *e)
{
	size_t i, n = strlen(a);
	int v = 0;

	if (n == 0 || n > 2 || a[0] < '1' || a[0] > '9')
		return err_set(e, EXIT_DATA, "malformed scrypt stanza: bad "
		    "work factor");
	for (i = 0; i < n; i++) {
		if (a[i] < '0' || a[i] > '9')
			return err_set(e, EXIT_DATA, "malformed scrypt stanza: "
			    "bad work factor");
		v = v * 10 + (a[i] - '0');
	}
	if (v > SCRYPT_CAP)
		return err_set(e, EXIT_DATA, "scrypt work factor %d too large "
		    "(max %d)", v, SCRYPT_CAP);
	*log2n = v;
	return 0;
}

/* Check the stanzas ti understands before using any of them. */
static int
header_check(const struct header *h, struct err *e)
{
	unsigned char buf[32];
	size_t i;
	int log2n;

	for (i = 0; i < h->n; i++) {
		const struct stanza *s = &h->v[i];
		if (strcmp(s->args[0], "X25519") == 0) {
			if (s->argc != 2 ||
			    arg_bytes(s->args[1], buf, 32) != 0 ||
			    s->bodylen != 32)
				return err_set(e, EXIT_DATA, "malformed X25519 "
				    "stanza");
		} else if (strcmp(s->args[0], "scrypt") == 0) {
			if (h->n != 1)
				return err_set(e, EXIT_DATA, "an scrypt stanza "
				    "must be the only stanza");
			if (s->argc != 3 || arg_bytes(s->args[1], buf, 16) != 0)
				return err_set(e, EXIT_DATA, "malformed scrypt "
				    "stanza");
			if (work_factor(s->args[2], &log2n, e) != 0)
				return -1;
			if (s->bodylen != 32)
				return err_set(e, EXIT_DATA, "malformed scrypt "
				    "stanza");
		}
	}
	return 0;
}

/* Find the file key in a stanza with one of k's identities. */
static int
header_unwrap(const struct header *h, const struct age_keys *k,
    struct secrets *sc, struct err *e)
{
	unsigned char share[32], salt[64];
	size_t i, j;
	int log2n, have = 0;

	for (j = 0; j < k->n; j++)
		if (k->v[j].type != K_RECIPIENT)
			have = 1;
	if (!have)
		return err_set(e, EXIT_USAGE, "no identities to open with");
	for (i = 0; i < h->n; i++) {
		const struct stanza *s = &h->v[i];
		int isx = strcmp(s->args[0], "X25519") == 0;
		int iss = strcmp(s->args[0], "scrypt") == 0;
		if (!isx && !iss)
			continue;
		for (j = 0; j < k->n; j++) {
			const struct age_key *a = &k->v[j];
			if (isx && a->type == K_IDENTITY) {
				arg_bytes(s->args[1], share, 32);
				if (x25519(a->priv, share, sc->shared) != 0)
					return err_set(e, EXIT_DATA, "X25519 "
					    "stanza: low-order share");
				memcpy(salt, share, 32);
				memcpy(salt + 32, a->pub, 32);
				if (hkdf(sc->shared, 32, salt, 64, X25519_INFO,
				    sc->wrap) != 0)
					return err_set(e, EXIT_IO, "HKDF "
					    "failed");
			} else if (iss && a->type == K_PASSPHRASE) {
				arg_bytes(s->args[1], salt, 16);
				work_factor(s->args[2], &log2n, e);
				if (scrypt(a->pass, a->passlen, salt, log2n,
				    sc->wrap) != 0)
					return err_set(e, EXIT_IO, "scrypt "
					    "failed (out of memory?)");
			} else
				continue;
			if (unwrap_key(sc->wrap, s->body, sc->filekey) == 0)
				return 0;
		}
	}
	return err_set(e, EXIT_NO, "no identity matched");
}

/* Output sinks: a FILE or a growing buffer, optionally armored. */

struct sink {
	FILE *fp;
	unsigned char *mem;
	size_t memlen, memcap;
	int armor;
	unsigned char pend[48];
	size_t npend;
};

static int
sink_raw(struct sink *s, const void *p, size_t n, struct err *e)
{
	if (n == 0)
		return 0;
	if (s->fp != NULL) {
		if (fwrite(p, 1, n, s->fp) != n)
			return err_errno(e, EXIT_IO, "error writing output");
		return 0;
	}
	if (s->memlen + n > s->memcap) {
		size_t ncap = s->memcap ? s->memcap : 4096;
		unsigned char *nm;
		while (ncap < s->memlen + n)
			ncap *= 2;
		if ((nm = malloc(ncap)) == NULL)
			return err_errno(e, EXIT_IO, "out of memory");
		/* Not realloc: the old buffer may hold plaintext to wipe. */
		if (s->memlen > 0)
			memcpy(nm, s->mem, s->memlen);
		wipe(s->mem, s->memcap);
		free(s->mem);
		s->mem = nm;
		s->memcap = ncap;
	}
	memcpy(s->mem + s->memlen, p, n);
	s->memlen += n;
	return 0;
}

static int
sink_write(struct sink *s, const unsigned char *p, size_t n, struct err *e)
{
	char text[65 * 64 + 1];
	size_t t = 0, k;

	if (!s->armor)
		return sink_raw(s, p, n, e);
	while (n > 0) {
		k = sizeof(s->pend) - s->npend;
		if (k > n)
			k = n;
		memcpy(s->pend + s->npend, p, k);
		s->npend += k;
		p += k;
		n -= k;
		if (s->npend < sizeof(s->pend))
			break;
		b64_encode(text + t, s->pend, 48, B64_STD);
		t += 64;
		text[t++] = '\n';
		s->npend = 0;
		if (t + 65 > sizeof(text) - 1) {
			if (sink_raw(s, text, t, e) != 0)
				return -1;
			t = 0;
		}
	}
	return sink_raw(s, text, t, e);
}

static int
sink_begin(struct sink *s, struct err *e)
{
	if (s->armor)
		return sink_raw(s, ARMOR_BEGIN "\n", sizeof(ARMOR_BEGIN), e);
	return 0;
}

static int
sink_end(struct sink *s, struct err *e)
{
	char text[72];
	size_t t = 0;

	if (!s->armor)
		return 0;
	if (s->npend > 0) {
		b64_encode(text, s->pend, s->npend, B64_STD);
		t = strlen(text);
		text[t++] = '\n';
		s->npend = 0;
	}
	if (sink_raw(s, text, t, e) != 0)
		return -1;
	return sink_raw(s, ARMOR_END "\n", sizeof(ARMOR_END), e);
}

/* Sealing. */

/* Append a stanza with args and a 32-byte body to the header text. */
static int
put_stanza(struct sink *hdr, const char *args, const unsigned char body[32],
    struct err *e)
{
	char b[48];

	b64_encode(b, body, 32, B64_NOPAD);
	if (sink_raw(hdr, "-> ", 3, e) != 0 ||
	    sink_raw(hdr, args, strlen(args), e) != 0 ||
	    sink_raw(hdr, "\n", 1, e) != 0 ||
	    sink_raw(hdr, b, strlen(b), e) != 0 ||
	    sink_raw(hdr, "\n", 1, e) != 0)
		return -1;
	return 0;
}

static int
header_write(const struct age_keys *k, struct secrets *sc, struct sink *hdr,
    struct err *e)
{
	unsigned char body[32], salt[64];
	char args[160], b[64];
	size_t i, npass = 0;

	for (i = 0; i < k->n; i++)
		if (k->v[i].type == K_PASSPHRASE)
			npass++;
	if (k->n == 0)
		return err_set(e, EXIT_USAGE, "no recipients");
	if (npass > 0 && k->n > 1)
		return err_set(e, EXIT_USAGE, "a passphrase must be the only "
		    "recipient");
	if (RAND_bytes(sc->filekey, 16) != 1)
		return err_set(e, EXIT_IO, "random number generator failed");
	if (sink_raw(hdr, V1_LINE "\n", sizeof(V1_LINE), e) != 0)
		return -1;
	for (i = 0; i < k->n; i++) {
		const struct age_key *a = &k->v[i];
		if (a->type == K_PASSPHRASE) {
			if (RAND_bytes(salt, 16) != 1)
				return err_set(e, EXIT_IO, "random number "
				    "generator failed");
			if (scrypt(a->pass, a->passlen, salt, a->log2n,
			    sc->wrap) != 0)
				return err_set(e, EXIT_IO, "scrypt failed (out "
				    "of memory?)");
			b64_encode(b, salt, 16, B64_NOPAD);
			snprintf(args, sizeof(args), "scrypt %s %d", b,
			    a->log2n);
		} else {
			unsigned char share[32];
			if (age_x25519_keygen(sc->eph, share) != 0 ||
			    x25519(sc->eph, a->pub, sc->shared) != 0)
				return err_set(e, EXIT_DATA, "X25519 failed: "
				    "bad recipient key");
			memcpy(salt, share, 32);
			memcpy(salt + 32, a->pub, 32);
			if (hkdf(sc->shared, 32, salt, 64, X25519_INFO,
			    sc->wrap) != 0)
				return err_set(e, EXIT_IO, "HKDF failed");
			b64_encode(b, share, 32, B64_NOPAD);
			snprintf(args, sizeof(args), "X25519 %s", b);
		}
		if (wrap_key(sc->wrap, sc->filekey, body) != 0)
			return err_set(e, EXIT_IO, "ChaCha20-Poly1305 failed");
		if (put_stanza(hdr, args, body, e) != 0)
			return -1;
	}
	if (sink_raw(hdr, "---", 3, e) != 0)
		return -1;
	if (hkdf(sc->filekey, 16, NULL, 0, "header", sc->hmackey) != 0 ||
	    HMAC(EVP_sha256(), sc->hmackey, 32, hdr->mem, hdr->memlen, sc->mac,
	    NULL) == NULL)
		return err_set(e, EXIT_IO, "HMAC failed");
	b[0] = ' ';
	b64_encode(b + 1, sc->mac, 32, B64_NOPAD);
	if (sink_raw(hdr, b, strlen(b), e) != 0 || sink_raw(hdr, "\n", 1, e))
		return -1;
	return 0;
}

/*
 * Batches of input for the payload loops. A region is a run of whole
 * chunks followed by more input (more = 1), or the rest of the input
 * (more = 0), whose last chunk is the final one. Files are read ahead by
 * a thread (struct pump) so that reading overlaps the cipher; memory and
 * armored input use one byte of lookahead instead.
 */
#define NSLOT 4

struct pump {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	FILE *fp;
	size_t cap, pre;
	unsigned char *buf[NSLOT];
	size_t len[NSLOT];
	int full[NSLOT];
	int err, quit, eof;
};

struct feed {
	struct in *in;		/* lookahead mode: through bin_read, */
	struct src *src;	/* or straight from src */
	unsigned char *ib;
	size_t cap, have, off;
	struct pump *pump;	/* read-ahead mode */
	size_t cur;
	int started, running;
};

static void *
pump_main(void *arg)
{
	struct pump *p = arg;
	size_t i, s, n, got;
	int err;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (i = 0;; i++) {
		s = i % NSLOT;
		pthread_mutex_lock(&p->mu);
		while (p->full[s] && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pthread_mutex_unlock(&p->mu);
		n = i == 0 ? p->pre : 0;
		got = err = 0;
		if (!p->eof) {
			/* Cancellation may only interrupt a blocked read. */
			pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
			got = fread(p->buf[s] + n, 1, p->cap - n, p->fp);
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
			if (got < p->cap - n && ferror(p->fp))
				err = errno ? errno : EIO;
		}
		pthread_mutex_lock(&p->mu);
		p->len[s] = n + got;
		p->full[s] = 1;
		p->err = err;
		if (p->len[s] < p->cap)
			p->eof = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (p->eof || err)
			break;
	}
	return NULL;
}

/* Wait for slot i; its length, or -1 on a read error. */
static ssize_t
pump_get(struct pump *p, size_t i, struct err *e)
{
	size_t s = i % NSLOT, n;
	int err;

	pthread_mutex_lock(&p->mu);
	while (!p->full[s])
		pthread_cond_wait(&p->cv, &p->mu);
	n = p->len[s];
	err = p->err;
	pthread_mutex_unlock(&p->mu);
	if (err) {
		errno = err;
		return err_errno(e, EXIT_IO, "error reading input");
	}
	return (ssize_t)n;
}

static void
pump_put(struct pump *p, size_t i)
{
	pthread_mutex_lock(&p->mu);
	p->full[i % NSLOT] = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/*
 * Set up f to read regions of whole units (chunks) from src, or from in
 * when in != NULL; pre bytes (from in's lookahead) start the input.
 */
static void feed_fini(struct feed *);

static int
feed_init(struct feed *f, struct src *src, struct in *in, size_t unit,
    int ahead, const unsigned char *pre, size_t npre, struct err *e)
{
	struct pump *p;
	int j;

	memset(f, 0, sizeof(*f));
	f->cap = BATCH * unit;
	if (!ahead || src->fp == NULL || (in != NULL && in->armored)) {
lookahead:
		f->in = in;
		f->src = src;
		f->cap = BATCH * unit + 1;
		if ((f->ib = malloc(f->cap)) == NULL)
			return err_errno(e, EXIT_IO, "out of memory");
		return 0;
	}
	if ((p = f->pump = calloc(1, sizeof(*p))) == NULL)
		return err_errno(e, EXIT_IO, "out of memory");
	p->fp = src->fp;
	p->cap = f->cap;
	p->eof = src->eof;
	for (j = 0; j < NSLOT; j++)
		if ((p->buf[j] = malloc(p->cap)) == NULL)
			return err_errno(e, EXIT_IO, "out of memory");
	if (npre > 0)
		memcpy(p->buf[0], pre, npre);
	p->pre = npre;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->th, NULL, pump_main, p) != 0) {
		/* No threads (a confined process): read in this one. */
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		feed_fini(f);
		memset(f, 0, sizeof(*f));
		goto lookahead;
	}
	f->running = 1;
	return 0;
}

static void
feed_fini(struct feed *f)
{
	struct pump *p = f->pump;
	int j;

	if (f->ib != NULL)
		wipe(f->ib, f->cap);
	free(f->ib);
	if (p == NULL)
		return;
	if (f->running) {
		pthread_mutex_lock(&p->mu);
		p->quit = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_cancel(p->th);
		pthread_join(p->th, NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
	for (j = 0; j < NSLOT; j++) {
		if (p->buf[j] != NULL)
			wipe(p->buf[j], p->cap);
		free(p->buf[j]);
	}
	free(p);
}

/* The next region: *d, *n bytes; *more if input follows. 0, or -1. */
static int
feed_next(struct feed *f, unsigned char **d, size_t *n, int *more,
    struct err *e)
{
	ssize_t r, r2;

	if (f->pump == NULL) {
		memmove(f->ib, f->ib + f->off, f->have - f->off);
		f->have -= f->off;
		if (f->in != NULL)
			r = bin_read(f->in, f->ib + f->have,
			    f->cap - f->have, e);
		else
			r = src_read(f->src, f->ib + f->have, f->cap - f->have,
			    e);
		if (r < 0)
			return -1;
		f->have += (size_t)r;
		*d = f->ib;
		*more = f->have == f->cap;
		*n = f->off = *more ? f->cap - 1 : f->have;
		return 0;
	}
	if (f->started)
		pump_put(f->pump, f->cur++);
	f->started = 1;
	if ((r = pump_get(f->pump, f->cur, e)) < 0)
		return -1;
	*d = f->pump->buf[f->cur % NSLOT];
	*n = (size_t)r;
	*more = 0;
	if ((size_t)r == f->cap) {
		if ((r2 = pump_get(f->pump, f->cur + 1, e)) < 0)
			return -1;
		*more = r2 > 0;
	}
	return 0;
}

static int
seal(struct src *in, struct sink *out, const struct age_keys *k, int ahead,
    struct err *e)
{
	struct secrets sc;
	struct sink hdr;
	struct feed f;
	unsigned char nonce[16], *ob = NULL, *d;
	EVP_CIPHER_CTX *c = NULL;
	uint64_t ci = 0;
	size_t n, off, on;
	int more, rc = -1;

	memset(&sc, 0, sizeof(sc));
	memset(&hdr, 0, sizeof(hdr));
	memset(&f, 0, sizeof(f));
	if (header_write(k, &sc, &hdr, e) != 0)
		goto out;
	if (RAND_bytes(nonce, 16) != 1) {
		err_set(e, EXIT_IO, "random number generator failed");
		goto out;
	}
	if (hkdf(sc.filekey, 16, nonce, 16, "payload", sc.paykey) != 0 ||
	    (c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, sc.paykey,
	    NULL) != 1) {
		err_set(e, EXIT_IO, "cipher setup failed");
		goto out;
	}
	if ((ob = malloc(BATCH * ENC)) == NULL) {
		err_errno(e, EXIT_IO, "out of memory");
		goto out;
	}
	if (sink_begin(out, e) != 0 ||
	    sink_write(out, hdr.mem, hdr.memlen, e) != 0 ||
	    sink_write(out, nonce, 16, e) != 0 ||
	    feed_init(&f, in, NULL, CHUNK, ahead, NULL, 0, e) != 0)
		goto out;
	do {
		if (feed_next(&f, &d, &n, &more, e) != 0)
			goto out;
		for (off = on = 0; more ? off < n : n - off > CHUNK;
		    off += CHUNK, on += ENC)
			if (chunk_seal(c, ci++, 0, d + off, CHUNK,
			    ob + on) != 0)
				goto cipherr;
		if (!more) {
			if (chunk_seal(c, ci, 1, d + off, n - off,
			    ob + on) != 0)
				goto cipherr;
			on += n - off + TAGLEN;
		}
		if (sink_write(out, ob, on, e) != 0)
			goto out;
	} while (more);
	if (sink_end(out, e) != 0)
		goto out;
	rc = 0;
	goto out;
cipherr:
	err_set(e, EXIT_IO, "ChaCha20-Poly1305 failed");
out:
	feed_fini(&f);
	EVP_CIPHER_CTX_free(c);
	free(ob);
	free(hdr.mem);
	wipe(&sc, sizeof(sc));
	return rc;
}

/* Opening. */

/* Open one region into ob (*on bytes); -1 with what authenticated in *on. */
static int
open_region(EVP_CIPHER_CTX *c, uint64_t *ci, const unsigned char *d,
    size_t n, int more, unsigned char *ob, size_t *on, struct err *e)
{
	size_t off;

	*on = 0;
	/* Chunks followed by more data are not the final one. */
	for (off = 0; more ? off < n : n - off > ENC; off += ENC) {
		if (chunk_open(c, *ci, 0, d + off, ENC, ob + *on) != 0) {
			if (chunk_open(c, *ci, 1, d + off, ENC, ob + *on) == 0)
				return err_set(e, EXIT_DATA, "trailing data "
				    "after the end of the encrypted file");
			return err_set(e, EXIT_DATA, "chunk %llu does not "
			    "authenticate (tampered or corrupt)",
			    (unsigned long long)*ci);
		}
		(*ci)++;
		*on += CHUNK;
	}
	if (more)
		return 0;
	n -= off;
	if (n == 0 && *ci == 0)
		return err_set(e, EXIT_DATA, "truncated: no payload");
	if (n < TAGLEN)
		return err_set(e, EXIT_DATA, "truncated: short final chunk");
	if (chunk_open(c, *ci, 1, d + off, n, ob + *on) != 0) {
		if (n == ENC && chunk_open(c, *ci, 0, d + off, n,
		    ob + *on) == 0) {
			/* A whole chunk, then the end: truncated. */
			*on += CHUNK;
			return err_set(e, EXIT_DATA, "truncated: the final "
			    "chunk is missing");
		}
		return err_set(e, EXIT_DATA, "chunk %llu does not "
		    "authenticate (tampered, truncated or corrupt)",
		    (unsigned long long)*ci);
	}
	if (n == TAGLEN && *ci > 0)
		return err_set(e, EXIT_DATA, "the final chunk is empty");
	*on += n - TAGLEN;
	return 0;
}

static int
payload_open(struct in *in, struct sink *out, const unsigned char key[32],
    int ahead, struct err *e)
{
	struct feed f;
	unsigned char *ob = NULL, *d;
	EVP_CIPHER_CTX *c = NULL;
	size_t n, on;
	uint64_t ci = 0;
	int more, rc = -1;

	memset(&f, 0, sizeof(f));
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key,
	    NULL) != 1) {
		err_set(e, EXIT_IO, "cipher setup failed");
		goto out;
	}
	if ((ob = malloc(BATCH * CHUNK)) == NULL) {
		err_errno(e, EXIT_IO, "out of memory");
		goto out;
	}
	/* Unarmored, the lookahead bytes start the payload. */
	if (feed_init(&f, &in->src, in, ENC, ahead, in->raw + in->rpos,
	    in->armored ? 0 : in->rlen - in->rpos, e) != 0)
		goto out;
	if (f.pump != NULL)
		in->rpos = in->rlen;
	do {
		if (feed_next(&f, &d, &n, &more, e) != 0)
			goto out;
		if (open_region(c, &ci, d, n, more, ob, &on, e) != 0) {
			/* What authenticated is released, nothing more. */
			sink_write(out, ob, on, NULL);
			goto out;
		}
		if (sink_write(out, ob, on, e) != 0)
			goto out;
	} while (more);
	rc = 0;
out:
	feed_fini(&f);
	EVP_CIPHER_CTX_free(c);
	if (ob != NULL)
		wipe(ob, BATCH * CHUNK);
	free(ob);
	return rc;
}

static int
open_age(struct in *in, struct sink *out, const struct age_keys *k, int ahead,
    struct err *e)
{
	struct header h;
	struct secrets sc;
	unsigned char nonce[16];
	ssize_t r;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	memset(&sc, 0, sizeof(sc));
	if (in_start(in, e) != 0 || header_read(in, &h, e) != 0 ||
	    header_check(&h, e) != 0 || header_unwrap(&h, k, &sc, e) != 0)
		goto out;
	if (hkdf(sc.filekey, 16, NULL, 0, "header", sc.hmackey) != 0 ||
	    HMAC(EVP_sha256(), sc.hmackey, 32, (unsigned char *)h.raw,
	    h.maclen, sc.mac, NULL) == NULL) {
		err_set(e, EXIT_IO, "HMAC failed");
		goto out;
	}
	if (CRYPTO_memcmp(sc.mac, h.mac, 32) != 0) {
		err_set(e, EXIT_DATA, "header MAC mismatch (tampered or "
		    "corrupt header)");
		goto out;
	}
	if ((r = bin_read(in, nonce, 16, e)) < 0)
		goto out;
	if (r < 16) {
		err_set(e, EXIT_DATA, "truncated: payload nonce missing");
		goto out;
	}
	if (hkdf(sc.filekey, 16, nonce, 16, "payload", sc.paykey) != 0) {
		err_set(e, EXIT_IO, "HKDF failed");
		goto out;
	}
	rc = payload_open(in, out, sc.paykey, ahead, e);
out:
	header_free(&h);
	wipe(&sc, sizeof(sc));
	return rc;
}

/* Public entry points. */

int
age_seal_ex(FILE *in, FILE *out, const struct age_keys *k, int armor,
    int flags, struct err *e)
{
	struct src s;
	struct sink o;

	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	s.fp = in;
	o.fp = out;
	o.armor = armor;
	return seal(&s, &o, k, (flags & AGE_READAHEAD) != 0, e);
}

int
age_seal(FILE *in, FILE *out, const struct age_keys *k, int armor,
    struct err *e)
{
	return age_seal_ex(in, out, k, armor, 0, e);
}

int
age_open_ex(FILE *in, FILE *out, const struct age_keys *k, int flags,
    struct err *e)
{
	struct in *i;
	struct sink o;
	int rc;

	if ((i = calloc(1, sizeof(*i))) == NULL)
		return err_errno(e, EXIT_IO, "out of memory");
	memset(&o, 0, sizeof(o));
	i->src.fp = in;
	o.fp = out;
	rc = open_age(i, &o, k, (flags & AGE_READAHEAD) != 0, e);
	free(i);
	return rc;
}

int
age_open(FILE *in, FILE *out, const struct age_keys *k, struct err *e)
{
	return age_open_ex(in, out, k, 0, e);
}

int
age_seal_mem(const void *in, size_t n, const struct age_keys *k, int armor,
    unsigned char **out, size_t *outlen, struct err *e)
{
	struct src s;
	struct sink o;

	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	s.mem = in;
	s.memlen = n;
	o.armor = armor;
	if (seal(&s, &o, k, 0, e) != 0) {
		free(o.mem);
		return -1;
	}
	if (o.mem == NULL && (o.mem = malloc(1)) == NULL)
		return err_errno(e, EXIT_IO, "out of memory");
	*out = o.mem;
	*outlen = o.memlen;
	return 0;
}

int
age_open_mem(const void *in, size_t n, const struct age_keys *k,
    unsigned char **out, size_t *outlen, struct err *e)
{
	struct in *i;
	struct sink o;
	int rc;

	if ((i = calloc(1, sizeof(*i))) == NULL)
		return err_errno(e, EXIT_IO, "out of memory");
	memset(&o, 0, sizeof(o));
	i->src.mem = in;
	i->src.memlen = n;
	rc = open_age(i, &o, k, 0, e);
	free(i);
	if (rc != 0) {
		wipe(o.mem, o.memcap);
		free(o.mem);
		return -1;
	}
	if (o.mem == NULL && (o.mem = malloc(1)) == NULL)
		return err_errno(e, EXIT_IO, "out of memory");
	*out = o.mem;
	*outlen = o.memlen;
	return 0;
}
