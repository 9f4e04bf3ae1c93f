/* ti-seal: age-compatible keys, sealing and opening. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age.h"
#include "die.h"
#include "io.h"
#include "keyfile.h"
#include "passphrase.h"
#include "sealto.h"
#include "version.h"

const char *PROG = "ti-seal";

#define USAGE \
"usage: ti-seal keygen [-o FILE]\n" \
"       ti-seal pubkey [-i FILE]\n" \
"       ti-seal seal (-r RECIPIENT | -R FILE)... [-a] [-o OUT] [IN]\n" \
"       ti-seal seal --evidence FILE --trust ROOTS\n" \
"                    (--policy EXPR | --policy-file FILE) [--nonce B64URL]\n" \
"                    [-a] [-o OUT] [IN]\n" \
"       ti-seal seal -p [--passphrase-file FILE] [--work-factor N] [-a]\n" \
"                    [-o OUT] [IN]\n" \
"       ti-seal open (-i FILE)... [-p] [--passphrase-file FILE] [-o OUT]\n" \
"                    [IN]\n"

#define MAXARGS 64

struct opts {
	const char *cmd, *out, *in, *passfile, *evidence, *trust, *policy;
	const char *policy_file, *nonce;
	const char *r[MAXARGS], *R[MAXARGS], *i[MAXARGS];
	int nr, nR, ni, pass, armor, log2n;
};

static void
add(const char **v, int *n, const char *s)
{
	if (*n == MAXARGS)
		die_usage(USAGE, "too many keys (max %d)", MAXARGS);
	v[(*n)++] = s;
}

static void
parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "recipient", required_argument, NULL, 'r' },
		{ "recipients-file", required_argument, NULL, 'R' },
		{ "identity", required_argument, NULL, 'i' },
		{ "passphrase", no_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "work-factor", required_argument, NULL, 'w' },
		{ "armor", no_argument, NULL, 'a' },
		{ "evidence", required_argument, NULL, 'E' },
		{ "trust", required_argument, NULL, 'T' },
		{ "policy", required_argument, NULL, 'Q' },
		{ "policy-file", required_argument, NULL, 'F' },
		{ "nonce", required_argument, NULL, 'N' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "r:R:i:pao:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': add(o->r, &o->nr, optarg); break;
		case 'R': add(o->R, &o->nR, optarg); break;
		case 'i': add(o->i, &o->ni, optarg); break;
		case 'p': o->pass = 1; break;
		case 'P': o->pass = 1; o->passfile = optarg; break;
		case 'w': o->log2n = atoi(optarg);
			if (o->log2n < 1 || o->log2n > 22)
				die_usage(USAGE, "--work-factor: 1 to 22");
			break;
		case 'a': o->armor = 1; break;
		case 'E': o->evidence = optarg; break;
		case 'T': o->trust = optarg; break;
		case 'Q': o->policy = optarg; break;
		case 'F': o->policy_file = optarg; break;
		case 'N': o->nonce = optarg; break;
		case 'o': o->out = optarg; break;
		case 'h': fputs(USAGE, stdout); close_stdout(); exit(0);
		case 'V': puts("ti-seal " TI_VERSION); close_stdout(); exit(0);
		default: die_usage(USAGE, "unknown option");
		}
	}
	if (optind < argc)
		o->in = argv[optind++];
	if (optind < argc)
		die_usage(USAGE, "too many arguments");
}

static void
fail(struct age_keys *k, struct outfile *of, const struct err *e)
{
	if (of != NULL)
		outfile_abort(of);
	age_keys_free(k);
	die_err(e);
}

static void
keys(const struct opts *o, struct age_keys *k, int sealing)
{
	char pass[PASSPHRASE_MAX], att[AGE_RECIPIENT_LEN];
	struct sealto_opts so = { o->evidence, o->trust, o->policy,
	    o->policy_file, o->nonce };
	struct err e;
	int j, rc = 0;

	/* Verify first: nothing is sealed to evidence that does not verify. */
	if (o->evidence != NULL && (sealto_recipient(&so, att, &e) != 0 ||
	    age_add_recipient(k, att, &e) != 0))
		fail(k, NULL, &e);

	for (j = 0; j < o->nr && rc == 0; j++)
		rc = age_add_recipient(k, o->r[j], &e);
	for (j = 0; j < o->nR && rc == 0; j++)
		rc = age_add_recipients_file(k, o->R[j], &e);
	for (j = 0; j < o->ni && rc == 0; j++)
		rc = age_add_identity_file(k, o->i[j], &e);
	if (rc == 0 && o->pass) {
		if (o->passfile != NULL)
			rc = passphrase_file(o->passfile, pass, sizeof(pass),
			    &e);
		else
			rc = passphrase_tty("Enter passphrase: ", sealing, pass,
			    sizeof(pass), &e);
		if (rc == 0)
			rc = age_add_passphrase(k, pass, o->log2n, &e);
		wipe(pass, sizeof(pass));
	}
	if (rc != 0)
		fail(k, NULL, &e);
}

