#ifndef TI_HWEVIDENCE_H
#define TI_HWEVIDENCE_H

#include <stddef.h>
#include <time.h>

#include <jv.h>
#include <openssl/x509.h>

#include "err.h"

/*
 * What hardware evidence verifiers share: format detection, trust roots,
 * certificate chains at a given time, the report_data binding rule and
 * the EAR-shaped result (docs/backends.md).
 */

enum hwev_format {
	HWEV_UNKNOWN = 0,
	HWEV_SIM,	/* compact JWS */
	HWEV_NITRO,	/* COSE_Sign1 attestation document */
	HWEV_SGX,	/* DCAP quote v3 */
	HWEV_TDX,	/* DCAP quote v4/v5, tee_type 0x81 */
	HWEV_SNP,	/* SEV-SNP ATTESTATION_REPORT */
};

/* Largest evidence any verifier accepts, raw or base64. */
#define HWEV_MAX (1 << 20)

/* The format of b (raw bytes, or their base64/base64url text). */
int hwevidence_detect(const unsigned char *b, size_t n);

/* The tee name of a format ("nitro", "sgx", ...), "unknown" otherwise. */
const char *hwevidence_name(int format);

/* The format named s (as --format takes it), HWEV_UNKNOWN if none. */
int hwevidence_format(const char *s);

/*
 * Raw bytes of evidence b: b itself when it is binary, otherwise its
 * base64 or base64url decoding (whitespace ignored). *out is malloc'd,
 * caller frees. 0, or -1 (EXIT_DATA).
 */
int hwevidence_raw(const unsigned char *b, size_t n, unsigned char **out,
    size_t *outlen, struct err *e);

/*
 * Load every certificate of path (PEM, several allowed, or one DER) into
 * a new stack. Caller frees with sk_X509_pop_free(s, X509_free). 0, or -1.
 */
int hwevidence_certs_load(const char *path, STACK_OF(X509) **out,
    struct err *e);

/* As hwevidence_certs_load, from n bytes in memory. */
int hwevidence_certs_parse(const unsigned char *b, size_t n,
    STACK_OF(X509) **out, struct err *e);

/*
 * Verify leaf up to one of roots at time at (0: now), with untrusted
 * intermediates (may be NULL) and CRLs (NULL: no revocation check; else
 * every certificate of the chain must have a current CRL). Failure is
 * EXIT_NO "<what>: certificate chain: <reason>".
 */
int hwevidence_chain(const char *what, X509 *leaf, STACK_OF(X509) *untrusted,
    STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls, time_t at,
    struct err *e);

/* Parse RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z" into *t. 0, or -1. */
int hwevidence_time(const char *s, time_t *t);

/*
 * Read one DER element at *p (before end): its tag byte, its contents and
 * their length; *p moves past it. Definite lengths only. 0, or -1.
 */
int hwevidence_der(const unsigned char **p, const unsigned char *end,
    int *tag, const unsigned char **val, size_t *len);

/* Lower-case hex of n bytes as a jv string. */
jv hwevidence_hex(const unsigned char *b, size_t n);

/*
 * The report_data binding of DESIGN.md, 32 bytes:
 *   SHA-256("ti-attest/v1" || SHA-256(nonce) || measurement digest (32) ||
 *           recipient X25519 key (32) || sig_key Ed25519 key (32) ||
 *           data (32, zeros when absent))
 * measurement is "sha256:<hex>", recipient "age1...", sig_key
 * "ed25519:<base64url>". 0, or -1 (EXIT_DATA on a malformed field).
 */
int hwevidence_binding(const unsigned char *nonce, size_t noncelen,
    const char *measurement, const char *recipient, const char *sig_key,
    const unsigned char *data, unsigned char out[32], struct err *e);

/*
 * Check the binding of claims (its "report_data" hex) against the given
 * fields; returns claims with "bound" set to true when the first 32 bytes
 * of report_data equal the binding (the rest must be zero), false when no
 * nonce was given. A given binding that does not match is EXIT_NO
 * "report_data does not bind the nonce, measurement and keys" (claims freed,
 * jv_invalid returned). Consumes claims.
 */
jv hwevidence_bind(jv claims, const unsigned char *nonce, size_t noncelen,
    const char *measurement, const char *recipient, const char *sig_key,
    const unsigned char *data, struct err *e);

/* What a hardware verifier needs besides the evidence. */
struct hwev_opts {
	STACK_OF(X509) *roots;	/* trusted roots */
	STACK_OF(X509) *certs;	/* sev-snp: VCEK, ASK (and ARK); else NULL */
	const char *collateral;	/* sgx, tdx: collateral JSON, or NULL */
	time_t at;		/* verification time, 0: now */
};

/*
 * Verify hardware evidence b (raw or base64) of format (HWEV_UNKNOWN:
 * detected) with the verifier of its platform. On success *claims is a
 * new claims object whose "tee" is the format that verified it.
 * EXIT_DATA for malformed or unknown evidence, EXIT_NO with the reason
 * when it does not verify.
 */
int hwevidence_verify(int format, const unsigned char *b, size_t n,
    const struct hwev_opts *o, jv *claims, struct err *e);

/*
 * An EAR-shaped attestation result (draft-ietf-rats-ear) for verified
 * claims, with the trust tier from tee, debug and tcb_status: affirming,
 * warning or contraindicated. Consumes claims.
 */
jv hwevidence_ear(jv claims, time_t at);

#endif
