/*
 * The primitives of lib/age.c (its static functions, reached by including
 * it) against Wycheproof: X25519 with the all-zero refusal, HKDF-SHA256,
 * and the ChaCha20-Poly1305 calls the STREAM loops make. Used in place.
 */
#include "age.c"

#include <jv.h>

#include "tap.h"

/* Hex string field name of t into a new buffer; *n its length. */
static unsigned char *
unhex(jv t, const char *name, size_t *n)
{
	jv f = jv_object_get(jv_copy(t), jv_string(name));
	const char *s = jv_string_value(f);
	size_t i, len = strlen(s) / 2;
	unsigned char *b = malloc(len + 1);

	for (i = 0; i < len; i++)
		sscanf(s + 2 * i, "%2hhx", &b[i]);
	b[len] = 0;
	*n = len;
	jv_free(f);
	return b;
}

static int
valid(jv t)
{
	jv r = jv_object_get(jv_copy(t), jv_string("result"));
	int v = strcmp(jv_string_value(r), "valid") == 0 ? 1 :
	    strcmp(jv_string_value(r), "invalid") == 0 ? 0 : 2;

	jv_free(r);
	return v;
}

static jv
load(const char *name)
{
	char path[1024];

	jv all;

	snprintf(path, sizeof(path), "%s/vectors/wycheproof/%s", shared_dir(),
	    name);
	/* jq reads a file as the array of the JSON texts in it. */
	all = jv_load_file(path, 0);
	if (jv_get_kind(all) != JV_KIND_ARRAY)
		return all;
	return jv_array_get(all, 0);
}

/* Call fn on every test of every group. */
static void
each(jv d, void (*fn)(jv group, jv test, int *bad, int *n), const char *what)
{
	jv groups;
	int i, j, bad = 0, n = 0;

	if (jv_get_kind(d) != JV_KIND_OBJECT) {
		ok(0, "wycheproof %s: no tests", what);
		return;
	}
	groups = jv_object_get(jv_copy(d), jv_string("testGroups"));

	for (i = 0; i < jv_array_length(jv_copy(groups)); i++) {
		jv g = jv_array_get(jv_copy(groups), i);
		jv ts = jv_object_get(jv_copy(g), jv_string("tests"));
		for (j = 0; j < jv_array_length(jv_copy(ts)); j++) {
			jv t = jv_array_get(jv_copy(ts), j);
			fn(g, t, &bad, &n);
			jv_free(t);
		}
		jv_free(ts);
		jv_free(g);
	}
	jv_free(groups);
	ok(n > 0 && bad == 0, "wycheproof %s: %d tests, %d wrong", what, n,
	    bad);
}

static void
x25519_one(jv g, jv t, int *bad, int *n)
{
	static const unsigned char zero[32];
	unsigned char *pub, *priv, *want, got[32];
	size_t pl, kl, wl;
	int rc;

	(void)g;
	pub = unhex(t, "public", &pl);
	priv = unhex(t, "private", &kl);
	want = unhex(t, "shared", &wl);
	if (pl == 32 && kl == 32 && wl == 32) {
		rc = x25519(priv, pub, got);
		/* age refuses an all-zero shared secret; all else must match. */
		if (memcmp(want, zero, 32) == 0 ? rc != -1 :
		    rc != 0 || memcmp(got, want, 32) != 0)
			(*bad)++;
		(*n)++;
	}
	free(pub);
	free(priv);
	free(want);
}

static void
hkdf_one(jv g, jv t, int *bad, int *n)
{
	unsigned char *ikm, *salt, *info, *want, got[32];
	size_t il, sl, nl, wl;

	(void)g;
	ikm = unhex(t, "ikm", &il);
	salt = unhex(t, "salt", &sl);
	info = unhex(t, "info", &nl);
	want = unhex(t, "okm", &wl);
	/* age's uses: 32-byte outputs, text info. */
	if (wl == 32 && valid(t) == 1 && strlen((char *)info) == nl) {
		if (hkdf(ikm, il, salt, sl, (char *)info, got) != 0 ||
		    memcmp(got, want, 32) != 0)
			(*bad)++;
		(*n)++;
	}
	free(ikm);
	free(salt);
	free(info);
	free(want);
}

static void
chacha_one(jv g, jv t, int *bad, int *n)
{
	unsigned char *key, *iv, *aad, *msg, *ct, *tag, *buf, *out;
	size_t kl, vl, al, ml, cl, tl;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int v = valid(t), rc;

	(void)g;
	key = unhex(t, "key", &kl);
	iv = unhex(t, "iv", &vl);
	aad = unhex(t, "aad", &al);
	msg = unhex(t, "msg", &ml);
	ct = unhex(t, "ct", &cl);
	tag = unhex(t, "tag", &tl);
	if (kl == 32 && vl == 12 && tl == 16) {
		buf = malloc(cl + 16);
		out = malloc(cl + ml + 16);
		memcpy(buf, ct, cl);
		memcpy(buf + cl, tag, 16);
		EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, NULL);
		rc = aead_open(c, iv, aad, al, buf, cl + 16, out);
		if (v == 1 ? rc != 0 || memcmp(out, msg, ml) != 0 : rc == 0)
			(*bad)++;
		if (v == 1) {
			EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key,
			    NULL);
			if (aead_seal(c, iv, aad, al, msg, ml, out) != 0 ||
			    memcmp(out, buf, cl + 16) != 0)
				(*bad)++;
		}
		(*n)++;
		free(buf);
		free(out);
	}
	EVP_CIPHER_CTX_free(c);
	free(key);
	free(iv);
	free(aad);
	free(msg);
	free(ct);
	free(tag);
}

int
main(void)
{
	jv d;
	unsigned char iv[12];

	stream_nonce(iv, 0x0102030405060708ULL, 1);
	ok(memcmp(iv, "\0\0\0\1\2\3\4\5\6\7\10\1", 12) == 0,
	    "STREAM nonce: 11-byte big-endian counter, then the last flag");
	d = load("x25519_test.json");
	ok(jv_is_valid(jv_copy(d)), "x25519_test.json loads");
	each(d, x25519_one, "x25519");
	jv_free(d);
	d = load("hkdf_sha256_test.json");
	ok(jv_is_valid(jv_copy(d)), "hkdf_sha256_test.json loads");
	each(d, hkdf_one, "hkdf-sha256 (32-byte outputs)");
	jv_free(d);
	d = load("chacha20_poly1305_test.json");
	ok(jv_is_valid(jv_copy(d)), "chacha20_poly1305_test.json loads");
	each(d, chacha_one, "chacha20-poly1305 open and seal");
	jv_free(d);
	return tap_done();
}
