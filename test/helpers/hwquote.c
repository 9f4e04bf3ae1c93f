/*
 * hwquote: obtain evidence through a quoting backend of lib/ (tsm, sgx
 * via Gramine, nitro via the NSM) for report_data, given in hex or bound
 * to a nonce, measurement and keys; the raw evidence goes to stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "die.h"
#include "gramine.h"
#include "hwevidence.h"
#include "io.h"
#include "nitro.h"
#include "tsm.h"

const char *PROG = "hwquote";

#define USAGE "usage: hwquote tsm|sgx|nitro [--report-data HEX]\n" \
	"    [--nonce B64URL --manifest-digest M --recipient R --sig-key K]\n" \
	"    [--aux FILE]\n"

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "report-data", required_argument, NULL, 'd' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "manifest-digest", required_argument, NULL, 'M' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "sig-key", required_argument, NULL, 'k' },
		{ "aux", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char rd[64], nonce[256], *out = NULL;
	const char *hexrd = NULL, *n64 = NULL, *m = NULL, *r = NULL, *k = NULL;
	const char *aux = NULL;
	size_t nn = 0, n = 0, i;
	struct tsm_report tr;
	struct err e = { 0, "" };
	struct outfile of;
	unsigned v;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': hexrd = optarg; break;
		case 'n': n64 = optarg; break;
		case 'M': m = optarg; break;
		case 'r': r = optarg; break;
		case 'k': k = optarg; break;
		case 'a': aux = optarg; break;
		case 'h':
			fputs(USAGE, stdout);
			return 0;
		default:
			die_usage(USAGE, "unknown option");
		}
	}
	if (argc - optind != 1)
		die_usage(USAGE, "name one backend");
	memset(rd, 0, sizeof(rd));
	if (hexrd != NULL) {
		if (strlen(hexrd) > 128 || strlen(hexrd) % 2)
			die_usage(USAGE, "bad --report-data");
		for (i = 0; i < strlen(hexrd) / 2; i++) {
			if (sscanf(hexrd + 2 * i, "%2x", &v) != 1)
				die_usage(USAGE, "bad --report-data");
			rd[i] = (unsigned char)v;
		}
	} else if (n64 != NULL) {
		if (strlen(n64) > 300 || b64_decode(nonce, &nn, n64,
		    strlen(n64), B64_URL) != 0)
			die_usage(USAGE, "bad --nonce");
		if (hwevidence_binding(nonce, nn, m, r, k, NULL, rd, &e) != 0)
			die_err(&e);
	}
	if (strcmp(argv[optind], "tsm") == 0) {
		if (tsm_quote(NULL, rd, &tr, &e) != 0)
			die_err(&e);
		fprintf(stderr, "hwquote: provider %s\n", tr.provider);
		if (aux != NULL && tr.auxblob != NULL) {
			if (outfile_open(&of, aux, 0644, &e) != 0 ||
			    fwrite(tr.auxblob, 1, tr.auxlen, of.fp) !=
			    tr.auxlen || outfile_commit(&of, &e) != 0)
				die_err(&e);
		}
		out = tr.outblob;
		n = tr.outlen;
		tr.outblob = NULL;
		tsm_report_fini(&tr);
	} else if (strcmp(argv[optind], "sgx") == 0) {
		if (gramine_quote(NULL, rd, &out, &n, &e) != 0)
			die_err(&e);
	} else if (strcmp(argv[optind], "nitro") == 0) {
		if (nitro_quote(rd, &out, &n, &e) != 0)
			die_err(&e);
	} else
		die_usage(USAGE, "unknown backend %s", argv[optind]);
	if (writeall(STDOUT_FILENO, out, n) != 0)
		die_errno(EXIT_IO, "stdout");
	free(out);
	close_stdout();
	return 0;
}
