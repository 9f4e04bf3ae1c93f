#ifndef TI_NITRO_H
#define TI_NITRO_H

#include <stddef.h>
#include <time.h>

#include <jv.h>
#include <openssl/x509.h>

#include "err.h"

/* AWS Nitro Enclaves attestation documents (docs/backends.md). */

/*
 * Verify a Nitro attestation document (COSE_Sign1, tagged or not): the
 * protected header's algorithm (ES384), the ES384 signature over the
 * Sig_structure by the document's certificate, and that certificate's
 * chain through the cabundle to one of roots at time at (0: now). On
 * success *claims is a new object ("tee": "nitro", "measurement" = PCR0,
 * "pcrs", "debug" (PCR0-2 all zero), "report_data" = user_data,
 * "public_key", "user_data", "nonce", "module_id", "timestamp").
 * EXIT_DATA for a malformed document, EXIT_NO when it does not verify.
 */
int nitro_verify(const unsigned char *doc, size_t n, STACK_OF(X509) *roots,
    time_t at, jv *claims, struct err *e);

/*
 * Parse a document's payload into claims without verifying anything (for
 * display and fuzzing). 0, or -1 (EXIT_DATA).
 */
int nitro_parse(const unsigned char *doc, size_t n, jv *claims,
    struct err *e);

/*
 * One request to the NSM: send req (CBOR), receive the CBOR response into
 * resp (capacity *resplen, set to the length received). 0, or -1.
 */
typedef int (*nitro_xfer_fn)(void *ctx, const unsigned char *req,
    size_t reqlen, unsigned char *resp, size_t *resplen, struct err *e);

/* The NSM response buffer size (NSM_RESPONSE_MAX_SIZE). */
#define NITRO_RESPONSE_MAX 0x3000

/*
 * The /dev/nsm transport for nitro_quote_with: ctx is the device path
 * (NULL: $TI_NSM_DEV, else /dev/nsm); one NSM_IOCTL_RAW per request.
 */
int nitro_xfer_dev(void *ctx, const unsigned char *req, size_t reqlen,
    unsigned char *resp, size_t *resplen, struct err *e);

/*
 * Ask the NSM through xfer for an attestation document carrying
 * user_data, nonce and public_key (each NULL to omit). *doc is the
 * document (COSE_Sign1 bytes), malloc'd, caller frees. 0, or -1 (the
 * NSM's error code in the message).
 */
int nitro_quote_with(nitro_xfer_fn xfer, void *ctx,
    const unsigned char *user_data, size_t udlen, const unsigned char *nonce,
    size_t noncelen, const unsigned char *public_key, size_t pklen,
    unsigned char **doc, size_t *n, struct err *e);

/* nitro_quote_with over /dev/nsm (or $TI_NSM_DEV), report_data as user_data. */
int nitro_quote(const unsigned char report_data[64], unsigned char **doc,
    size_t *n, struct err *e);

#endif
