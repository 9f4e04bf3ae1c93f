#ifndef TI_JSONIO_H
#define TI_JSONIO_H

#include <stddef.h>

#include <jv.h>

#include "err.h"

/*
 * Parse exactly one JSON value from n bytes (trailing whitespace allowed,
 * a second value is an error). Returns the value, or an invalid jv; with e
 * non-NULL a failure also fills e (EXIT_DATA, "what: reason"). Note: jq
 * 1.6's parser leaks the value before an "Expected separator" error; the
 * sanitizer suppressions in test/lsan.supp name that one library leak.
 */
jv jsonio_parse(const char *buf, size_t n, const char *what, struct err *e);

#endif
