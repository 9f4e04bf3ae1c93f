#include <stdlib.h>

#include "b64.h"

static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
b64_enclen(size_t n, int mode)
{
	if (mode == B64_STD)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void
b64_encode(char *dst, const unsigned char *src, size_t n, int mode)
{
	const char *a = mode == B64_URL ? url_alpha : std_alpha;
	size_t i;
	char *p = dst;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned long v = (unsigned long)src[i] << 16 |
		    (unsigned long)src[i + 1] << 8 | src[i + 2];
		*p++ = a[v >> 18 & 63];
		*p++ = a[v >> 12 & 63];
		*p++ = a[v >> 6 & 63];
		*p++ = a[v & 63];
	}
	if (n - i == 1) {
		*p++ = a[src[i] >> 2];
		*p++ = a[(src[i] & 3) << 4];
		if (mode == B64_STD) {
			*p++ = '=';
			*p++ = '=';
		}
	} else if (n - i == 2) {
		*p++ = a[src[i] >> 2];
		*p++ = a[(src[i] & 3) << 4 | src[i + 1] >> 4];
		*p++ = a[(src[i + 1] & 15) << 2];
		if (mode == B64_STD)
			*p++ = '=';
	}
	*p = '\0';
}

char *
b64_encode_alloc(const unsigned char *src, size_t n, int mode)
{
	char *s = malloc(b64_enclen(n, mode) + 1);

	if (s != NULL)
		b64_encode(s, src, n, mode);
	return s;
}

size_t
b64_declen(size_t n)
{
	return n / 4 * 3 + 3;
}

static int
val(unsigned char c, int mode)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (mode == B64_URL)
		return c == '-' ? 62 : c == '_' ? 63 : -1;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int
b64_decode(unsigned char *dst, size_t *dlen, const char *src, size_t n,
    int mode)
{
	size_t i, o = 0, rem;
	unsigned long acc = 0;
	int bits = 0;

	if (mode == B64_STD) {
		if (n % 4 != 0)
			return -1;
		if (n > 0 && src[n - 1] == '=')
			n--;
		if (n > 0 && src[n - 1] == '=')
			n--;
	}
	rem = n % 4;
	if (rem == 1)
		return -1;
	for (i = 0; i < n; i++) {
		int v = val((unsigned char)src[i], mode);
		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero, or the encoding is not canonical. */
	if (bits > 0 && (acc & ((1ul << bits) - 1)) != 0)
		return -1;
	*dlen = o;
	return 0;
}
