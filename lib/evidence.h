#ifndef TI_EVIDENCE_H
#define TI_EVIDENCE_H

#include <stddef.h>
#include <time.h>

#include <jv.h>

#include "err.h"
#include "keys.h"

/*
 * Evidence: producing it through an attestation backend, and verifying
 * it against trust roots and a policy (docs/evidence.md).
 */

/* Default platform directory: $TI_HOME, else ~/.local/share/ti. Caller frees. */
char *evidence_home(void);

/*
 * Load the platform secret of the backend configured in home (sim: the
 * file home/platform.key, 0600) into secret. 0, or -1.
 */
int evidence_secret(const char *home, unsigned char secret[32],
    struct err *e);

/*
 * Derive the per-measurement keys of measurement from home's platform
 * secret (keys_derive). 0, or -1.
 */
int evidence_keys(const char *home, const char *measurement, struct tikeys *k,
    struct err *e);

/*
 * Produce evidence for measurement bound to nonce (and data, the SHA-256
 * of a bound body, or NULL) with home's backend. *out is the evidence as
 * one line of text (sim: a compact JWS), malloc'd. 0, or -1.
 */
int evidence_quote(const char *home, const char *measurement,
    const unsigned char *nonce, size_t noncelen, const unsigned char *data,
    char **out, struct err *e);

struct verifier;	/* opaque: trust roots, compiled policy, caches */

struct verifier_opts {
	const char *trust;	/* file of PEM or DER root certificates */
	const char *policy;	/* jq expression, or JSON object claim -> predicate */
	long max_age;		/* seconds since iat, 0: no limit */
	time_t at;		/* verification time, 0: now */
	/*
	 * Hardware evidence (zero in callers that verify only sim):
	 * format: "sim", "nitro", "sgx", "tdx" or "sev-snp", NULL: detected;
	 * collateral: sgx, tdx: file of DCAP collateral JSON, or NULL;
	 * certs: sev-snp: NULL-terminated list of files of the VCEK and the
	 * ASK (and ARK), or NULL.
	 */
	const char *format;
	const char *collateral;
	const char *const *certs;
};

/* A verifier for o; the policy is compiled once here. NULL on error. */
struct verifier *verifier_new(const struct verifier_opts *o, struct err *e);

/* Free v; NULL does nothing. */
void verifier_free(struct verifier *v);

/*
 * Verify evidence (len bytes: sim JWS, a ti-hw1 line, or native hardware
 * evidence, raw or base64) and its nonce (NULL: not checked), then the
 * policy (with the sim and debug admission rules of docs/evidence.md).
 * On success *claims is the verified claims object (caller frees), with
 * "tee" set by the verifying path, "bound", and "measurement",
 * "recipient" ("age1..."), "sig_key" ("ed25519:..."), "nonce" and "data"
 * where the evidence binds them. Native evidence binds no ti claims
 * ("bound": false); a nonce given for it is "nonce mismatch".
 * Failure is EXIT_NO with the reason ("evidence expired", "nonce mismatch",
 * "policy denied: measurement") or EXIT_DATA for malformed evidence.
 */
int verifier_check(struct verifier *v, const char *evidence, size_t len,
    const unsigned char *nonce, size_t noncelen, jv *claims, struct err *e);

#endif
