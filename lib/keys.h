#ifndef TI_KEYS_H
#define TI_KEYS_H

#include <stddef.h>

#include "err.h"

/*
 * Keys bound to one measurement, derived from a platform secret
 * (docs/formats.md, "Per-measurement keys"):
 *   okm = HKDF-SHA256(salt = "ti-attest/v1", ikm = secret,
 *                     info = label || measurement, L = 32)
 * with label "x25519" for the age identity and "ed25519" for the signing
 * seed; measurement is the ASCII string "sha256:<64 hex>".
 */
struct tikeys {
	unsigned char x_priv[32];	/* X25519 identity (age) */
	unsigned char x_pub[32];	/* its recipient */
	unsigned char ed_seed[32];	/* Ed25519 signing seed (sig_key) */
	unsigned char ed_pub[32];	/* its public key */
};

/* Derive k from secret and measurement. 0, or -1 (k wiped). */
int keys_derive(const unsigned char *secret, size_t secretlen,
    const char *measurement, struct tikeys *k, struct err *e);

/* Wipe k. */
void keys_wipe(struct tikeys *k);

#endif
