/*
 * libFuzzer: the age ASCII armor decoder (begin line detection, 64-column
 * base64 lines, the end line and what may follow it). The module is
 * compiled into the harness to reach its internal reader.
 */
#include "../../lib/age.c"

const char *PROG = "fuzz_armor";

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[1000];
	struct in *in;
	struct err e;
	ssize_t r;
	const uint8_t *p;

	/* The CCTV vectors that seed it start with a text preamble. */
	if (size > 8 && memcmp(data, "expect: ", 8) == 0 &&
	    (p = memmem(data, size, "\n\n", 2)) != NULL) {
		size -= (size_t)(p + 2 - data);
		data = p + 2;
	}

	if ((in = calloc(1, sizeof(*in))) == NULL)
		abort();
	in->src.mem = data;
	in->src.memlen = size;
	if (in_start(in, &e) == 0 && in->armored) {
		/* Odd read sizes cross decoded-line boundaries. */
		while ((r = bin_read(in, buf, 1 + size % sizeof(buf), &e)) > 0)
			;
	}
	free(in);
	return 0;
}
