/* libFuzzer: the NDJSON message parser and the codecs it uses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "bech32.h"
#include "message.h"

const char *PROG = "fuzz_message";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message m;
	struct err e;
	char *s = malloc(size + 1), hrp[32];
	unsigned char *out = malloc(b64_declen(size) + 1);
	size_t n;

	memcpy(s, data, size);
	s[size] = '\0';
	if (message_parse(s, size, &m, &e) == 0) {
		char *line = message_format(&m, &n);
		message_verify(&m, NULL, &e);
		free(line);
		message_fini(&m);
	}
	b64_decode(out, &n, s, size, B64_STD);
	b64_decode(out, &n, s, size, B64_URL);
	bech32_decode(hrp, sizeof(hrp), out, b64_declen(size), &n, s);
	free(out);
	free(s);
	return 0;
}
