#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "age.h"
#include "exitcode.h"
#include "keys.h"
#include "sig.h"

static int
hkdf(const unsigned char *secret, size_t secretlen, const char *label,
    const char *measurement, unsigned char out[32])
{
	static const char salt[] = "ti-attest/v1";
	unsigned char info[256];
	size_t ll = strlen(label), ml = strlen(measurement);
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM p[5];
	int rc = -1;

	if (ll + ml > sizeof(info))
		return -1;
	memcpy(info, label, ll);
	memcpy(info + ll, measurement, ml);
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)secret, secretlen);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, sizeof(salt) - 1);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
	    ll + ml);
	p[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, 32, p) == 1)
		rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int
keys_derive(const unsigned char *secret, size_t secretlen,
    const char *measurement, struct tikeys *k, struct err *e)
{
	if (strncmp(measurement, "sha256:", 7) != 0 ||
	    strlen(measurement) != 7 + 64)
		return err_set(e, EXIT_DATA, "malformed measurement: %.80s",
		    measurement);
	if (secretlen < 32)
		return err_set(e, EXIT_DATA, "platform secret too short");
	if (hkdf(secret, secretlen, "x25519", measurement, k->x_priv) != 0 ||
	    age_x25519_public(k->x_priv, k->x_pub) != 0 ||
	    hkdf(secret, secretlen, "ed25519", measurement, k->ed_seed) != 0 ||
	    sig_public(k->ed_seed, k->ed_pub) != 0) {
		keys_wipe(k);
		return err_set(e, EXIT_IO, "key derivation failed");
	}
	return 0;
}

void
keys_wipe(struct tikeys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
