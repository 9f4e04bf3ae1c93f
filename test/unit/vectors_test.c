/*
 * Ed25519 (RFC 8032, Wycheproof, CCTV) through lib/sig.h, and HKDF-SHA256
 * (RFC 5869, Wycheproof) through OpenSSL's EVP_KDF as lib/keys.c calls it.
 * The vector files are read in place from $TI_SHARED/vectors.
 */
#include <stdio.h>
#include <string.h>

#include <jv.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "io.h"
#include "sig.h"
#include "tap.h"

static size_t
unhex(const char *h, unsigned char *out, size_t max)
{
	size_t n = strlen(h) / 2, i;
	unsigned x;

	if (n > max)
		return (size_t)-1;
	for (i = 0; i < n; i++) {
		sscanf(h + 2 * i, "%2x", &x);
		out[i] = (unsigned char)x;
	}
	return n;
}

static int
hkdf(const unsigned char *ikm, size_t il, const unsigned char *salt,
    size_t sl, const unsigned char *info, size_t nl, unsigned char *out,
    size_t ol)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5];
	int rc = -1;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, il);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, sl);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, nl);
	p[4] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_KDF_derive(ctx, out, ol, p) == 1)
		rc = 0;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

static jv
load(const char *name)
{
	char path[1024];
	unsigned char *buf;
	size_t n;
	struct err e;
	jv v;

	snprintf(path, sizeof(path), "%s/vectors/%s", shared_dir(), name);
	if (io_slurp(path, 64 << 20, &buf, &n, &e) != 0) {
		printf("# %s\n", e.msg);
		return jv_invalid();
	}
	v = jv_parse_sized((char *)buf, (int)n);
	free(buf);
	return v;
}

static const char *
str(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));
	const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) :
	    "";

	jv_free(v);	/* o keeps the string alive */
	return s;
}

static void
rfc8032(void)
{
	static const char *const t[][4] = {
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		  "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		  "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
		{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		  "af82",
		  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
	};
	unsigned char sk[32], pk[32], want[32], msg[8], sig[64], wsig[64];
	size_t i, ml;

	for (i = 0; i < 3; i++) {
		unhex(t[i][0], sk, 32);
		unhex(t[i][1], want, 32);
		ml = unhex(t[i][2], msg, sizeof(msg));
		unhex(t[i][3], wsig, 64);
		ok(sig_public(sk, pk) == 0 && memcmp(pk, want, 32) == 0,
		    "RFC 8032 test %zu: public key", i + 1);
		ok(sig_sign(sk, msg, ml, sig) == 0 && memcmp(sig, wsig, 64) == 0,
		    "RFC 8032 test %zu: signature", i + 1);
		ok(sig_verify(pk, msg, ml, sig) == 0,
		    "RFC 8032 test %zu: verifies", i + 1);
		sig[63] ^= 0x40;
		ok(sig_verify(pk, msg, ml, sig) != 0,
		    "RFC 8032 test %zu: altered signature fails", i + 1);
	}
}

static void
wycheproof_ed25519(void)
{
	jv d = load("wycheproof/ed25519_test.json"), groups, g, tests, t;
	unsigned char pk[32], sig[64], *msg;
	int i, j, ng, nt, total = 0, bad = 0;

	ok(jv_get_kind(d) == JV_KIND_OBJECT, "Wycheproof ed25519_test.json");
	if (jv_get_kind(d) != JV_KIND_OBJECT) {
		jv_free(d);
		return;
	}
	groups = jv_object_get(d, jv_string("testGroups"));
	ng = jv_array_length(jv_copy(groups));
	for (i = 0; i < ng; i++) {
		g = jv_array_get(jv_copy(groups), i);
		jv key = jv_object_get(jv_copy(g), jv_string("publicKey"));
		size_t kl = unhex(str(key, "pk"), pk, 32);
		tests = jv_object_get(g, jv_string("tests"));
		nt = jv_array_length(jv_copy(tests));
		for (j = 0; j < nt; j++) {
			t = jv_array_get(jv_copy(tests), j);
			const char *m = str(t, "msg"), *s = str(t, "sig");
			int valid = strcmp(str(t, "result"), "valid") == 0, got;
			size_t ml = strlen(m) / 2, sl;
			msg = malloc(ml + 1);
			unhex(m, msg, ml);
			sl = unhex(s, sig, 64);
			got = kl == 32 && sl == 64 && strlen(s) == 128 &&
			    sig_verify(pk, msg, ml, sig) == 0;
			if (got != valid) {
				bad++;
				jv id = jv_object_get(jv_copy(t), jv_string("tcId"));
				printf("# Wycheproof tcId %d: expected %s\n",
				    (int)jv_number_value(id), valid ? "valid" :
				    "invalid");
				jv_free(id);
			}
			total++;
			free(msg);
			jv_free(t);
		}
		jv_free(tests);
		jv_free(key);
	}
	jv_free(groups);
	ok(total >= 150 && bad == 0, "Wycheproof Ed25519: %d tests, %d wrong",
	    total, bad);
}

static int
has_flag(jv v, const char *f)
{
	jv fl = jv_object_get(jv_copy(v), jv_string("flags"));
	int i, n = jv_get_kind(fl) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(fl)) : 0, r = 0;

	for (i = 0; i < n && !r; i++) {
		jv x = jv_array_get(jv_copy(fl), i);
		r = strcmp(jv_string_value(x), f) == 0;
		jv_free(x);
	}
	jv_free(fl);
	return r;
}

