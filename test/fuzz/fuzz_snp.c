/*
 * libFuzzer harness: SEV-SNP reports through snp_parse and snp_verify
 * (the sample VCEK, ASK and ARK), and certificate tables through
 * snp_certs_parse.
 */
#include <stdlib.h>

#include "hwevidence.h"
#include "snp.h"

const char *PROG = "fuzz_snp";
static STACK_OF(X509) *certs, *roots;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *b, size_t n);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char p[4096];
	const char *s = getenv("TI_SHARED");
	STACK_OF(X509) *more;
	struct err e;

	(void)argc;
	(void)argv;
	s = s ? s : "../shared";
	snprintf(p, sizeof(p), "%s/vectors/sev-snp/vcek.testcer", s);
	if (hwevidence_certs_load(p, &certs, &e) != 0)
		abort();
	snprintf(p, sizeof(p), "%s/vectors/sev-snp/ask_ark_milan.pem", s);
	if (hwevidence_certs_load(p, &more, &e) != 0)
		abort();
	roots = sk_X509_new_null();
	X509_up_ref(sk_X509_value(more, 1));
	sk_X509_push(roots, sk_X509_value(more, 1));
	while (sk_X509_num(more) > 0)
		sk_X509_push(certs, sk_X509_shift(more));
	sk_X509_free(more);
	return 0;
}

int
LLVMFuzzerTestOneInput(const unsigned char *b, size_t n)
{
	struct err e;
	STACK_OF(X509) *s;
	jv claims;

	if (snp_parse(b, n, &claims, &e) == 0)
		jv_free(claims);
	if (snp_verify(b, n, certs, roots, 0, &claims, &e) == 0)
		jv_free(claims);
	if (snp_certs_parse(b, n, &s, &e) == 0)
		sk_X509_pop_free(s, X509_free);
	return 0;
}
