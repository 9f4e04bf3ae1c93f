#ifndef TI_DCAP_H
#define TI_DCAP_H

#include <stddef.h>
#include <time.h>

#include <jv.h>
#include <openssl/x509.h>

#include "err.h"

/* Intel SGX (quote v3) and TDX (quote v4/v5) DCAP ECDSA quotes. */

/*
 * Verify a DCAP quote (n bytes): the ECDSA P-256 quote signature by the
 * attestation key, the QE report signature by the PCK certificate, the QE
 * report's binding of the attestation key, and the PCK chain (from the
 * quote's certification data) to one of roots at time at (0: now).
 * With collateral (the JSON text of docs/backends.md; NULL: none), also
 * the CRLs, TCB Info and QE Identity (their signatures, validity at at)
 * and the TCB status with its advisories; without it "tcb_status" is
 * "unknown". On success *claims is a new object ("tee": "sgx" or "tdx",
 * "measurement" = MRENCLAVE or MRTD, "debug", "tcb_status",
 * "advisories", "report_data", platform fields). EXIT_DATA for a
 * malformed quote or collateral, EXIT_NO when it does not verify.
 */
int dcap_verify(const unsigned char *quote, size_t n, STACK_OF(X509) *roots,
    const char *collateral, time_t at, jv *claims, struct err *e);

/*
 * Parse a quote's claims without verifying anything (for display and
 * fuzzing). 0, or -1 (EXIT_DATA).
 */
int dcap_parse(const unsigned char *quote, size_t n, jv *claims,
    struct err *e);

#endif
