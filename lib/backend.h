#ifndef TI_BACKEND_H
#define TI_BACKEND_H

#include <stddef.h>
#include <time.h>

#include <jv.h>
#include <openssl/x509.h>

#include "err.h"

/*
 * Attestation backends: what differs between TEEs when producing
 * evidence. A backend keeps its state in a platform directory ("home",
 * $TI_HOME), whose file "backend" names it (one line, e.g. "sim").
 *
 * Evidence binds the claims of struct attest_claims. A JWS backend (sim)
 * signs them as JWT claims; a hardware backend puts attest_report_data()
 * into its native report_data/user_data field and returns its native
 * evidence, encoded as one line of text (e.g. base64url).
 *
 * To add a backend: implement the functions below in lib/<name>.c, declare
 * its `const struct attest_backend` in this header and list it in
 * attest_backends[] (lib/backend.c).
 */

#define ATTEST_NONCE_MAX 64	/* longest nonce, in bytes */

/* What a piece of evidence binds. All strings are NUL-terminated ASCII. */
struct attest_claims {
	const char *measurement;	/* "sha256:<64 hex>" */
	const char *recipient;		/* "age1..." */
	const char *sig_key;		/* "ed25519:..." */
	const unsigned char *nonce;	/* 1 to ATTEST_NONCE_MAX bytes */
	size_t noncelen;
	const unsigned char *data;	/* SHA-256 of a bound body, or NULL */
};

struct attest_backend {
	const char *name;	/* "sim", "tsm", "nitro", "sgx" */

	/*
	 * Create a new platform in home (an existing, empty or new 0700
	 * directory); never overwrite one (EXIT_NO "platform already
	 * exists"). NULL if the platform needs no set-up. 0, or -1.
	 */
	int (*init)(const char *home, struct err *e);

	/*
	 * The platform secret from which per-measurement keys are derived
	 * (keys_derive): sim reads home/platform.key; hardware backends
	 * derive it inside the TEE. 0, or -1 (secret wiped).
	 */
	int (*secret)(const char *home, unsigned char secret[32],
	    struct err *e);

	/* Evidence binding c as one line of text, malloc'd. 0, or -1. */
	int (*quote)(const char *home, const struct attest_claims *c,
	    char **out, struct err *e);
};

extern const struct attest_backend attest_sim;

/* Every compiled-in backend, NULL-terminated. */
extern const struct attest_backend *const attest_backends[];

/* The backend called name, or NULL. */
const struct attest_backend *attest_backend_find(const char *name);

/*
 * The backend of home: the name in home/backend, or "sim" when the file
 * is absent. NULL with e filled if unknown or unreadable.
 */
const struct attest_backend *attest_backend_of(const char *home,
    struct err *e);

/*
 * The 32 bytes hardware evidence carries in its report_data (zero-padded
 * where the field is 64 bytes):
 *   SHA-256("ti-attest/v1" || SHA-256(nonce) || measurement (71 bytes)
 *           || x25519 public key (32) || ed25519 public key (32)
 *           || flag (1: 0x00 no data, 0x01 data) || data (32, zeros if none))
 * 0, or -1 (EXIT_DATA) if a claim is malformed.
 */
int attest_report_data(const struct attest_claims *c, unsigned char out[32],
    struct err *e);

/*
 * Checking evidence of one format. The verifier (evidence.h) tries each
 * entry of attest_verifiers[] whose match() accepts the text, then checks
 * times, nonce and policy itself. verify() checks the evidence's chain to
 * one of roots at time at and its signature, and that the claims it returns
 * are the ones the evidence binds (hardware: recompute attest_report_data
 * and compare). On success *claims is an object with "measurement",
 * "recipient", "sig_key", "nonce" (base64url), "iat", "exp" and "data"
 * (hex) if bound; "tee" is set by the caller from the entry's tee, never
 * taken from the evidence. Failure: EXIT_NO for a verification failure,
 * EXIT_DATA for malformed evidence.
 */
struct attest_verifier {
	const char *tee;	/* "sim", "sgx", "tdx", "sev-snp", "nitro" */
	int (*match)(const char *evidence, size_t len);
	int (*verify)(void *cache, const char *evidence, size_t len,
	    STACK_OF(X509) *roots, time_t at, jv *claims, struct err *e);
	void *(*cache_new)(void);	/* per-verifier state, or NULL */
	void (*cache_free)(void *cache);
};

extern const struct attest_verifier attest_verify_sim;

/* Every compiled-in evidence format, NULL-terminated. */
extern const struct attest_verifier *const attest_verifiers[];

#endif
