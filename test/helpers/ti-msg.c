/*
 * ti-msg: make and check ti messages in tests.
 *   ti-msg pub SEEDFILE                      signer "ed25519:..." of a seed
 *   ti-msg make SEEDFILE RUN SEQ LAST <AGE   one message line from age bytes
 *   ti-msg check SIGNER|any PREFIX <MSGS     verify each message, write its
 *                                            age bytes to PREFIX.<n>, print
 *                                            "run seq last" per message
 * SEEDFILE holds 64 hex digits (an Ed25519 seed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "io.h"
#include "keyfile.h"
#include "message.h"
#include "sig.h"

const char *PROG = "ti-msg";

static void
load_seed(const char *path, unsigned char seed[32])
{
	unsigned char *buf;
	size_t len;
	struct err e;
	unsigned int x;
	int i;

	if (keyfile_read(path, &buf, &len, &e) != 0)
		die_err(&e);
	if (len < 64)
		die(EXIT_DATA, "%s: need 64 hex digits", path);
	for (i = 0; i < 32; i++) {
		if (sscanf((char *)buf + 2 * i, "%2x", &x) != 1)
			die(EXIT_DATA, "%s: need 64 hex digits", path);
		seed[i] = (unsigned char)x;
	}
	keyfile_free(buf, len);
}

int
main(int argc, char **argv)
{
	unsigned char seed[32], pub[32], want[32];
	char s[SIG_SIGNER_LEN], name[4096];
	struct message m;
	struct err e;
	size_t len, cap = 0;
	ssize_t n;
	char *line = NULL, *out;
	uint64_t count = 0;
	FILE *f;

	if (argc == 3 && strcmp(argv[1], "pub") == 0) {
		load_seed(argv[2], seed);
		if (sig_public(seed, pub) != 0)
			die(EXIT_IO, "bad seed");
		sig_signer_string(s, pub);
		puts(s);
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "make") == 0) {
		memset(&m, 0, sizeof(m));
		load_seed(argv[2], seed);
		snprintf(m.run, sizeof(m.run), "%s", argv[3]);
		m.seq = strtoull(argv[4], NULL, 10);
		m.last = strcmp(argv[5], "true") == 0;
		if (io_slurp(NULL, MESSAGE_MAX, &m.sealed, &m.sealedlen, &e) != 0)
			die_err(&e);
		if (message_sign(&m, seed, &e) != 0)
			die_err(&e);
		if ((out = message_format(&m, &len)) == NULL)
			die(EXIT_IO, "out of memory");
		fwrite(out, 1, len, stdout);
		putchar('\n');
		free(out);
		message_fini(&m);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "check") == 0) {
		if (strcmp(argv[2], "any") != 0 &&
		    sig_signer_parse(argv[2], want, &e) != 0)
			die_err(&e);
		while ((n = getline(&line, &cap, stdin)) > 0) {
			if (message_parse(line, (size_t)n, &m, &e) != 0 ||
			    message_verify(&m, strcmp(argv[2], "any") ? want :
			    NULL, &e) != 0)
				die_err(&e);
			snprintf(name, sizeof(name), "%s.%" PRIu64, argv[3],
			    count++);
			if ((f = fopen(name, "w")) == NULL ||
			    fwrite(m.sealed, 1, m.sealedlen, f) != m.sealedlen ||
			    fclose(f) != 0)
				die_errno(EXIT_IO, "%s", name);
			printf("%s %" PRIu64 " %s\n", m.run, m.seq,
			    m.last ? "true" : "false");
			message_fini(&m);
		}
		free(line);
		return count > 0 ? 0 : EXIT_DATA;
	}
	fputs("usage: ti-msg pub SEED | make SEED RUN SEQ LAST | "
	    "check SIGNER PREFIX\n", stderr);
	return EXIT_USAGE;
}
