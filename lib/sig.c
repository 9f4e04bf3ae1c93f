#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "b64.h"
#include "exitcode.h"
#include "io.h"
#include "sig.h"

void
sig_signer_string(char *out, const unsigned char pub[32])
{
	memcpy(out, "ed25519:", 8);
	b64_encode(out + 8, pub, 32, B64_URL);
}

int
sig_signer_parse(const char *s, unsigned char pub[32], struct err *e)
{
	unsigned char buf[48];
	size_t n;

	if (strncmp(s, "ed25519:", 8) != 0 || strlen(s) != 8 + 43 ||
	    b64_decode(buf, &n, s + 8, 43, B64_URL) != 0 || n != 32)
		return err_set(e, EXIT_DATA, "malformed signing key: %.60s", s);
	memcpy(pub, buf, 32);
	return 0;
}

static int
pem_public(const unsigned char *buf, size_t n, unsigned char pub[32])
{
	BIO *bio = BIO_new_mem_buf(buf, (int)n);
	EVP_PKEY *pk = NULL;
	size_t len = 32;
	int rc = -1;

	if (bio != NULL && (pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) &&
	    EVP_PKEY_get_id(pk) == EVP_PKEY_ED25519 &&
	    EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 && len == 32)
		rc = 0;
	EVP_PKEY_free(pk);
	BIO_free(bio);
	return rc;
}

int
sig_signer_load(const char *path, unsigned char pub[32], struct err *e)
{
	unsigned char *buf = NULL;
	size_t n;
	char *line, *save = NULL;
	int rc = -1;

	if (io_slurp(path, 65536, &buf, &n, e) != 0)
		return -1;
	if (strstr((char *)buf, "-----BEGIN PUBLIC KEY-----") != NULL) {
		if ((rc = pem_public(buf, n, pub)) != 0)
			err_set(e, EXIT_DATA, "%s: not an Ed25519 public key",
			    path);
		goto out;
	}
	for (line = strtok_r((char *)buf, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		rc = sig_signer_parse(line, pub, e);
		if (rc != 0)
			err_prefix(e, "%s", path);
		goto out;
	}
	err_set(e, EXIT_DATA, "%s: no signing key found", path);
out:
	free(buf);
	return rc;
}

int
sig_public(const unsigned char seed[32], unsigned char pub[32])
{
	EVP_PKEY *pk;
	size_t len = 32;
	int rc = -1;

	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (pk != NULL && EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 &&
	    len == 32)
		rc = 0;
	EVP_PKEY_free(pk);
	return rc;
}

int
sig_sign(const unsigned char seed[32], const void *msg, size_t n,
    unsigned char sig[64])
{
	EVP_PKEY *pk;
	EVP_MD_CTX *ctx = NULL;
	size_t len = 64;
	int rc = -1;

	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (pk == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestSign(ctx, sig, &len, msg, n) == 1 && len == 64)
		rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

int
sig_verify(const unsigned char pub[32], const void *msg, size_t n,
    const unsigned char sig[64])
{
	EVP_PKEY *pk;
	EVP_MD_CTX *ctx = NULL;
	int rc = -1;

	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	if (pk == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, sig, 64, msg, n) == 1)
		rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}
