#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "b64.h"
#include "backend.h"
#include "evidence.h"
#include "exitcode.h"
#include "io.h"
#include "sealto.h"

#define EVIDENCE_MAX (64 * 1024)
#define POLICY_MAX 65536

/* Evidence text loses its trailing newline; binary evidence stays whole. */
static void
trim(unsigned char *b, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (b[i] < 0x20 ? b[i] != '\n' && b[i] != '\r' &&
		    b[i] != '\t' : b[i] > 0x7e)
			return;
	while (*n > 0 && (b[*n - 1] == '\n' || b[*n - 1] == '\r'))
		b[--*n] = '\0';
}

int
sealto_recipient(const struct sealto_opts *o, char out[AGE_RECIPIENT_LEN],
    struct err *e)
{
	unsigned char nonce[ATTEST_NONCE_MAX + 3], *buf = NULL, *pol = NULL;
	struct verifier_opts vo;
	struct verifier *v = NULL;
	size_t nl = 0, len, n;
	jv claims, r, b;
	int rc = -1;

	if ((o->policy == NULL) == (o->policy_file == NULL))
		return err_set(e, EXIT_USAGE, "--evidence needs one of "
		    "--policy or --policy-file");
	if (o->trust == NULL)
		return err_set(e, EXIT_USAGE, "--evidence needs --trust");
	if (o->nonce != NULL && ((n = strlen(o->nonce)) == 0 ||
	    n > b64_enclen(ATTEST_NONCE_MAX, B64_URL) ||
	    b64_decode(nonce, &nl, o->nonce, n, B64_URL) != 0 || nl == 0))
		return err_set(e, EXIT_USAGE, "--nonce: expected 1 to %d "
		    "bytes in base64url", ATTEST_NONCE_MAX);
	if (o->policy_file != NULL &&
	    io_slurp(o->policy_file, POLICY_MAX, &pol, &n, e) != 0)
		return -1;
	memset(&vo, 0, sizeof(vo));
	vo.trust = o->trust;
	vo.policy = pol != NULL ? (const char *)pol : o->policy;
	if ((v = verifier_new(&vo, e)) == NULL ||
	    io_slurp(o->evidence, EVIDENCE_MAX, &buf, &len, e) != 0)
		goto out;
	trim(buf, &len);
	if (verifier_check(v, (const char *)buf, len,
	    o->nonce != NULL ? nonce : NULL, nl, &claims, e) != 0)
		goto out;
	r = jv_object_get(jv_copy(claims), jv_string("recipient"));
	b = jv_object_get(jv_copy(claims), jv_string("bound"));
	if (jv_get_kind(b) != JV_KIND_TRUE || jv_get_kind(r) !=
	    JV_KIND_STRING || strlen(jv_string_value(r)) >= AGE_RECIPIENT_LEN)
		err_set(e, EXIT_NO, "%s: the evidence binds no recipient; "
		    "nothing to seal to", o->evidence);
	else {
		strcpy(out, jv_string_value(r));
		rc = 0;
	}
	jv_free(r);
	jv_free(b);
	jv_free(claims);
out:
	verifier_free(v);
	free(pol);
	free(buf);
	return rc;
}
