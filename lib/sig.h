#ifndef TI_SIG_H
#define TI_SIG_H

#include <stddef.h>

#include "err.h"

/* Ed25519 signatures and the "ed25519:<base64url>" public-key form. */

#define SIG_SIGNER_LEN 52	/* "ed25519:" + 43 characters + NUL */

/* "ed25519:<base64url of pub>" into out (SIG_SIGNER_LEN bytes). */
void sig_signer_string(char *out, const unsigned char pub[32]);

/* Parse "ed25519:<base64url>" into pub. 0, or -1 (EXIT_DATA). */
int sig_signer_parse(const char *s, unsigned char pub[32], struct err *e);

/*
 * Read a public signing key from a file: "ed25519:..." on a line ('#'
 * comments allowed) or a PEM public key. 0, or -1.
 */
int sig_signer_load(const char *path, unsigned char pub[32], struct err *e);

/* Derive the public key of a 32-byte Ed25519 seed. 0, or -1. */
int sig_public(const unsigned char seed[32], unsigned char pub[32]);

/* Sign msg with the 32-byte seed. 0, or -1. */
int sig_sign(const unsigned char seed[32], const void *msg, size_t n,
    unsigned char sig[64]);

/* 0 if sig is a valid signature of msg by pub, -1 otherwise. */
int sig_verify(const unsigned char pub[32], const void *msg, size_t n,
    const unsigned char sig[64]);

#endif
