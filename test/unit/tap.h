/* A TAP producer in ten lines, for the C unit tests (no framework). */
#include <stdio.h>
#include <stdlib.h>
const char *PROG = "unit";
static int tap_n, tap_fail;
#define ok(cond, ...) do { int ok_c = (cond); tap_n++; \
	printf("%sok %d - ", ok_c ? "" : "not ", tap_n); printf(__VA_ARGS__); \
	putchar('\n'); if (!ok_c) tap_fail++; } while (0)
#define tap_done() (printf("1..%d\n", tap_n), tap_fail ? 1 : 0)
/* Vectors from ../shared, resolved against TI_SHARED (set by runtests). */
static inline const char *shared_dir(void) { const char *s = getenv("TI_SHARED"); return s ? s : "../../../shared"; }
