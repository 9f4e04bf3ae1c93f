#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "attested.h"
#include "evidence.h"
#include "exitcode.h"
#include "io.h"

/* Largest evidence read (a compact JWS with its certificate chain). */
#define EVIDENCE_MAX (1024 * 1024)

int
attested_recipient(const char *path, const char *trust, const char *policy,
    char out[AGE_RECIPIENT_LEN], struct err *e)
{
	struct verifier_opts o;
	struct verifier *v;
	unsigned char *buf;
	size_t len;
	jv claims, r;
	int rc = -1;

	if (io_slurp(path, EVIDENCE_MAX, &buf, &len, e) != 0)
		return -1;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	memset(&o, 0, sizeof(o));
	o.trust = trust;
	o.policy = policy;
	if ((v = verifier_new(&o, e)) == NULL) {
		free(buf);
		return -1;
	}
	if (verifier_check(v, (const char *)buf, len, NULL, 0, &claims,
	    e) == 0) {
		r = jv_object_get(jv_copy(claims), jv_string("recipient"));
		if (jv_get_kind(r) != JV_KIND_STRING ||
		    strlen(jv_string_value(r)) >= AGE_RECIPIENT_LEN)
			err_set(e, EXIT_DATA, "%s: evidence has no recipient "
			    "claim", path);
		else {
			strcpy(out, jv_string_value(r));
			rc = 0;
		}
		jv_free(r);
		jv_free(claims);
	}
	verifier_free(v);
	free(buf);
	return rc;
}
