/*
 * libFuzzer harness: DCAP quotes (SGX v3, TDX v4/v5) through dcap_parse
 * and dcap_verify (Intel root, no collateral), and input that starts
 * with '{' as collateral JSON for the genuine SGX quote.
 */
#include <stdlib.h>
#include <string.h>

#include "dcap.h"
#include "hwevidence.h"
#include "io.h"

const char *PROG = "fuzz_dcap";
static STACK_OF(X509) *roots;
static unsigned char *quote;
static size_t quotelen;

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
	s = s ? s : "../shared";
	snprintf(p, sizeof(p), "%s/vectors/sgx-dcap/TrustedRootCA.der", s);
	if (hwevidence_certs_load(p, &roots, &e) != 0)
		abort();
	snprintf(p, sizeof(p), "%s/vectors/sgx-dcap/sgx_quote", s);
	if (io_slurp(p, 1 << 20, &quote, &quotelen, &e) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const unsigned char *b, size_t n)
{
	struct err e;
	char *col;
	jv claims;

	if (n > 0 && b[0] == '{') {
		if ((col = malloc(n + 1)) == NULL)
			return 0;
		memcpy(col, b, n);
		col[n] = '\0';
		if (dcap_verify(quote, quotelen, roots, col, 1750809600,
		    &claims, &e) == 0)
			jv_free(claims);
		free(col);
		return 0;
	}
	if (dcap_parse(b, n, &claims, &e) == 0)
		jv_free(claims);
	if (dcap_verify(b, n, roots, NULL, 1750809600, &claims, &e) == 0)
		jv_free(claims);
	return 0;
}
