#include <string.h>

#include "bech32.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static unsigned long
polymod_step(unsigned long pre)
{
	unsigned long b = pre >> 25;

	return (pre & 0x1ffffff) << 5 ^
	    (-(b >> 0 & 1) & 0x3b6a57b2ul) ^ (-(b >> 1 & 1) & 0x26508e6dul) ^
	    (-(b >> 2 & 1) & 0x1ea119faul) ^ (-(b >> 3 & 1) & 0x3d4233ddul) ^
	    (-(b >> 4 & 1) & 0x2a1462b3ul);
}

static unsigned long
hrp_polymod(const char *hrp)
{
	unsigned long chk = 1;
	size_t i, n = strlen(hrp);

	for (i = 0; i < n; i++)
		chk = polymod_step(chk) ^ ((unsigned char)hrp[i] >> 5);
	chk = polymod_step(chk);
	for (i = 0; i < n; i++)
		chk = polymod_step(chk) ^ ((unsigned char)hrp[i] & 31);
	return chk;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
bech32_encode(char *out, size_t outcap, const char *hrp,
    const unsigned char *data, size_t len, int upper)
{
	size_t hlen = strlen(hrp), n5 = (len * 8 + 4) / 5, i, o = 0;
	unsigned long chk, acc = 0;
	int bits = 0;

	if (hlen == 0 || hlen + 1 + n5 + 6 + 1 > outcap)
		return -1;
	for (i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)hrp[i];
		if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z'))
			return -1;
		out[o++] = (char)c;
	}
	out[o++] = '1';
	chk = hrp_polymod(hrp);
	for (i = 0; i < len; i++) {
		acc = (acc << 8 | data[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			int v = (int)(acc >> (bits - 5) & 31);
			bits -= 5;
			chk = polymod_step(chk) ^ (unsigned long)v;
			out[o++] = charset[v];
		}
	}
	if (bits > 0) {
		int v = (int)(acc << (5 - bits) & 31);
		chk = polymod_step(chk) ^ (unsigned long)v;
		out[o++] = charset[v];
	}
	for (i = 0; i < 6; i++)
		chk = polymod_step(chk);
	chk ^= 1;
	for (i = 0; i < 6; i++)
		out[o++] = charset[chk >> (5 * (5 - i)) & 31];
	out[o] = '\0';
	if (upper)
		for (i = 0; i < o; i++)
			if (out[i] >= 'a' && out[i] <= 'z')
				out[i] = (char)(out[i] - 32);
	return 0;
}

int
bech32_decode(char *hrp, size_t hrpcap, unsigned char *data, size_t cap,
    size_t *len, const char *s)
{
	size_t n = strlen(s), sep, i, o = 0;
	int has_lower = 0, has_upper = 0, bits = 0;
	unsigned long chk, acc = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126)
			return -1;
		has_lower |= c >= 'a' && c <= 'z';
		has_upper |= c >= 'A' && c <= 'Z';
	}
	if (has_lower && has_upper)
		return -1;
	for (sep = n; sep > 0 && s[sep - 1] != '1'; sep--)
		;
	if (sep < 2 || n - sep < 6 || sep - 1 >= hrpcap)
		return -1;
	sep--;
	for (i = 0; i < sep; i++)
		hrp[i] = (char)lower((unsigned char)s[i]);
	hrp[sep] = '\0';
	chk = hrp_polymod(hrp);
	for (i = sep + 1; i < n; i++) {
		const char *p = strchr(charset, lower((unsigned char)s[i]));
		unsigned long v;
		if (p == NULL || *p == '\0')
			return -1;
		v = (unsigned long)(p - charset);
		chk = polymod_step(chk) ^ v;
		if (i >= n - 6)
			continue;
		acc = (acc << 5 | v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			data[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (chk != 1 || bits >= 5 || (acc & ((1ul << bits) - 1)) != 0)
		return -1;
	*len = o;
	return 0;
}