static void
cctv_ed25519(void)
{
	jv d = load("ed25519/cctv_ed25519vectors.json"), v;
	unsigned char pk[32], sig[64];
	int i, n, acc = 0, ncr = 0, res = 0, plain = 0;

	ok(jv_get_kind(d) == JV_KIND_ARRAY, "CCTV cctv_ed25519vectors.json");
	if (jv_get_kind(d) != JV_KIND_ARRAY) {
		jv_free(d);
		return;
	}
	n = jv_array_length(jv_copy(d));
	for (i = 0; i < n; i++) {
		v = jv_array_get(jv_copy(d), i);
		const char *m = str(v, "msg");
		unhex(str(v, "key"), pk, 32);
		unhex(str(v, "sig"), sig, 64);
		int got = sig_verify(pk, m, strlen(m), sig) == 0;
		acc += got;
		/* RFC 8032 requires rejecting a non-canonical R. */
		if (got && has_flag(v, "non_canonical_R"))
			ncr++;
		/* OpenSSL's formula is cofactorless. */
		if (got && has_flag(v, "low_order_residue"))
			res++;
		jv fl = jv_object_get(jv_copy(v), jv_string("flags"));
		if (got && jv_get_kind(fl) == JV_KIND_NULL)
			plain++;
		jv_free(fl);
		jv_free(v);
	}
	jv_free(d);
	ok(n == 914, "CCTV: %d vectors", n);
	ok(ncr == 0, "CCTV: no non-canonical R accepted (%d)", ncr);
	ok(res == 0, "CCTV: no low-order residue accepted (%d)", res);
	ok(plain == 1, "CCTV: the unflagged vector verifies");
	/* The rest varies between OpenSSL versions (3.0 accepts 208). */
	printf("# CCTV: %d of %d accepted\n", acc, n);
}

static void
rfc5869(void)
{
	unsigned char ikm[80], salt[80], info[80], okm[82], want[82];
	size_t i;

	memset(ikm, 0x0b, 22);
	for (i = 0; i < 13; i++)
		salt[i] = (unsigned char)i;
	for (i = 0; i < 10; i++)
		info[i] = (unsigned char)(0xf0 + i);
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865", want, 42);
	ok(hkdf(ikm, 22, salt, 13, info, 10, okm, 42) == 0 &&
	    memcmp(okm, want, 42) == 0, "RFC 5869 test case 1");
	for (i = 0; i < 80; i++) {
		ikm[i] = (unsigned char)i;
		salt[i] = (unsigned char)(0x60 + i);
		info[i] = (unsigned char)(0xb0 + i);
	}
	unhex("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	    "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	    "cc30c58179ec3e87c14c01d5c1f3434f1d87", want, 82);
	ok(hkdf(ikm, 80, salt, 80, info, 80, okm, 82) == 0 &&
	    memcmp(okm, want, 82) == 0, "RFC 5869 test case 2");
	memset(ikm, 0x0b, 22);
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	    "9d201395faa4b61a96c8", want, 42);
	ok(hkdf(ikm, 22, (unsigned char *)"", 0, (unsigned char *)"", 0, okm,
	    42) == 0 && memcmp(okm, want, 42) == 0, "RFC 5869 test case 3");
}

static void
wycheproof_hkdf(void)
{
	jv d = load("wycheproof/hkdf_sha256_test.json"), groups, g, tests, t;
	int i, j, ng, nt, total = 0, bad = 0;
	static unsigned char ikm[4096], salt[4096], info[4096], okm[9000],
	    want[9000];

	ok(jv_get_kind(d) == JV_KIND_OBJECT, "Wycheproof hkdf_sha256_test.json");
	if (jv_get_kind(d) != JV_KIND_OBJECT) {
		jv_free(d);
		return;
	}
	groups = jv_object_get(d, jv_string("testGroups"));
	ng = jv_array_length(jv_copy(groups));
	for (i = 0; i < ng; i++) {
		g = jv_array_get(jv_copy(groups), i);
		tests = jv_object_get(g, jv_string("tests"));
		nt = jv_array_length(jv_copy(tests));
		for (j = 0; j < nt; j++) {
			t = jv_array_get(jv_copy(tests), j);
			size_t il = unhex(str(t, "ikm"), ikm, sizeof(ikm));
			size_t sl = unhex(str(t, "salt"), salt, sizeof(salt));
			size_t nl = unhex(str(t, "info"), info, sizeof(info));
			size_t wl = unhex(str(t, "okm"), want, sizeof(want));
			jv sz = jv_object_get(jv_copy(t), jv_string("size"));
			size_t size = (size_t)jv_number_value(sz);
			int valid = strcmp(str(t, "result"), "valid") == 0;
			int got = size <= sizeof(okm) && hkdf(ikm, il, salt, sl,
			    info, nl, okm, size) == 0 && (!valid ||
			    (wl == size && memcmp(okm, want, size) == 0));
			if (got != valid)
				bad++;
			total++;
			jv_free(sz);
			jv_free(t);
		}
		jv_free(tests);
	}
	jv_free(groups);
	ok(total > 50 && bad == 0, "Wycheproof HKDF-SHA256: %d tests, %d wrong",
	    total, bad);
}

int
main(void)
{
	rfc8032();
	wycheproof_ed25519();
	cctv_ed25519();
	rfc5869();
	wycheproof_hkdf();
	return tap_done();
}
