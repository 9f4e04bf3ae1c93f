#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "agekey.h"
#include "bech32.h"
#include "exitcode.h"

int
age_x25519_public(const unsigned char priv[32], unsigned char pub[32])
{
	EVP_PKEY *pk;
	size_t len = 32;
	int rc = -1;

	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	if (pk != NULL && EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 &&
	    len == 32)
		rc = 0;
	EVP_PKEY_free(pk);
	return rc;
}

int
age_x25519_keygen(unsigned char priv[32], unsigned char pub[32])
{
	if (RAND_priv_bytes(priv, 32) != 1)
		return -1;
	return age_x25519_public(priv, pub);
}

void
age_recipient_string(char *out, const unsigned char pub[32])
{
	bech32_encode(out, AGE_RECIPIENT_LEN, "age", pub, 32, 0);
}

void
age_identity_string(char *out, const unsigned char priv[32])
{
	bech32_encode(out, AGE_IDENTITY_LEN, "age-secret-key-", priv, 32, 1);
}

int
age_recipient_parse(const char *s, unsigned char pub[32], struct err *e)
{
	char hrp[8];
	unsigned char buf[40];
	size_t n;

	if (bech32_decode(hrp, sizeof(hrp), buf, sizeof(buf), &n, s) != 0 ||
	    strcmp(hrp, "age") != 0 || n != 32 || strncmp(s, "age1", 4) != 0)
		return err_set(e, EXIT_DATA, "malformed recipient: %.80s", s);
	memcpy(pub, buf, 32);
	return 0;
}

int
age_identity_parse(const char *s, unsigned char priv[32], struct err *e)
{
	char hrp[20];
	unsigned char buf[40];
	size_t n;
	int rc = 0;

	/* Identities are written in upper case; refuse a lower-case one. */
	if (strncmp(s, "AGE-SECRET-KEY-1", 16) != 0 ||
	    bech32_decode(hrp, sizeof(hrp), buf, sizeof(buf), &n, s) != 0 ||
	    strcmp(hrp, "age-secret-key-") != 0 || n != 32)
		rc = err_set(e, EXIT_DATA, "malformed identity");
	else
		memcpy(priv, buf, 32);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}
