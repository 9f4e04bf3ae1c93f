#ifndef TI_ATTESTED_H
#define TI_ATTESTED_H

#include "agekey.h"
#include "err.h"

/*
 * The age recipient an attested process holds: verify the evidence in
 * the file path ("-": stdin) against the roots in trust and the policy
 * (verifier_check, no nonce), then copy its "recipient" claim into out.
 * 0, or -1: EXIT_NO when verification or the policy says no, EXIT_DATA
 * for malformed evidence or a missing recipient claim.
 */
int attested_recipient(const char *path, const char *trust,
    const char *policy, char out[AGE_RECIPIENT_LEN], struct err *e);

#endif
