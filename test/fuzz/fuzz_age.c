/*
 * libFuzzer: opening age files (armor, header, stanzas, STREAM) with the
 * X25519 identity of the CCTV vectors, which seed it (their text
 * preamble is skipped). Passphrases are left out: scrypt is too slow to
 * fuzz, and scrypt stanzas are still parsed and checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "age.h"

const char *PROG = "fuzz_age";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char id[] = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2"
	    "VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
	struct age_keys *k = age_keys_new();
	unsigned char *out;
	const uint8_t *p;
	size_t n;
	struct err e;

	if (size > 8 && memcmp(data, "expect: ", 8) == 0 &&
	    (p = memmem(data, size, "\n\n", 2)) != NULL) {
		size -= (size_t)(p + 2 - data);
		data = p + 2;
	}
	if (age_add_identity(k, id, &e) != 0)
		abort();
	if (age_open_mem(data, size, k, &out, &n, &e) == 0)
		free(out);
	age_keys_free(k);
	return 0;
}
