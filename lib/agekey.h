#ifndef TI_AGEKEY_H
#define TI_AGEKEY_H

#include "err.h"

/* X25519 keys and their age string forms (Bech32, "age" and "AGE-SECRET-KEY-"). */

#define AGE_RECIPIENT_LEN 63	/* "age1" + 58 characters + NUL, rounded */
#define AGE_IDENTITY_LEN 75	/* "AGE-SECRET-KEY-1" + 58 characters + NUL */

/* A new X25519 key pair from the OS's random source. 0, or -1. */
int age_x25519_keygen(unsigned char priv[32], unsigned char pub[32]);

/* The public key of an X25519 private key. 0, or -1. */
int age_x25519_public(const unsigned char priv[32], unsigned char pub[32]);

/* "age1..." for pub into out (AGE_RECIPIENT_LEN bytes). */
void age_recipient_string(char *out, const unsigned char pub[32]);

/* "AGE-SECRET-KEY-1..." for priv into out (AGE_IDENTITY_LEN bytes). */
void age_identity_string(char *out, const unsigned char priv[32]);

/* Parse "age1..." into pub. 0, or -1 (EXIT_DATA). */
int age_recipient_parse(const char *s, unsigned char pub[32], struct err *e);

/* Parse "AGE-SECRET-KEY-1..." into priv. 0, or -1 (EXIT_DATA). */
int age_identity_parse(const char *s, unsigned char priv[32], struct err *e);

#endif
