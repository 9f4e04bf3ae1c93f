#ifndef TI_B64_H
#define TI_B64_H

#include <stddef.h>

/* Alphabet and padding. */
enum {
	B64_STD = 0,       /* RFC 4648 section 4, with '=' padding */
	B64_NOPAD = 1,     /* standard alphabet, no padding (age stanzas) */
	B64_URL = 2,       /* RFC 4648 section 5, no padding (JWS, ti messages) */
};

/* Characters b64_encode writes for n bytes, not counting the NUL. */
size_t b64_enclen(size_t n, int mode);

/* Encode n bytes of src into dst (b64_enclen(n) + 1 bytes), NUL-terminated. */
void b64_encode(char *dst, const unsigned char *src, size_t n, int mode);

/* Encode into a new malloc'd string; NULL on allocation failure. Caller frees. */
char *b64_encode_alloc(const unsigned char *src, size_t n, int mode);

/* Bytes b64_decode may write for n characters (an upper bound). */
size_t b64_declen(size_t n);

/*
 * Decode n characters of src into dst, setting *dlen. Strict: the padding
 * rule of mode, no whitespace, canonical trailing bits. Returns 0, or -1
 * on any malformed input.
 */
int b64_decode(unsigned char *dst, size_t *dlen, const char *src, size_t n,
    int mode);

#endif
