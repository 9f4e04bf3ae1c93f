/* base64, base64url and Bech32 against RFC 4648 and age's own keys. */
#include <string.h>

#include "b64.h"
#include "bech32.h"
#include "tap.h"

static void
b64_vec(const char *in, const char *std, const char *url)
{
	char buf[64];
	unsigned char dec[64];
	size_t n;

	b64_encode(buf, (const unsigned char *)in, strlen(in), B64_STD);
	ok(strcmp(buf, std) == 0, "base64(\"%s\") = %s", in, buf);
	b64_encode(buf, (const unsigned char *)in, strlen(in), B64_URL);
	ok(strcmp(buf, url) == 0, "base64url(\"%s\") = %s", in, buf);
	ok(b64_decode(dec, &n, std, strlen(std), B64_STD) == 0 &&
	    n == strlen(in) && memcmp(dec, in, n) == 0, "decode %s", std);
	ok(b64_decode(dec, &n, url, strlen(url), B64_URL) == 0 &&
	    n == strlen(in) && memcmp(dec, in, n) == 0, "decode url %s", url);
}

int
main(void)
{
	unsigned char data[64];
	char hrp[16], out[128];
	size_t n;

	b64_vec("", "", "");
	b64_vec("f", "Zg==", "Zg");
	b64_vec("fo", "Zm8=", "Zm8");
	b64_vec("foo", "Zm9v", "Zm9v");
	b64_vec("foob", "Zm9vYg==", "Zm9vYg");
	b64_vec("fooba", "Zm9vYmE=", "Zm9vYmE");
	b64_vec("foobar", "Zm9vYmFy", "Zm9vYmFy");
	ok(b64_decode(data, &n, "Zh==", 4, B64_STD) != 0,
	    "non-canonical trailing bits rejected");
	ok(b64_decode(data, &n, "Zg", 2, B64_STD) != 0,
	    "missing padding rejected in padded mode");
	ok(b64_decode(data, &n, "Zg==", 4, B64_NOPAD) != 0,
	    "padding rejected in unpadded mode");
	ok(b64_decode(data, &n, "Z", 1, B64_NOPAD) != 0, "one char rejected");
	ok(b64_decode(data, &n, "Zm 9", 4, B64_NOPAD) != 0, "space rejected");
	ok(b64_decode(data, &n, "_-8", 3, B64_URL) == 0 && n == 2 &&
	    data[0] == 0xff && data[1] == 0xef, "url alphabet decodes");
	ok(b64_decode(data, &n, "_-8", 3, B64_NOPAD) != 0,
	    "url alphabet rejected in standard mode");

	/* age's example identity and recipient (age spec). */
	const char *id = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
	ok(bech32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, id) == 0 &&
	    strcmp(hrp, "age-secret-key-") == 0 && n == 32, "decode identity");
	ok(bech32_encode(out, sizeof(out), "age-secret-key-", data, n, 1) == 0 &&
	    strcmp(out, id) == 0, "re-encode identity: %s", out);
	const char *rcp = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
	ok(bech32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, rcp) == 0 &&
	    strcmp(hrp, "age") == 0 && n == 32, "decode recipient");
	ok(bech32_encode(out, sizeof(out), "age", data, n, 0) == 0 &&
	    strcmp(out, rcp) == 0, "re-encode recipient");
	char bad[128];
	strcpy(bad, rcp);
	bad[10] = bad[10] == 'q' ? 'p' : 'q';
	ok(bech32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, bad) != 0,
	    "flipped character fails checksum");
	ok(bech32_decode(hrp, sizeof(hrp), data, sizeof(data), &n,
	    "age1Zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj") != 0,
	    "mixed case rejected");
	ok(bech32_decode(hrp, sizeof(hrp), data, 8, &n, rcp) != 0,
	    "too small a buffer rejected");
	return tap_done();
}
