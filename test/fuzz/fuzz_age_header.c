/*
 * libFuzzer: the age header and stanza parser on its own (version line,
 * stanzas, bodies, MAC line), then the stanza checks and unwrapping with
 * an X25519 identity. The module is compiled into the harness to reach
 * its internal parser.
 */
#include "../../lib/age.c"

const char *PROG = "fuzz_age_header";

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char id[] = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2"
	    "VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
	struct age_keys *k = age_keys_new();
	struct secrets sc;
	struct header h;
	struct in *in;
	struct err e;
	const uint8_t *p;

	/* The CCTV vectors that seed it start with a text preamble. */
	if (size > 8 && memcmp(data, "expect: ", 8) == 0 &&
	    (p = memmem(data, size, "\n\n", 2)) != NULL) {
		size -= (size_t)(p + 2 - data);
		data = p + 2;
	}

	if (k == NULL || age_add_identity(k, id, &e) != 0 ||
	    (in = calloc(1, sizeof(*in))) == NULL)
		abort();
	memset(&h, 0, sizeof(h));
	memset(&sc, 0, sizeof(sc));
	in->src.mem = data;
	in->src.memlen = size;
	if (header_read(in, &h, &e) == 0 && header_check(&h, &e) == 0)
		header_unwrap(&h, k, &sc, &e);
	header_free(&h);
	free(in);
	age_keys_free(k);
	return 0;
}
