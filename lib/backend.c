#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "exitcode.h"
#include "hwevidence.h"
#include "io.h"

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
	if (c->noncelen == 0 || c->noncelen > ATTEST_NONCE_MAX)
		return err_set(e, EXIT_DATA, "nonce must be 1 to %d bytes",
		    ATTEST_NONCE_MAX);
	return hwevidence_binding(c->nonce, c->noncelen, c->measurement,
	    c->recipient, c->sig_key, c->data, out, e);
}
