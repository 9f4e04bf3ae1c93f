#ifndef TI_JQRUN_H
#define TI_JQRUN_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "err.h"

/*
 * A jq program run by libjq inside ti-run's program compartment. The
 * program reads plaintext JSON values (a stream, or NDJSON) from one fd and
 * writes results as `jq -c` prints them (or raw strings with -r) to
 * another. Nothing is ever read from the file system: no HOME, no module
 * search path, and `import`, `include` and `modulemeta` are refused.
 *
 * Between ti-run's processes and a jq worker everything is framed: a
 * struct jqrun_frame header (host order) then len bytes. To the worker:
 * each named input as NAMED frames closed by NAMED_END (in the order of
 * the manifest's inputs), then the records as DATA frames, with BATCH
 * marking the end of a batch (--jobs: batches end on record boundaries, see
 * struct jqrun_split), then END. From the worker: DATA frames of output, a
 * BATCH frame (8 bytes: the batch's record count) after each batch's
 * output, and one STATUS frame (struct jqrun_status) last.
 */

enum jqrun_frame_type {
	JQRUN_F_DATA = 1,
	JQRUN_F_BATCH,
	JQRUN_F_END,
	JQRUN_F_NAMED,
	JQRUN_F_NAMED_END,
	JQRUN_F_STATUS,
};

struct jqrun_frame {
	uint32_t type;
	uint32_t len;
};

enum jqrun_code {
	JQRUN_OK = 0,
	JQRUN_ERROR,	/* an uncaught jq error */
	JQRUN_HALT,	/* halt_error, or halt with a non-zero status */
	JQRUN_PARSE,	/* input is not valid JSON */
	JQRUN_FALSE,	/* -e: the last output was false or null */
	JQRUN_NOOUT,	/* -e: no output */
	JQRUN_IO,	/* reading or writing a pipe failed */
	JQRUN_COMPILE,	/* the program does not compile */
};

/* What a worker reports on its status fd when it ends (host order). */
struct jqrun_status {
	uint32_t code;		/* enum jqrun_code */
	uint32_t named;		/* JQRUN_PARSE of named input named - 1 */
	uint64_t record;	/* 1-based record being processed (in its batch) */
	uint64_t records;	/* records read in all */
	uint64_t results;	/* results written in all */
};

struct jqrun_opts {
	int raw_output;		/* -r */
	int null_input;		/* -n */
	int slurp;		/* -s */
	int exit_status;	/* -e */
	int stderr_pass;	/* debug messages to stderr, else dropped */
	int nnamed;		/* named inputs, bound to $name */
	const char *const *names;
};

/*
 * Refuse programs that could read anything but their input: the keywords
 * import and include and the builtin modulemeta, outside strings and
 * comments. 0, or -1 (EXIT_USAGE naming the word).
 */
int jqrun_check(const char *prog, struct err *e);

/*
 * The worker: read the named inputs from in, compile prog with vars (an
 * object name -> value: --arg, --argjson; consumed), the named inputs as
 * arrays and positional arguments (an array; consumed), as jq 1.6 does, so
 * $name, $ARGS.named and $ARGS.positional are set; then run it over the
 * records from in, writing results and finally its status to out. Returns
 * the exit status for the worker: 0 when all went well, 9 otherwise. Meant
 * for the program compartment: call it in a process of its own.
 */
int jqrun_main(const char *prog, jv vars, jv positional,
    const struct jqrun_opts *o, int in, int out);

/*
 * Splitting a JSON text stream into batches of whole values: a newline
 * outside strings at nesting depth 0 always ends a value. The state
 * carries over between calls.
 */
struct jqrun_split {
	int depth;
	int instr;
	int esc;
};

/*
 * Scan n bytes of buf continuing from s; return the length of the longest
 * prefix that ends with a value-ending newline (0 if none). s is advanced
 * over all n bytes.
 */
size_t jqrun_split_scan(struct jqrun_split *s, const unsigned char *buf,
    size_t n);

#endif
