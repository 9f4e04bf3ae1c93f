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

/* Decoding tables: the value of each character, 255 for none. */
static const unsigned char dec_std[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
	255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

static const unsigned char dec_url[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
	255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255,  63,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

int
b64_decode(unsigned char *dst, size_t *dlen, const char *src, size_t n,
    int mode)
{
	const unsigned char *t = mode == B64_URL ? dec_url : dec_std;
	const unsigned char *s = (const unsigned char *)src;
	unsigned char *o = dst;
	size_t i, full, rem;
	unsigned int a, b, c, d;

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
	full = n - rem;
	/* Whole groups, table-driven: this is the bulk of a sealed message. */
	for (i = 0; i < full; i += 4) {
		a = t[s[i]];
		b = t[s[i + 1]];
		c = t[s[i + 2]];
		d = t[s[i + 3]];
		if ((a | b | c | d) & 0x80)
			return -1;
		*o++ = (unsigned char)(a << 2 | b >> 4);
		*o++ = (unsigned char)(b << 4 | c >> 2);
		*o++ = (unsigned char)(c << 6 | d);
	}
	/* Leftover bits must be zero, or the encoding is not canonical. */
	if (rem == 2) {
		a = t[s[i]];
		b = t[s[i + 1]];
		if ((a | b) & 0x80 || (b & 15) != 0)
			return -1;
		*o++ = (unsigned char)(a << 2 | b >> 4);
	} else if (rem == 3) {
		a = t[s[i]];
		b = t[s[i + 1]];
		c = t[s[i + 2]];
		if ((a | b | c) & 0x80 || (c & 3) != 0)
			return -1;
		*o++ = (unsigned char)(a << 2 | b >> 4);
		*o++ = (unsigned char)(b << 4 | c >> 2);
	}
	*dlen = (size_t)(o - dst);
	return 0;
}
