#ifndef TI_SEALTO_H
#define TI_SEALTO_H

#include "agekey.h"
#include "err.h"

/*
 * Sealing to an attested process: the recipient its verified evidence
 * binds (docs/evidence.md). Used by `ti-seal seal --evidence`.
 */
struct sealto_opts {
	const char *evidence;		/* file of evidence, "-": stdin */
	const char *trust;		/* file of PEM or DER roots */
	const char *policy;		/* policy text, or NULL */
	const char *policy_file;	/* file of policy text, or NULL */
	const char *nonce;		/* base64url, to be bound, or NULL */
};

/*
 * Verify the evidence of o (verifier_check, with o's nonce) and copy the
 * age recipient it binds into out. 0, or -1: EXIT_USAGE for bad options
 * (no or two policies, a malformed nonce), EXIT_NO when verification,
 * the nonce or the policy says no or the evidence binds no recipient,
 * EXIT_DATA for malformed evidence, EXIT_IO for unreadable files.
 */
int sealto_recipient(const struct sealto_opts *o, char out[AGE_RECIPIENT_LEN],
    struct err *e);

#endif
