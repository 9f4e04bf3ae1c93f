/*
 * The age format against every C2SP CCTV vector (used in place), plus
 * round trips through the memory interface at the chunk boundaries.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "age.h"
#include "exitcode.h"
#include "io.h"
#include "tap.h"

struct vec {
	char expect[32];
	char payload[65];
	int armored, compressed, pq, unknown;
	struct age_keys *keys;
	unsigned char *body;
	size_t bodylen;
	char filekey[33];
	unsigned char *out;	/* plaintext age_open released */
	size_t outlen;
};

static void
hex(char *out, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static int
inflate_all(const unsigned char *in, size_t n, unsigned char **out,
    size_t *outlen)
{
	z_stream z;
	size_t cap = 1 << 16, len = 0;
	unsigned char *b = malloc(cap);
	int rc;

	memset(&z, 0, sizeof(z));
	if (b == NULL || inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	do {
		if (len == cap) {
			cap *= 2;
			b = realloc(b, cap);
		}
		z.next_out = b + len;
		z.avail_out = (uInt)(cap - len);
		rc = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(b);
		return -1;
	}
	*out = b;
	*outlen = len;
	return 0;
}

/* Parse a vector file; 0, or -1 if it cannot be read. */
static int
vec_load(const char *path, struct vec *v)
{
	unsigned char *buf, *p, *end;
	size_t len;
	struct err e;

	memset(v, 0, sizeof(*v));
	if (io_slurp(path, 64 << 20, &buf, &len, &e) != 0)
		return -1;
	v->keys = age_keys_new();
	p = buf;
	end = buf + len;
	for (;;) {
		unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line, *val;
		if (nl == NULL)
			goto fail;
		*nl = '\0';
		line = (char *)p;
		p = nl + 1;
		if (*line == '\0')
			break;
		if ((val = strstr(line, ": ")) == NULL)
			goto fail;
		*val = '\0';
		val += 2;
		if (strcmp(line, "expect") == 0)
			snprintf(v->expect, sizeof(v->expect), "%s", val);
		else if (strcmp(line, "payload") == 0)
			snprintf(v->payload, sizeof(v->payload), "%s", val);
		else if (strcmp(line, "identity") == 0) {
			if (strncmp(val, "AGE-SECRET-KEY-PQ-", 18) == 0)
				v->pq = 1;
			else if (age_add_identity(v->keys, val, &e) != 0)
				goto fail;
		} else if (strcmp(line, "passphrase") == 0) {
			if (age_add_passphrase(v->keys, val, 0, &e) != 0)
				goto fail;
		} else if (strcmp(line, "armored") == 0)
			v->armored = 1;
		else if (strcmp(line, "compressed") == 0)
			v->compressed = 1;
		else if (strcmp(line, "file key") == 0)
			snprintf(v->filekey, sizeof(v->filekey), "%s", val);
		else if (strcmp(line, "comment") != 0)
			v->unknown = 1;
	}
	if (v->compressed) {
		if (inflate_all(p, (size_t)(end - p), &v->body,
		    &v->bodylen) != 0)
			goto fail;
	} else {
		v->bodylen = (size_t)(end - p);
		if ((v->body = malloc(v->bodylen + 1)) == NULL)
			goto fail;
		memcpy(v->body, p, v->bodylen);
	}
	free(buf);
	return 0;
fail:
	free(buf);
	age_keys_free(v->keys);
	return -1;
}

/* Open a vector's file; the plaintext released goes to *out. */
static int
vec_open(struct vec *v, int flags, char *outhex, size_t *outlen,
    struct err *e)
{
	FILE *in, *out;
	char *ob = NULL;
	size_t on = 0;
	unsigned char md[32];
	int rc;

	if (v->bodylen == 0)
		in = fopen("/dev/null", "r");
	else
		in = fmemopen(v->body, v->bodylen, "r");
	out = open_memstream(&ob, &on);
	if (in == NULL || out == NULL)
		return -2;
	rc = age_open_ex(in, out, v->keys, flags, e);
	fclose(in);
	fclose(out);
	EVP_Digest(ob, on, md, NULL, EVP_sha256(), NULL);
	hex(outhex, md, 32);
	*outlen = on;
	v->out = (unsigned char *)ob;
	v->outlen = on;
	return rc;
}


/*
 * What age's reference reader releases, from the vector's file key: each
 * chunk that authenticates, including a final chunk followed by trailing
 * data (which ti withholds). Returns the plaintext length, or -1.
 */
static long
reference(struct vec *v, unsigned char *out, size_t cap, size_t *lastlen)
{
	unsigned char fk[16], key[32], iv[12], *bin, *p, *end;
	size_t binlen, n = 0;
	uint64_t ci = 0;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	OSSL_PARAM prm[5];
	int i;

	for (i = 0; i < 16; i++)
		sscanf(v->filekey + 2 * i, "%2hhx", &fk[i]);
	bin = v->body;
	binlen = v->bodylen;
	if (v->armored) {
		/* Strip the PEM lines and newlines, then decode. */
		char *t = malloc(v->bodylen + 1), *q = (char *)v->body, *qe;
		size_t tn = 0;
		qe = q + v->bodylen;
		q = strchr(q, '\n') + 1;
		while (q < qe && *q != '-') {
			if (*q != '\n' && *q != '\r')
				t[tn++] = *q;
			q++;
		}
		bin = malloc(tn);
		binlen = (size_t)EVP_DecodeBlock(bin, (unsigned char *)t,
		    (int)tn);
		while (tn > 0 && t[tn - 1] == '=') {
			binlen--;
			tn--;
		}
		free(t);
	}
	p = memmem(bin, binlen, "\n--- ", 5);
	p = memchr(p + 1, '\n', binlen - (size_t)(p + 1 - bin));
	p++;
	end = bin + binlen;
	prm[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
	prm[1] = OSSL_PARAM_construct_octet_string("key", fk, 16);
	prm[2] = OSSL_PARAM_construct_octet_string("salt", p, 16);
	prm[3] = OSSL_PARAM_construct_octet_string("info", "payload", 7);
	prm[4] = OSSL_PARAM_construct_end();
	EVP_KDF_derive(kc, key, 32, prm);
	p += 16;
	*lastlen = 0;
	while (p < end) {
		size_t m = (size_t)(end - p);
		if (m > 65552)
			m = 65552;
		int last, l, okc = 0;
		for (last = 0; last < 2 && !okc; last++) {
			memset(iv, 0, 12);
			for (i = 10; i >= 3; i--)
				iv[i] = (unsigned char)(ci >> (8 * (10 - i)));
			iv[11] = (unsigned char)last;
			okc = m >= 16 && n + m <= cap &&
			    EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL,
			    key, iv) == 1 &&
			    EVP_DecryptUpdate(c, out + n, &l, p, (int)m - 16) &&
			    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16,
			    p + m - 16) == 1 &&
			    EVP_DecryptFinal_ex(c, out + n, &l) == 1;
		}
		if (!okc)
			break;
		n += m - 16;
		*lastlen = m - 16;
		p += m;
		ci++;
		if (last == 2)
			break;
	}
	if (bin != v->body)
		free(bin);
	EVP_CIPHER_CTX_free(c);
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	return (long)n;
}

/*
 * A payload failure releases what the vector says, or, where ti is
 * stricter than age (trailing data after the final chunk), that minus
 * the final chunk.
 */
static int
payload_ok(struct vec *v, const char *got)
{
	unsigned char *ref, md[32];
	char h[65];
	size_t lastlen;
	long n;
	int r;

	if (strcmp(got, v->payload) == 0)
		return 1;
	if ((ref = malloc(64 << 20)) == NULL)
		return 0;
	n = reference(v, ref, 64 << 20, &lastlen);
	EVP_Digest(ref, (size_t)n, md, NULL, EVP_sha256(), NULL);
	hex(h, md, 32);
	r = n >= 0 && strcmp(h, v->payload) == 0 &&
	    v->outlen + lastlen == (size_t)n &&
	    memcmp(ref, v->out, v->outlen) == 0;
	free(ref);
	return r;
}

static void
run_vectors(void)
{
	char dir[2048], path[4400], got[65];
	struct dirent **names;
	int i, n, counts[4] = { 0, 0, 0, 0 };

	snprintf(dir, sizeof(dir), "%s/vectors/age/testdata", shared_dir());
	n = scandir(dir, &names, NULL, alphasort);
	ok(n > 100, "CCTV age vectors found in %s (%d)", dir, n);
	for (i = 0; i < n; i++) {
		struct vec v;
		struct err e;
		size_t outlen = 0;
		int rc;
		const char *name = names[i]->d_name;

		if (name[0] == '.') {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (vec_load(path, &v) != 0) {
			ok(0, "%s: vector loads", name);
			free(names[i]);
			continue;
		}
		memset(&e, 0, sizeof(e));
		rc = vec_open(&v, 0, got, &outlen, &e);
		{
			/* The read-ahead thread must change nothing. */
			struct err e2;
			char got2[65];
			size_t outlen2;
			unsigned char *out1 = v.out;
			int rc2 = vec_open(&v, AGE_READAHEAD, got2, &outlen2,
			    &e2);
			ok(rc2 == rc && strcmp(got, got2) == 0 &&
			    (rc == 0 || (e.code == e2.code &&
			    strcmp(e.msg, e2.msg) == 0)),
			    "%s: same result with read-ahead", name);
			free(v.out);
			v.out = out1;
		}
		if (v.unknown) {
			ok(1, "%s: unknown keys, ignored # SKIP", name);
		} else if (v.pq) {
			/* mlkem768x25519 needs ML-KEM: not in OpenSSL 3.0. */
			ok(rc == -1 && e.code != 0, "%s: unsupported "
			    "(mlkem768x25519), fails cleanly: %s", name, e.msg);
			counts[3]++;
		} else if (strcmp(v.expect, "success") == 0) {
			ok(rc == 0 && strcmp(got, v.payload) == 0,
			    "%s: success, payload digest matches%s%s", name,
			    rc ? ": " : "", rc ? e.msg : "");
			counts[0]++;
		} else if (strcmp(v.expect, "no match") == 0) {
			ok(rc == -1 && e.code == EXIT_NO && outlen == 0,
			    "%s: no match (%s)", name, e.msg);
			counts[1]++;
		} else if (strcmp(v.expect, "payload failure") == 0) {
			ok(rc == -1 && e.code == EXIT_DATA &&
			    payload_ok(&v, got),
			    "%s: payload failure, released digest matches (%s)",
			    name, e.msg);
			counts[2]++;
		} else {
			ok(rc == -1 && e.code == EXIT_DATA && outlen == 0,
			    "%s: %s (%s)", name, v.expect, e.msg);
			counts[2]++;
		}
		age_keys_free(v.keys);
		free(v.body);
		free(v.out);
		free(names[i]);
	}
	free(names);
	printf("# vectors: %d success, %d no match, %d failures, "
	    "%d unsupported\n", counts[0], counts[1], counts[2], counts[3]);
}

static void
round_trip(size_t n, int armor)
{
	struct age_keys *r = age_keys_new(), *id = age_keys_new();
	unsigned char priv[32], pub[32], *in = malloc(n + 1), *ct, *pt;
	size_t ctlen, ptlen;
	struct err e;
	int rc;

	RAND_bytes(in, (int)n + 1);
	age_x25519_keygen(priv, pub);
	age_add_x25519_recipient(r, pub, &e);
	age_add_x25519_identity(id, priv, &e);
	rc = age_seal_mem(in, n, r, armor, &ct, &ctlen, &e);
	ok(rc == 0, "seal %zu bytes%s", n, armor ? " armored" : "");
	if (rc != 0)
		goto out;
	rc = age_open_mem(ct, ctlen, id, &pt, &ptlen, &e);
	ok(rc == 0 && ptlen == n && memcmp(pt, in, n) == 0,
	    "open %zu bytes%s", n, armor ? " armored" : "");
	if (rc == 0)
		free(pt);
	/* Flip one byte of the last chunk's tag: nothing must open. */
	if (!armor) {
		ct[ctlen - 1] ^= 1;
		rc = age_open_mem(ct, ctlen, id, &pt, &ptlen, &e);
		ok(rc == -1 && e.code == EXIT_DATA, "tampered %zu bytes: %s",
		    n, e.msg);
		ct[ctlen - 1] ^= 1;
		/* One extra byte after the final chunk. */
		ct = realloc(ct, ctlen + 1);
		ct[ctlen] = 0;
		rc = age_open_mem(ct, ctlen + 1, id, &pt, &ptlen, &e);
		ok(rc == -1 && e.code == EXIT_DATA, "trailing byte after %zu: "
		    "%s", n, e.msg);
		/* Cut the last byte. */
		rc = age_open_mem(ct, ctlen - 1, id, &pt, &ptlen, &e);
		ok(rc == -1 && e.code == EXIT_DATA, "truncated %zu: %s", n,
		    e.msg);
	}
	free(ct);
out:
	free(in);
	age_keys_free(r);
	age_keys_free(id);
}

static void
misc(void)
{
	struct age_keys *k = age_keys_new();
	unsigned char *ct, *pt;
	size_t ctlen, ptlen;
	struct err e;
	char buf[AGE_KEYGEN_LEN], pub[AGE_RECIPIENT_LEN];

	ok(age_add_recipient(k, "age1notarecipient", &e) == -1 &&
	    e.code == EXIT_DATA, "malformed recipient: %s", e.msg);
	ok(age_add_identity(k, "AGE-SECRET-KEY-1XYZ", &e) == -1 &&
	    e.code == EXIT_DATA, "malformed identity: %s", e.msg);
	ok(age_add_passphrase(k, "", 0, &e) == -1, "empty passphrase: %s",
	    e.msg);
	ok(age_add_passphrase(k, "pw", 10, &e) == 0, "passphrase added");
	ok(age_seal_mem("hi", 2, k, 0, &ct, &ctlen, &e) == 0,
	    "seal to a passphrase");
	ok(age_open_mem(ct, ctlen, k, &pt, &ptlen, &e) == 0 && ptlen == 2 &&
	    memcmp(pt, "hi", 2) == 0, "open with the passphrase");
	free(pt);
	free(ct);
	ok(age_keygen_text(buf, sizeof(buf), pub, &e) == 0 &&
	    strncmp(buf, "# created: ", 11) == 0 && strstr(buf, pub) != NULL &&
	    strstr(buf, "\nAGE-SECRET-KEY-1") != NULL, "keygen text");
	ok(age_add_recipient(k, pub, &e) == 0 &&
	    age_seal_mem("x", 1, k, 0, &ct, &ctlen, &e) == -1 &&
	    e.code == EXIT_USAGE, "passphrase with another recipient: %s",
	    e.msg);
	age_keys_free(k);
}

int
main(void)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537,
	    16 * 65536, 16 * 65536 + 1, 17 * 65536, 3 * 1024 * 1024 + 7 };
	size_t i;

	run_vectors();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(sizes[i], 0);
	round_trip(0, 1);
	round_trip(47, 1);
	round_trip(48, 1);
	round_trip(65537, 1);
	misc();
	return tap_done();
}
