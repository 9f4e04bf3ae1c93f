/*
 * Benchmark helper: verify one piece of evidence N times in-process
 * through the verifier (chain cached after the first) and print
 * verifications per second of wall-clock time and of CPU time (the
 * machine may be shared: CPU time is what one core does).
 *   attest-bench ROOTS POLICY EVIDENCE NONCE-B64URL N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "die.h"
#include "evidence.h"
#include "io.h"

const char *PROG = "attest-bench";

int
main(int argc, char **argv)
{
	struct verifier_opts vo = { 0 };
	struct verifier *v;
	struct timespec t0, t1, c0, c1;
	unsigned char *ev, nonce[80];
	size_t n, nl;
	struct err e;
	long i, count;
	double s, cs;
	jv claims;

	if (argc != 6)
		die(EXIT_USAGE, "usage: attest-bench ROOTS POLICY EVIDENCE NONCE N");
	vo.trust = argv[1];
	vo.policy = argv[2];
	count = atol(argv[5]);
	if (b64_decode(nonce, &nl, argv[4], strlen(argv[4]), B64_URL) != 0)
		die(EXIT_USAGE, "bad nonce");
	if (io_slurp(argv[3], 65536, &ev, &n, &e) != 0)
		die_err(&e);
	while (n > 0 && ev[n - 1] == '\n')
		n--;
	if ((v = verifier_new(&vo, &e)) == NULL)
		die_err(&e);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	for (i = 0; i < count; i++) {
		if (verifier_check(v, (char *)ev, n, nonce, nl, &claims, &e) != 0)
			die_err(&e);
		jv_free(claims);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	cs = (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
	printf("%.0f %.0f\n", (double)count / s, (double)count / cs);
	verifier_free(v);
	free(ev);
	return 0;
}
