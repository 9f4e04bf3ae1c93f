#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "io.h"
#include "manifest.h"
#include "runopts.h"
#include "version.h"

const char *PROG = "ti-attest";

#define USAGE \
"usage: ti-attest manifest PROGRAM [RUN-OPTIONS]\n" \
"       ti-attest measure --manifest FILE\n" \
"       ti-attest -h | --help | --version\n"

static int
cmd_manifest(int argc, char **argv)
{
	struct runopts o;
	struct err e;
	char *c = NULL;
	size_t n;

	if (runopts_parse(argc, argv, &o, &e) != 0) {
		runopts_fini(&o);
		if (e.code == EXIT_USAGE)
			die(EXIT_USAGE, "%s (see ti-run --help)", e.msg);
		die_err(&e);
	}
	if (o.help || o.version) {
		fputs(o.help ? runopts_usage : "ti-attest " TI_VERSION "\n",
		    stdout);
		runopts_fini(&o);
		close_stdout();
		return 0;
	}
	if (manifest_canonical(jv_copy(o.manifest), &c, &n, &e) != 0) {
		runopts_fini(&o);
		die_err(&e);
	}
	fwrite(c, 1, n, stdout);
	putchar('\n');
	free(c);
	runopts_fini(&o);
	close_stdout();
	return 0;
}

static int
cmd_measure(int argc, char **argv)
{
	char meas[MEASUREMENT_LEN];
	struct err e;
	jv m;

	if (argc != 3 || strcmp(argv[1], "--manifest") != 0)
		die_usage(USAGE, "measure needs --manifest FILE");
	if (manifest_load(argv[2], &m, &e) != 0 ||
	    manifest_measure(m, meas, &e) != 0)
		die_err(&e);
	puts(meas);
	close_stdout();
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		die_usage(USAGE, "no command given");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(USAGE, stdout);
		close_stdout();
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("ti-attest " TI_VERSION);
		close_stdout();
		return 0;
	}
	if (strcmp(argv[1], "manifest") == 0)
		return cmd_manifest(argc - 1, argv + 1);
	if (strcmp(argv[1], "measure") == 0)
		return cmd_measure(argc - 1, argv + 1);
	die_usage(USAGE, "unknown command %s", argv[1]);
}
