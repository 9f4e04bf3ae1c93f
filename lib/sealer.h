#ifndef TI_SEALER_H
#define TI_SEALER_H

#include <stddef.h>
#include <stdint.h>

#include "age.h"
#include "err.h"
#include "manifest.h"

/*
 * ti-run's key-holding side, in two confined processes that never see the
 * program's address space:
 * - the opener reads the inputs (messages signed by an accepted sender,
 *   raw age, or plaintext in development), opens them with the
 *   measurement's X25519 identity and streams the plaintext to the program
 *   compartment(s); at the end it derives the run id from a keyed digest of
 *   the input and hands it to the sealer;
 * - the sealer reads the program's output in order, seals it to the
 *   recipients and writes the messages, signed with the measurement's
 *   Ed25519 key, to a temporary file that the parent releases only when
 *   every process succeeded.
 * Each is single-threaded with blocking I/O: the opener only writes to the
 * program and the sealer only reads from it, so neither can wait on the
 * other.
 */

#define SEALER_MAXFROM 64
#define SEALER_MAXNAMED 16
#define SEALER_MAXJOBS 16

struct opener_opts {
	int in_fd;			/* the input stream */
	int nnamed;			/* named inputs (--slurpfile), in order */
	int named_fd[SEALER_MAXNAMED];
	const char *named_name[SEALER_MAXNAMED];
	int plain_in;			/* inputs are plaintext */
	int from_any;			/* raw age and any signer accepted */
	int allow_empty;		/* an empty input stream is no records */
	int nfrom;
	unsigned char from[SEALER_MAXFROM][32];
	int jq;				/* workers speak struct jqrun_frame */
	int jobs;			/* workers; > 1: batches */
	int prog_in[SEALER_MAXJOBS];
	int prog_named[SEALER_MAXNAMED];/* an executable's named inputs */
	int run_fd;			/* the run id goes here (-1: none) */
	const char *measurement;
	const unsigned char *x_priv;	/* the identity (NULL: plain input) */
	const unsigned char *run_key;	/* NULL: no run id */
};

struct opener_report {
	int32_t code;			/* exit code, 0 when all went well */
	uint32_t reserved;
	uint64_t bytes_in;		/* plaintext bytes delivered */
	uint64_t messages_in;
	char msg[512];			/* one line, never data */
};

struct sealer_opts {
	int jq;				/* workers speak struct jqrun_frame */
	int jobs;
	int prog_out[SEALER_MAXJOBS];
	int out_fd;			/* the temporary file the parent releases */
	int run_fd;			/* the run id from the opener */
	int plain_out;			/* write the program's output as is */
	int split;			/* one message per output line */
	size_t pad;			/* round plaintext sizes up to a multiple */
	const struct age_keys *to;	/* recipients */
	const unsigned char *ed_seed;	/* signing key (NULL: plain output) */
};

struct sealer_report {
	int32_t code;			/* exit code, 0 when all went well */
	int32_t prog_code;		/* enum jqrun_code of a failure, -1: died */
	uint32_t prog_named;		/* its named input + 1 (JQRUN_PARSE) */
	uint32_t reserved;
	uint64_t prog_record;		/* its global input record number */
	uint64_t records;		/* input records the program read */
	uint64_t results;		/* results it wrote */
	uint64_t bytes_out;		/* plaintext bytes of output */
	uint64_t messages_out;
	char run[32];
	char msg[512];			/* one line, never data */
};

/* Run the opener with o and fill r. Returns r->code. */
int sealer_open(const struct opener_opts *o, struct opener_report *r);

/* Run the sealer with o and fill r. Returns r->code. */
int sealer_seal(const struct sealer_opts *o, struct sealer_report *r);

/* The key of run ids: HMAC-SHA256(key = seed, "ti-run/v1 run key"). */
void sealer_run_key(const unsigned char seed[32], unsigned char key[32]);

/*
 * The run id of a measurement and an input digest: base64url of the first
 * 16 bytes of HMAC-SHA256(key, "ti-run/v1\n" || measurement || digest),
 * 22 characters and a NUL.
 */
void sealer_run_id(char out[32], const unsigned char key[32],
    const char *measurement, const unsigned char digest[32]);

#endif
