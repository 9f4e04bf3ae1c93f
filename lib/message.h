#ifndef TI_MESSAGE_H
#define TI_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * A message, the unit between tools: one NDJSON line (docs/formats.md)
 *   {"v":1,"run":"<base64url>","seq":0,"last":true,
 *    "signer":"ed25519:...","sig":"<base64url>","sealed":"<base64>"}
 * sig is Ed25519 by signer over
 *   "ti-message/v1\n" run "\n" seq "\n" ("true"|"false") "\n" hex(SHA-256(age bytes))
 */

#define MESSAGE_MAX (256u * 1024 * 1024)	/* largest line accepted */
#define MESSAGE_RUN_MAX 128			/* longest run id */

struct message {
	char run[MESSAGE_RUN_MAX + 1];	/* base64url characters */
	uint64_t seq;
	int last;
	unsigned char signer[32];
	unsigned char sig[64];
	unsigned char *sealed;		/* the age bytes, owned */
	size_t sealedlen;
};

/*
 * Parse one line (without or with its trailing newline). Unknown keys are
 * ignored; anything malformed is EXIT_DATA with the field named. On success
 * m owns a sealed buffer: release with message_fini.
 */
int message_parse(const char *line, size_t n, struct message *m,
    struct err *e);

/* Free what m owns; safe on a zeroed or finished m. */
void message_fini(struct message *m);

/* The bytes that sig signs, into out (at least MESSAGE_TBS_MAX). Length. */
#define MESSAGE_TBS_MAX (14 + MESSAGE_RUN_MAX + 1 + 20 + 1 + 5 + 1 + 64)
size_t message_tbs(const struct message *m, char *out);

/* Set signer and sig of m by signing with the Ed25519 seed. 0, or -1. */
int message_sign(struct message *m, const unsigned char seed[32],
    struct err *e);

/*
 * Check m's signature by its signer; with want non-NULL the signer must
 * also equal want. 0, or -1 (EXIT_NO: "message signature does not verify",
 * "message from unexpected signer ed25519:...").
 */
int message_verify(const struct message *m, const unsigned char *want,
    struct err *e);

/* The JSON line for m, without newline, malloc'd (caller frees); NULL on ENOMEM. */
char *message_format(const struct message *m, size_t *len);

/* A run id: base64url of 16 bytes, from any 32-byte digest (22 characters). */
void message_run_id(char *out, const unsigned char digest[32]);

#endif
