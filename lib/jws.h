#ifndef TI_JWS_H
#define TI_JWS_H

#include <stddef.h>

#include <jv.h>
#include <openssl/evp.h>

#include "err.h"

/*
 * JSON Web Signatures in compact form (RFC 7515), EdDSA (Ed25519, RFC
 * 8037) only: BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(sig).
 */

#define JWS_MAX (64 * 1024)	/* longest compact JWS accepted */

struct jws {
	jv header;		/* the protected header, an object */
	jv payload;		/* the payload, an object */
	const char *input;	/* signing input: points into the text */
	size_t inputlen;
	unsigned char sig[64];
};

/*
 * Split and decode a compact JWS of n bytes (no whitespace). Malformed
 * text, a header or payload that is not one JSON object, or a signature
 * that is not 64 bytes is EXIT_DATA; an alg other than "EdDSA" (none,
 * HS256, ...) or a "crit" header is EXIT_NO. Release with jws_fini.
 */
int jws_parse(const char *s, size_t n, struct jws *j, struct err *e);

/* Release j; safe on a zeroed or failed j. */
void jws_fini(struct jws *j);

/* 0 if j's signature verifies with the Ed25519 key pk, else -1. */
int jws_verify(const struct jws *j, EVP_PKEY *pk);

/*
 * Sign header and payload (consumed; both written in RFC 8785 form) with
 * the Ed25519 key pk. *out is the compact JWS, NUL-terminated, malloc'd.
 */
int jws_sign(jv header, jv payload, EVP_PKEY *pk, char **out, struct err *e);

#endif
