/*
 * libFuzzer: the protocol's header parsing on both sides: Authorization
 * (TI-Attest, TI-Session), WWW-Authenticate challenges, Idempotency-Key,
 * TI-Nonce, TI-Error, session tokens, and the response header callback
 * that reads them from a server (each input line as libcurl hands it
 * over: not NUL-terminated). http.c is compiled into the harness to
 * reach its callback.
 */
#include "../../lib/http.c"
#include "message.h"

const char *PROG = "fuzz_tiproto";

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char nonce[TIPROTO_NONCE_B64], run[MESSAGE_RUN_MAX + 1];
	unsigned char key[32], raw[64];
	struct tiproto_session s;
	struct http_resp r;
	const char *cred;
	size_t n, off, len;
	uint64_t seq;
	char *str, *line;

	if ((str = malloc(size + 1)) == NULL)
		abort();
	memcpy(str, data, size);
	str[size] = '\0';
	tiproto_auth_parse(str, &cred, &n);
	tiproto_challenge_parse(str, nonce);
	tiproto_idem_parse(str, run, &seq);
	tiproto_nonce_decode(str, 32, 32, raw, &n);
	tiproto_nonce_decode(str, 16, 64, raw, &n);
	tiproto_error_status(str);
	memset(key, 7, sizeof(key));
	tiproto_session_check(key, (const char *)data, size, 1000, &s);
	free(str);

	http_resp_init(&r, 1 << 16);
	for (off = 0; off < size; off += len) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);

		len = nl != NULL ? (size_t)(nl - (data + off)) + 1 : size - off;
		/* An exact-size copy: a read past it is a finding. */
		if ((line = malloc(len)) == NULL)
			abort();
		memcpy(line, data + off, len);
		onheader(line, 1, len, &r);
		free(line);
	}
	http_resp_fini(&r);
	return 0;
}
