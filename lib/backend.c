#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agekey.h"
#include "backend.h"
#include "exitcode.h"
#include "io.h"
#include "sig.h"

const struct attest_backend *const attest_backends[] = {
	&attest_sim,
	&attest_tsm,
	&attest_nitro,
	&attest_sgx,
	NULL,
};

const struct attest_verifier *const attest_verifiers[] = {
	&attest_verify_sim,
	&attest_verify_nitro,
	&attest_verify_sgx,
	&attest_verify_tdx,
	&attest_verify_snp,
	NULL,
};

const struct attest_backend *
attest_backend_find(const char *name)
{
	size_t i;

	for (i = 0; attest_backends[i] != NULL; i++)
		if (strcmp(attest_backends[i]->name, name) == 0)
			return attest_backends[i];
	return NULL;
}

const struct attest_backend *
attest_backend_of(const char *home, struct err *e)
{
	const struct attest_backend *b;
	unsigned char *buf = NULL;
	char path[4096];
	size_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/backend", home) >=
	    sizeof(path)) {
		err_set(e, EXIT_USAGE, "platform directory name too long");
		return NULL;
	}
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return &attest_sim;
	if (io_slurp(path, 64, &buf, &n, e) != 0)
		return NULL;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if ((b = attest_backend_find((char *)buf)) == NULL)
		err_set(e, EXIT_DATA, "%s: unknown attestation backend %.32s",
		    path, (char *)buf);
	free(buf);
	return b;
}

int
attest_report_data(const struct attest_claims *c, unsigned char out[32],
    struct err *e)
{
	static const char label[] = "ti-attest/v1";
	unsigned char nh[32], xpub[32], epub[32], flag, zero[32] = { 0 };
	EVP_MD_CTX *ctx;
	int rc = -1;

	if (strncmp(c->measurement, "sha256:", 7) != 0 ||
	    strlen(c->measurement) != 71)
		return err_set(e, EXIT_DATA, "malformed measurement");
	if (age_recipient_parse(c->recipient, xpub, e) != 0 ||
	    sig_signer_parse(c->sig_key, epub, e) != 0)
		return -1;
	if (c->noncelen == 0 || c->noncelen > ATTEST_NONCE_MAX)
		return err_set(e, EXIT_DATA, "nonce must be 1 to %d bytes",
		    ATTEST_NONCE_MAX);
	if (EVP_Digest(c->nonce, c->noncelen, nh, NULL, EVP_sha256(),
	    NULL) != 1 || (ctx = EVP_MD_CTX_new()) == NULL)
		return err_set(e, EXIT_IO, "SHA-256 failed");
	flag = c->data != NULL;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, label, sizeof(label) - 1) == 1 &&
	    EVP_DigestUpdate(ctx, nh, 32) == 1 &&
	    EVP_DigestUpdate(ctx, c->measurement, 71) == 1 &&
	    EVP_DigestUpdate(ctx, xpub, 32) == 1 &&
	    EVP_DigestUpdate(ctx, epub, 32) == 1 &&
	    EVP_DigestUpdate(ctx, &flag, 1) == 1 &&
	    EVP_DigestUpdate(ctx, c->data ? c->data : zero, 32) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, NULL) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	if (rc != 0)
		err_set(e, EXIT_IO, "SHA-256 failed");
	return rc;
}
