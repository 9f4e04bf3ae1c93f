/*
 * hwverify: drive the hardware evidence verifiers of lib/ from the
 * command line, for test/hw.bats. Prints the verified claims (or an EAR)
 * as one JSON line; exits as ti-attest verify does.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "b64.h"
#include "die.h"
#include "hwevidence.h"
#include "io.h"
#include "nitro.h"
#include "dcap.h"
#include "snp.h"

const char *PROG = "hwverify";

#define USAGE "usage: hwverify [--format F] [--trust ROOTS] [--certs FILE]\n" \
	"    [--collateral FILE] [--at TIME] [--expect-measurement HEX]\n" \
	"    [--allow-debug] [--ear] [--parse] [--nonce B64URL --manifest-digest M\n" \
	"    --recipient R --sig-key K] [EVIDENCE]\n" \
	"       hwverify --check-chain CERTS [--crl CRL] --trust ROOTS [--at TIME]\n"

/* Verify the first certificate of path (the others: intermediates). */
static int
check_chain(const char *path, const char *crlpath, struct hwev_opts *o)
{
	STACK_OF(X509) *certs;
	STACK_OF(X509_CRL) *crls = NULL;
	X509_CRL *crl;
	X509 *leaf;
	BIO *b;
	struct err e = { 0, "" };

	if (hwevidence_certs_load(path, &certs, &e) != 0)
		die_err(&e);
	if (crlpath != NULL) {
		if ((b = BIO_new_file(crlpath, "r")) == NULL ||
		    (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) == NULL)
			die(EXIT_DATA, "%s: not a PEM CRL", crlpath);
		BIO_free(b);
		crls = sk_X509_CRL_new_null();
		sk_X509_CRL_push(crls, crl);
	}
	leaf = sk_X509_shift(certs);
	if (hwevidence_chain("chain", leaf, certs, o->roots, crls, o->at,
	    &e) != 0)
		die_err(&e);
	X509_free(leaf);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_pop_free(o->roots, X509_free);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "trust", required_argument, NULL, 't' },
		{ "certs", required_argument, NULL, 'c' },
		{ "collateral", required_argument, NULL, 'C' },
		{ "at", required_argument, NULL, 'a' },
		{ "expect-measurement", required_argument, NULL, 'm' },
		{ "allow-debug", no_argument, NULL, 'd' },
		{ "ear", no_argument, NULL, 'E' },
		{ "parse", no_argument, NULL, 'p' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "manifest-digest", required_argument, NULL, 'M' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "sig-key", required_argument, NULL, 'k' },
		{ "check-chain", required_argument, NULL, 'L' },
		{ "crl", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hwev_opts o = { NULL, NULL, NULL, 0 };
	const char *expect = NULL, *mdig = NULL, *rcpt = NULL;
	const char *sk = NULL, *nonce64 = NULL, *chain = NULL, *crlpath = NULL;
	unsigned char *ev = NULL, *col = NULL, *raw, *certb, nonce[256];
	size_t evn, coln, rawn, certn, noncen = 0;
	int c, format = HWEV_UNKNOWN, debug = 0, ear = 0, parse = 0, r;
	struct err e = { 0, "" };
	STACK_OF(X509) *more;
	jv claims, m;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((format = hwevidence_format(optarg)) ==
			    HWEV_UNKNOWN || format == HWEV_SIM)
				die_usage(USAGE, "unknown format %s", optarg);
			break;
		case 't':
			if (hwevidence_certs_load(optarg, &o.roots, &e) != 0)
				die_err(&e);
			break;
		case 'c':	/* repeatable: VCEK, then ASK/ARK */
			if (io_slurp(optarg, HWEV_MAX, &certb, &certn, &e) !=
			    0 || snp_certs_parse(certb, certn, &more, &e) != 0)
				die_err(&e);
			free(certb);
			if (o.certs == NULL)
				o.certs = sk_X509_new_null();
			while (o.certs != NULL && sk_X509_num(more) > 0)
				sk_X509_push(o.certs, sk_X509_shift(more));
			sk_X509_free(more);
			break;
		case 'C':
			if (io_slurp(optarg, HWEV_MAX, &col, &coln, &e) != 0)
				die_err(&e);
			o.collateral = (const char *)col;
			break;
		case 'a':
			if (hwevidence_time(optarg, &o.at) != 0)
				die_usage(USAGE, "bad time %s", optarg);
			break;
		case 'm':
			expect = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'E':
			ear = 1;
			break;
		case 'p':
			parse = 1;
			break;
		case 'n':
			nonce64 = optarg;
			break;
		case 'M':
			mdig = optarg;
			break;
		case 'r':
			rcpt = optarg;
			break;
		case 'k':
			sk = optarg;
			break;
		case 'L':
			chain = optarg;
			break;
		case 'R':
			crlpath = optarg;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return 0;
		default:
			die_usage(USAGE, "unknown option");
		}
	}
	if (argc - optind > 1)
		die_usage(USAGE, "too many arguments");
	if (chain != NULL)
		return check_chain(chain, crlpath, &o);
	if (nonce64 != NULL && (strlen(nonce64) > 300 ||
	    b64_decode(nonce, &noncen, nonce64, strlen(nonce64), B64_URL) != 0))
		die_usage(USAGE, "bad nonce");
	if (io_slurp(optind < argc ? argv[optind] : "-", HWEV_MAX, &ev, &evn,
	    &e) != 0)
		die_err(&e);
	if (parse) {
		if (hwevidence_raw(ev, evn, &raw, &rawn, &e) != 0)
			die_err(&e);
		if (format == HWEV_UNKNOWN)
			format = hwevidence_detect(raw, rawn);
		r = format == HWEV_NITRO ? nitro_parse(raw, rawn, &claims, &e) :
		    format == HWEV_SNP ? snp_parse(raw, rawn, &claims, &e) :
		    format == HWEV_SGX || format == HWEV_TDX ?
		    dcap_parse(raw, rawn, &claims, &e) :
		    err_set(&e, EXIT_DATA, "unknown evidence format");
		free(raw);
	} else
		r = hwevidence_verify(format, ev, evn, &o, &claims, &e);
	free(ev);
	free(col);
	sk_X509_pop_free(o.roots, X509_free);
	sk_X509_pop_free(o.certs, X509_free);
	if (r != 0)
		die_err(&e);
	claims = hwevidence_bind(claims, nonce64 ? nonce : NULL, noncen, mdig,
	    rcpt, sk, NULL, &e);
	if (!jv_is_valid(claims))
		die_err(&e);
	if (expect != NULL) {
		m = jv_object_get(jv_copy(claims), jv_string("measurement"));
		if (jv_get_kind(m) != JV_KIND_STRING ||
		    strcmp(jv_string_value(m), expect) != 0)
			die(EXIT_NO, "policy denied: measurement");
		jv_free(m);
	}
	m = jv_object_get(jv_copy(claims), jv_string("debug"));
	if (!debug && !parse && jv_get_kind(m) == JV_KIND_TRUE)
		die(EXIT_NO, "policy denied: debug");
	jv_free(m);
	if (ear)
		claims = hwevidence_ear(claims, o.at);
	m = jv_dump_string(claims, JV_PRINT_SORTED);
	puts(jv_string_value(m));
	jv_free(m);
	close_stdout();
	return 0;
}
