/*
 * libFuzzer harness: Nitro attestation documents (COSE_Sign1/CBOR, raw or
 * base64 as hwevidence_raw takes them) through nitro_parse and
 * nitro_verify (AWS root, a time inside the samples' validity), and the
 * NSM response decoder.
 */
#include <stdlib.h>
#include <string.h>

#include "hwevidence.h"
#include "nitro.h"

const char *PROG = "fuzz_nitro";
static STACK_OF(X509) *roots;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *b, size_t n);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char p[4096];
	const char *s = getenv("TI_SHARED");
	struct err e;

	(void)argc;
	(void)argv;
	snprintf(p, sizeof(p), "%s/vectors/nitro/aws_nitro_root_g1.pem",
	    s ? s : "../shared");
	if (hwevidence_certs_load(p, &roots, &e) != 0)
		abort();
	return 0;
}

struct canned {
	const unsigned char *b;
	size_t n;
};

static int
answer(void *ctx, const unsigned char *req, size_t reqlen,
    unsigned char *resp, size_t *resplen, struct err *e)
{
	struct canned *c = ctx;

	(void)req;
	(void)reqlen;
	(void)e;
	if (c->n > *resplen)
		return -1;
	memcpy(resp, c->b, c->n);
	*resplen = c->n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const unsigned char *b, size_t n)
{
	struct err e;
	struct canned c = { b, n };
	unsigned char rd[64] = { 0 }, *doc, *raw;
	size_t dn, rn;
	jv claims;

	if (hwevidence_raw(b, n, &raw, &rn, &e) == 0) {
		if (nitro_parse(raw, rn, &claims, &e) == 0)
			jv_free(claims);
		if (nitro_verify(raw, rn, roots, 1725719860, &claims, &e) == 0)
			jv_free(claims);
		free(raw);
	}
	if (nitro_quote_with(answer, &c, rd, 64, NULL, 0, NULL, 0, &doc, &dn,
	    &e) == 0)
		free(doc);
	return 0;
}
