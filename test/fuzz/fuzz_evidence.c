/* libFuzzer: the compact JWS parser, manifest validation and RFC 8785 output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"
#include "jws.h"
#include "manifest.h"

const char *PROG = "fuzz_evidence";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jws j;
	struct err e;
	char *c;
	size_t n;
	jv v;

	if (jws_parse((const char *)data, size, &j, &e) == 0) {
		if (manifest_canonical(jv_copy(j.payload), &c, &n, &e) == 0)
			free(c);
	}
	jws_fini(&j);
	v = jsonio_parse((const char *)data, size, "fuzz", NULL);
	if (jv_is_valid(v)) {
		manifest_check(jv_copy(v), &e);
		if (manifest_canonical(v, &c, &n, &e) == 0)
			free(c);
	} else {
		jv_free(v);
	}
	return 0;
}
