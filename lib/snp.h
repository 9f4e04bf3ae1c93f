#ifndef TI_SNP_H
#define TI_SNP_H

#include <stddef.h>
#include <time.h>

#include <jv.h>
#include <openssl/x509.h>

#include "err.h"

/* AMD SEV-SNP attestation reports (docs/backends.md). */

#define SNP_REPORT_LEN 0x4a0

/*
 * Verify an SEV-SNP ATTESTATION_REPORT (n bytes, versions 2 to 5): its
 * ECDSA P-384 signature by the VCEK in certs (the first certificate with
 * an EC key; the others, ASK and ARK, serve as intermediates), the VCEK's
 * TCB and chip ID against the report, and the chain VCEK -> ASK -> one of
 * roots at time at (0: now). On success *claims is a new object ("tee":
 * "sev-snp", "measurement", "report_data", "debug", "policy", TCB
 * versions, ...). EXIT_DATA for a malformed report, EXIT_NO with the
 * reason when it does not verify.
 */
int snp_verify(const unsigned char *report, size_t n, STACK_OF(X509) *certs,
    STACK_OF(X509) *roots, time_t at, jv *claims, struct err *e);

/*
 * Parse the claims of a report without verifying anything (for display
 * and fuzzing). 0, or -1 (EXIT_DATA).
 */
int snp_parse(const unsigned char *report, size_t n, jv *claims,
    struct err *e);

/*
 * The certificates of a blob as a guest gets them next to its report:
 * PEM or DER certificates, or the SNP certificate table of GUIDs
 * (configfs-tsm auxblob, SNP_GET_EXT_REPORT). Caller frees the stack.
 */
int snp_certs_parse(const unsigned char *b, size_t n, STACK_OF(X509) **out,
    struct err *e);

#endif
