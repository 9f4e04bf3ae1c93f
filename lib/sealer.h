#ifndef TI_SEALER_H
#define TI_SEALER_H

#include <stddef.h>
#include <stdint.h>

#include "age.h"
#include "err.h"
#include "keys.h"
#include "manifest.h"

/*
 * ti-run's sealer: the process that holds a measurement's keys. It reads
 * the inputs (messages signed by an accepted sender, raw age, or plaintext
 * in development), opens them with the measurement's identity and streams
 * the plaintext to the program compartment(s); it reads the program's
 * output and seals it to the recipients, signs the messages with the
 * measurement's key and leaves them in a temporary file that the parent
 * releases only when everything succeeded.
 */

#define SEALER_MAXFROM 64
#define SEALER_MAXNAMED 32
#define SEALER_MAXJOBS 64
#define SEALER_NAMED_MAX (1024u * 1024 * 1024)	/* plaintext of a named input */

struct sealer_opts {
	/* inputs */
	int in_fd;			/* the input stream */
	int nnamed;			/* named inputs (--slurpfile) */
	int named_fd[SEALER_MAXNAMED];
	const char *named_name[SEALER_MAXNAMED];
	int plain_in;			/* inputs are plaintext */
	int from_any;			/* raw age and any signer accepted */
	int allow_empty;		/* an empty input stream is no records */
	int nfrom;
	unsigned char from[SEALER_MAXFROM][32];
	/* the program */
	int jobs;			/* workers; > 1: batched protocol */
	int prog_in[SEALER_MAXJOBS];	/* plaintext to each worker */
	int prog_out[SEALER_MAXJOBS];	/* its output */
	int prog_status[SEALER_MAXJOBS];/* its struct jqrun_status, or -1 */
	int prog_named[SEALER_MAXJOBS][SEALER_MAXNAMED];	/* named inputs */
	/* output */
	int out_fd;			/* the temporary file the parent releases */
	int plain_out;			/* write the program's output as is */
	int split;			/* one message per output line */
	size_t pad;			/* round plaintext sizes up to a multiple */
	const struct age_keys *to;	/* recipients */
	const char *measurement;
	const struct tikeys *keys;	/* NULL when nothing is sealed or opened */
};

/* What the sealer tells the parent when it ends (host order, fixed size). */
struct sealer_report {
	int32_t code;			/* exit code, 0 when all went well */
	int32_t prog_code;		/* enum jqrun_code of the first failure */
	uint64_t prog_record;		/* its global input record number */
	uint64_t records;		/* input records the program read */
	uint64_t results;		/* results it wrote */
	uint64_t bytes_in;		/* plaintext bytes delivered */
	uint64_t bytes_out;		/* plaintext bytes of output */
	uint64_t messages_in;
	uint64_t messages_out;
	char run[32];
	char msg[512];			/* one line, never data */
};

/*
 * Run the sealer with o (in its own compartment, holding o->keys) and fill
 * rep. Returns rep->code.
 */
int sealer_main(const struct sealer_opts *o, struct sealer_report *rep);

/*
 * The run id of a measurement and an input digest: base64url of the first
 * 16 bytes of HMAC-SHA256(key = seed, "ti-run/v1\n" || measurement || digest).
 */
void sealer_run_id(char out[32], const unsigned char seed[32],
    const char *measurement, const unsigned char digest[32]);

#endif
