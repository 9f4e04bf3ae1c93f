#ifndef TI_GRAMINE_H
#define TI_GRAMINE_H

#include <stddef.h>

#include "err.h"

/*
 * SGX quotes through Gramine's /dev/attestation pseudo-files:
 * attestation_type ("dcap"), user_report_data (write 64 bytes), quote.
 */

/* The pseudo-file directory: $TI_GRAMINE_ROOT, else /dev/attestation. */
const char *gramine_root(void);

/*
 * Write report_data to root/user_report_data (root NULL: gramine_root())
 * and read the DCAP quote from root/quote into *quote (malloc'd, caller
 * frees). Refuses an attestation_type other than "dcap". 0, or -1.
 */
int gramine_quote(const char *root, const unsigned char report_data[64],
    unsigned char **quote, size_t *n, struct err *e);

#endif