static void
filter(const struct opts *o, struct age_keys *k, int sealing)
{
	struct outfile of;
	struct err e;
	FILE *in = stdin;
	int rc;

	if (o->in != NULL && strcmp(o->in, "-") != 0 &&
	    (in = fopen(o->in, "rb")) == NULL)
		die_errno(EXIT_IO, "unable to open %s", o->in);
	if (outfile_open(&of, o->out, sealing ? 0644 : 0600, &e) != 0)
		fail(k, NULL, &e);
	if (sealing)
		rc = age_seal_ex(in, of.fp, k, o->armor, AGE_READAHEAD, &e);
	else
		rc = age_open_ex(in, of.fp, k, AGE_READAHEAD, &e);
	if (rc != 0 || outfile_commit(&of, &e) != 0)
		fail(k, &of, &e);
	if (in != stdin)
		fclose(in);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct age_keys *k;
	struct err e;
	char buf[AGE_KEYGEN_LEN], pub[AGE_RECIPIENT_LEN];
	size_t j;

	memset(&o, 0, sizeof(o));
	if (argc < 2)
		die_usage(USAGE, "missing command");
	o.cmd = argv[1];
	if (o.cmd[0] == '-') {
		parse(&o, argc, argv);
		die_usage(USAGE, "missing command");
	}
	parse(&o, argc - 1, argv + 1);
	if ((k = age_keys_new()) == NULL)
		die_errno(EXIT_IO, "out of memory");
	if (strcmp(o.cmd, "keygen") == 0) {
		if (o.in != NULL)
			die_usage(USAGE, "keygen takes no input");
		if (age_keygen_text(buf, sizeof(buf), pub, &e) != 0 ||
		    keyfile_write(o.out, buf, strlen(buf), &e) != 0)
			fail(k, NULL, &e);
		wipe(buf, sizeof(buf));
		if (o.out != NULL && strcmp(o.out, "-") != 0)
			fprintf(stderr, "Public key: %s\n", pub);
	} else if (strcmp(o.cmd, "pubkey") == 0) {
		if (o.ni == 0)
			add(o.i, &o.ni, o.in != NULL ? o.in : "-");
		keys(&o, k, 0);
		for (j = 0; age_keys_recipient(k, j, pub) == 0; j++)
			puts(pub);
	} else if (strcmp(o.cmd, "seal") == 0) {
		if ((o.evidence != NULL) != (o.trust != NULL) ||
		    (o.evidence != NULL) != (o.policy != NULL ||
		    o.policy_file != NULL) || (o.policy != NULL &&
		    o.policy_file != NULL) || (o.nonce != NULL &&
		    o.evidence == NULL))
			die_usage(USAGE, "--evidence needs --trust and one of "
			    "--policy or --policy-file (--nonce goes with "
			    "--evidence)");
		j = (size_t)(o.nr + o.nR + (o.evidence != NULL));
		if (o.ni > 0 || (o.pass && j > 0) || (!o.pass && j == 0))
			die_usage(USAGE, "seal takes -r/-R recipients, "
			    "--evidence, or -p");
		if (!o.armor && (o.out == NULL || strcmp(o.out, "-") == 0) &&
		    isatty(1))
			die_usage(USAGE, "refusing to write binary to a "
			    "terminal; use -a or -o");
		keys(&o, k, 1);
		filter(&o, k, 1);
	} else if (strcmp(o.cmd, "open") == 0) {
		if (o.nr + o.nR > 0 || o.armor || o.evidence != NULL ||
		    (o.ni == 0 && !o.pass))
			die_usage(USAGE, "open takes -i identity files or -p");
		keys(&o, k, 0);
		filter(&o, k, 0);
	} else
		die_usage(USAGE, "unknown command: %s", o.cmd);
	age_keys_free(k);
	close_stdout();
	return 0;
}
