#ifndef TI_BECH32_H
#define TI_BECH32_H

#include <stddef.h>

/*
 * Bech32 (BIP 173 checksum), as age uses it for recipients and identities,
 * without BIP 173's 90-character limit.
 */

/*
 * Encode len bytes of data with human-readable part hrp into out (outcap
 * bytes, NUL-terminated). upper selects upper case (age identities).
 * Returns 0, or -1 if out is too small or hrp is invalid.
 */
int bech32_encode(char *out, size_t outcap, const char *hrp,
    const unsigned char *data, size_t len, int upper);

/*
 * Decode s. Writes the lower-cased hrp into hrp (hrpcap bytes) and the
 * 8-bit data into data (cap bytes), setting *len. Mixed case, a bad
 * checksum, bad characters or non-zero padding bits give -1.
 */
int bech32_decode(char *hrp, size_t hrpcap, unsigned char *data, size_t cap,
    size_t *len, const char *s);

#endif
