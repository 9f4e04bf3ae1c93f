#ifndef TI_TSM_H
#define TI_TSM_H

#include <stddef.h>

#include "err.h"

/*
 * Quotes through Linux configfs-tsm (TDX, SEV-SNP and CCA guests):
 * <root>/report/<entry>/{inblob,outblob,auxblob,provider,generation}.
 */

struct tsm_report {
	unsigned char *outblob;	/* the quote or report, malloc'd */
	size_t outlen;
	unsigned char *auxblob;	/* certificates (SEV-SNP), or NULL */
	size_t auxlen;
	char provider[64];	/* "tdx_guest", "sev_guest", ... */
};

/* The configfs root: $TI_TSM_ROOT, else /sys/kernel/config/tsm. */
const char *tsm_root(void);

/*
 * Create a fresh report entry under root (NULL: tsm_root()), write
 * report_data to its inblob, read outblob, auxblob and provider, check
 * that generation shows no other writer, and remove the entry. 0, or -1
 * (EXIT_IO; *r is then empty). Free r with tsm_report_fini.
 */
int tsm_quote(const char *root, const unsigned char report_data[64],
    struct tsm_report *r, struct err *e);

/* Free what r holds; r may be zeroed or already finished. */
void tsm_report_fini(struct tsm_report *r);

#endif
