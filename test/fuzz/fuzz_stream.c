/*
 * libFuzzer: the age STREAM reader (ChaCha20-Poly1305 in 64 KiB chunks,
 * the final-chunk flag, truncation and trailing data) over a payload
 * with a fixed payload key, so that inputs reach the chunk logic without
 * a header. The seeds are payloads sealed with that key. Odd-length
 * inputs go through the read-ahead thread. The module is compiled into
 * the harness to reach its internal reader.
 */
#include "../../lib/age.c"

const char *PROG = "fuzz_stream";

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[32];
	struct sink o;
	struct in *in;
	struct err e;

	memset(key, 0x42, sizeof(key));
	memset(&o, 0, sizeof(o));
	if ((in = calloc(1, sizeof(*in))) == NULL)
		abort();
	in->src.mem = data;
	in->src.memlen = size;
	payload_open(in, &o, key, (int)(size & 1), &e);
	/* At most what the input could carry, only whole chunks' plaintext. */
	if (o.memlen > size)
		abort();
	wipe(o.mem, o.memcap);
	free(o.mem);
	free(in);
	return 0;
}
