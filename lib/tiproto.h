#ifndef TI_TIPROTO_H
#define TI_TIPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jv.h>

#include "err.h"

/*
 * The HTTP protocol of docs/protocol.md, without HTTP: header parsing and
 * formatting for both sides, and for services the nonce store and
 * session tokens. No I/O; the nonce store is safe to share between
 * threads.
 */

#define TIPROTO_MEDIA "application/vnd.ti.message+json"
#define TIPROTO_NONCE_LEN 32		/* bytes */
#define TIPROTO_NONCE_B64 44		/* 43 base64url characters + NUL */
#define TIPROTO_TOKEN_MAX 1025		/* longest session token + NUL */
#define TIPROTO_NONCE_TTL 60		/* seconds, ti's default */
#define TIPROTO_SESSION_TTL 600		/* seconds, ti's default */

/* The schemes of an Authorization header. */
enum tiproto_scheme {
	TIPROTO_NONE = 0,	/* no header */
	TIPROTO_ATTEST,		/* TI-Attest <evidence> */
	TIPROTO_SESSION,	/* TI-Session <token> */
	TIPROTO_BAD,		/* anything else, or a malformed credential */
};

/*
 * Classify an Authorization header value (NULL: TIPROTO_NONE). For
 * ATTEST and SESSION, *cred points into hdr at the credential and
 * *credlen is its length (a token68: no spaces, no commas).
 */
enum tiproto_scheme tiproto_auth_parse(const char *hdr, const char **cred,
    size_t *credlen);

/* `TI-Attest nonce="<nonce>"` into out (at least 64 bytes). */
void tiproto_challenge_format(char *out, size_t n, const char *nonce);

/*
 * Find the TI-Attest challenge in a WWW-Authenticate value and copy its
 * nonce (43 base64url characters) into nonce. 0, or -1 if there is none
 * or it is malformed.
 */
int tiproto_challenge_parse(const char *hdr, char nonce[TIPROTO_NONCE_B64]);

/* A new random nonce, as base64url, into out. 0, or -1 (no randomness). */
int tiproto_nonce_new(char out[TIPROTO_NONCE_B64]);

/*
 * Decode a nonce as sent in TI-Nonce: base64url of min..max bytes (32..32
 * for an attestation, 16..64 for a session request). 0, or -1.
 */
int tiproto_nonce_decode(const char *s, size_t min, size_t max,
    unsigned char *raw, size_t *rawlen);

/*
 * Idempotency-Key: parse "<run>.<seq>" (base64url run of at most
 * MESSAGE_RUN_MAX characters, decimal seq without leading zeros) into
 * run (MESSAGE_RUN_MAX + 1 bytes) and *seq. 0, or -1.
 */
int tiproto_idem_parse(const char *s, char *run, uint64_t *seq);

/* The status of a TI-Error code of docs/protocol.md section 6; 500 if unknown. */
int tiproto_error_status(const char *code);

/* Nonces a service issued: single use, bounded lifetime. Opaque. */
struct tiproto_nonces;

/* Outcomes of tiproto_nonce_consume, with their TI-Error codes. */
enum tiproto_nonce_state {
	TIPROTO_NONCE_OK = 0,
	TIPROTO_NONCE_UNKNOWN,		/* "nonce-unknown" */
	TIPROTO_NONCE_REPLAYED,		/* "nonce-replayed" */
	TIPROTO_NONCE_EXPIRED,		/* "nonce-expired" */
};

/*
 * A store of up to cap outstanding nonces, each valid ttl seconds
 * (0: TIPROTO_NONCE_TTL). When full, the oldest is forgotten. NULL on
 * ENOMEM.
 */
struct tiproto_nonces *tiproto_nonces_new(size_t cap, long ttl);

/* Free s; NULL does nothing. */
void tiproto_nonces_free(struct tiproto_nonces *s);

/* Issue a new nonce (base64url into out), valid from now. 0, or -1. */
int tiproto_nonces_issue(struct tiproto_nonces *s, time_t now,
    char out[TIPROTO_NONCE_B64]);

/*
 * Consume the nonce b64 presented at now: TIPROTO_NONCE_OK the first time
 * within its lifetime, then TIPROTO_NONCE_REPLAYED; EXPIRED or UNKNOWN
 * otherwise. A consumed nonce is never OK again.
 */
enum tiproto_nonce_state tiproto_nonces_consume(struct tiproto_nonces *s,
    const char *b64, time_t now);

/* The TI-Error code of a nonce state ("nonce-unknown", ...); NULL for OK. */
const char *tiproto_nonce_error(enum tiproto_nonce_state st);

/* What a session is bound to (docs/protocol.md section 3.4). */
struct tiproto_session {
	unsigned char sig_key[32];	/* Ed25519 public key */
	unsigned char recipient[32];	/* X25519 public key */
	unsigned char mdigest[32];	/* the measurement's SHA-256 */
	char tee[17];			/* NUL-terminated */
	int64_t expires;		/* Unix seconds */
};

/*
 * Fill s from verified claims (consumes claims): "sig_key", "recipient",
 * "measurement", "tee"; expires = now + ttl (0: TIPROTO_SESSION_TTL).
 * 0, or -1 (EXIT_DATA, naming the claim).
 */
int tiproto_session_from_claims(jv claims, time_t now, long ttl,
    struct tiproto_session *s, struct err *e);

/* The measurement string "sha256:<hex>" of s into out (72 bytes). */
void tiproto_session_measurement(const struct tiproto_session *s, char *out);

/* The token for s, MAC'd with the service's 32-byte key, into out. */
void tiproto_session_token(const unsigned char key[32],
    const struct tiproto_session *s, char out[TIPROTO_TOKEN_MAX]);

/*
 * Check a token of len bytes presented at now: 0 and s filled if it is
 * ours and unexpired, -1 otherwise (the answer is "session-expired").
 */
int tiproto_session_check(const unsigned char key[32], const char *token,
    size_t len, time_t now, struct tiproto_session *s);

#endif
