#ifndef TI_POLICY_H
#define TI_POLICY_H

#include <jv.h>

#include "err.h"

/*
 * Policies over verified claims (docs/evidence.md, "Policy"): either a jq
 * expression that must yield exactly one `true`, or a JSON object mapping
 * claim names to jq predicates, each applied to that claim's value, so that
 * a denial names the claims that failed. libjq compiles them with no HOME,
 * no library search path, and refuses import/include and the builtins that
 * read anything but the claims (env, $ENV, input, now, ...).
 */

struct policy;

/* Compile text. NULL with e filled (EXIT_USAGE) if it does not compile. */
struct policy *policy_new(const char *text, struct err *e);

/* Free p; NULL does nothing. */
void policy_free(struct policy *p);

/*
 * Evaluate p on claims (borrowed). 0 if it admits; -1 with EXIT_NO
 * otherwise: "policy denied: measurement, tee" (object) or
 * "policy denied: <why>" (expression: not true, several values, error).
 */
int policy_check(struct policy *p, jv claims, struct err *e);

#endif
