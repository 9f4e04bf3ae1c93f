#ifndef TI_RUNOPTS_H
#define TI_RUNOPTS_H

#include <stddef.h>

#include <jv.h>

#include "err.h"
#include "manifest.h"

/*
 * ti-run's command line: the options that describe a process (they become
 * its manifest) and the runtime options that do not (files behind named
 * inputs, --stats). Shared by ti-run and `ti-attest manifest`.
 */

#define RUNOPTS_SLURP_MAX 16

/* ti-run's option summary (for --help and usage errors). */
extern const char runopts_usage[];

struct runopts {
	jv manifest;			/* checked manifest, owned */
	char measurement[MEASUREMENT_LEN];
	const char *manifest_path;	/* --manifest FILE, or NULL */
	int print_manifest;		/* --print-manifest */
	int stats;			/* --stats */
	int help, version;		/* -h/--help, --version: nothing else set */
	struct {
		const char *name;	/* as in the manifest's "inputs" */
		const char *path;	/* the file read at run time */
	} slurp[RUNOPTS_SLURP_MAX];
	size_t nslurp;
	char *program_path;		/* manifest program.path: the file
					   as given (jq) or resolved (exec),
					   owned */
	char **exec_argv;		/* exec: program path then its
					   arguments, NULL-terminated, owned */
};

/*
 * Parse ti-run's arguments (argv[0] is the program name) into o: either a
 * manifest built from the options (reading the program to hash it, and
 * --to-file/--from key files), or one loaded with --manifest together with
 * the runtime options it allows. o->manifest is checked (manifest_check)
 * and o->measurement set. With --help or --version only that flag is set.
 * Usage errors are EXIT_USAGE; bad files EXIT_DATA or EXIT_IO. Pointers in
 * o point into argv. 0, or -1 (release with runopts_fini either way).
 */
int runopts_parse(int argc, char **argv, struct runopts *o, struct err *e);

/* Release what o owns; safe on a zeroed o. */
void runopts_fini(struct runopts *o);

/*
 * Read the program file named by manifest m (borrowed) and check its
 * SHA-256 against program.sha256: the bytes that were measured. *buf is
 * NUL-terminated, caller frees. Mismatch is EXIT_DATA. 0, or -1.
 */
int runopts_program(jv m, unsigned char **buf, size_t *len, struct err *e);

#endif
