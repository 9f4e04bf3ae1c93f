#ifndef TI_MANIFEST_H
#define TI_MANIFEST_H

#include <stddef.h>

#include <jv.h>

#include "err.h"

/*
 * The manifest: a process's identity (docs/formats.md, "Manifest"). Held
 * as a jv object; its measurement is "sha256:" + hex SHA-256 of its RFC
 * 8785 (JCS) canonical form.
 */

#define MEASUREMENT_LEN 72	/* "sha256:" + 64 hex + NUL */
#define MANIFEST_MAX (1024 * 1024)

/*
 * Load and validate a manifest file (at most MANIFEST_MAX bytes). On
 * success *m is the manifest (caller frees with jv_free). Malformed JSON or
 * a field of the wrong type or an unknown field is EXIT_DATA, naming it.
 */
int manifest_load(const char *path, jv *m, struct err *e);

/* Validate a manifest object (consumes m). 0, or -1 (EXIT_DATA). */
int manifest_check(jv m, struct err *e);

/* The JCS bytes of any JSON value (consumes v); *out malloc'd. 0, or -1. */
int manifest_canonical(jv v, char **out, size_t *len, struct err *e);

/* The measurement of m (consumes m) into out (MEASUREMENT_LEN). 0, or -1. */
int manifest_measure(jv m, char *out, struct err *e);

/*
 * 1 if s may name a jq variable or a named input: 1 to 64 of [A-Za-z0-9_],
 * not starting with a digit; 0 otherwise.
 */
int manifest_name_ok(const char *s);

#endif
