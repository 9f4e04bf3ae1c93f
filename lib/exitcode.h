#ifndef TI_EXITCODE_H
#define TI_EXITCODE_H

/* Exit codes shared by every ti tool. A published code never changes meaning. */
enum exitcode {
	EXIT_OK = 0,        /* success */
	EXIT_NO = 1,        /* negative answer: does not verify, policy says no, no identity matched */
	EXIT_USAGE = 2,     /* usage error */
	EXIT_DATA = 3,      /* bad input data: malformed, truncated or tampered */
	EXIT_IO = 4,        /* system or I/O error */
	EXIT_NET = 5,       /* network error: DNS, connect, TLS, timeout */
	EXIT_VIOLATION = 6, /* compartment violation (ti-run) */
	EXIT_REFUSED = 7,   /* the remote refused: HTTP error after retries, attestation refused */
	EXIT_PARTIAL = 8,   /* partial delivery: some messages remain spooled (ti-post) */
	EXIT_PROGRAM = 9,   /* the integration process failed (ti-run) */
	EXIT_LIMIT = 10,    /* a resource limit ended the process (ti-run) */
};

#endif
