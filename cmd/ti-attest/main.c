#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "agekey.h"
#include "b64.h"
#include "backend.h"
#include "dcap.h"
#include "die.h"
#include "evidence.h"
#include "hwevidence.h"
#include "nitro.h"
#include "snp.h"
#include "io.h"
#include "manifest.h"
#include "runopts.h"
#include "sig.h"
#include "version.h"

const char *PROG = "ti-attest";

#define USAGE \
"usage: ti-attest init     [--backend sim|tsm|nitro|sgx] [--dir DIR]\n" \
"       ti-attest manifest PROGRAM [RUN-OPTIONS]\n" \
"       ti-attest measure  --manifest FILE\n" \
"       ti-attest keys     --manifest FILE [--json] [--dir DIR]\n" \
"       ti-attest quote    --manifest FILE --nonce B64URL [--data-file FILE]\n" \
"                          [--dir DIR]\n" \
"       ti-attest verify   --trust ROOTS --policy EXPR|--policy-file FILE\n" \
"                          [--nonce B64URL] [--max-age SECS] [--at TIME]\n" \
"                          [--format sim|nitro|sgx|tdx|sev-snp]\n" \
"                          [--collateral FILE] [--certs FILE]... [--ear]\n" \
"                          [EVIDENCE]\n" \
"       ti-attest show     [EVIDENCE]\n" \
"       ti-attest -h | --help | --version\n"

#define CERTS_MAX 8

struct opts {
	const char *backend, *dir, *manifest, *nonce, *data_file, *trust;
	const char *policy, *policy_file, *at, *format, *collateral;
	const char *certs[CERTS_MAX + 1];
	int ncerts;
	long max_age;
	int json, ear;
};

enum { O_BACKEND = 256, O_DIR, O_MANIFEST, O_JSON, O_NONCE, O_DATA, O_TRUST,
    O_POLICY, O_POLICY_FILE, O_MAX_AGE, O_AT, O_EAR, O_FORMAT, O_COLLATERAL,
    O_CERTS };

#define NALLOWED 16

static const struct option longopts[] = {
	{ "backend", required_argument, NULL, O_BACKEND },
	{ "dir", required_argument, NULL, O_DIR },
	{ "manifest", required_argument, NULL, O_MANIFEST },
	{ "json", no_argument, NULL, O_JSON },
	{ "nonce", required_argument, NULL, O_NONCE },
	{ "data-file", required_argument, NULL, O_DATA },
	{ "trust", required_argument, NULL, O_TRUST },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "policy-file", required_argument, NULL, O_POLICY_FILE },
	{ "max-age", required_argument, NULL, O_MAX_AGE },
	{ "at", required_argument, NULL, O_AT },
	{ "ear", no_argument, NULL, O_EAR },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "collateral", required_argument, NULL, O_COLLATERAL },
	{ "certs", required_argument, NULL, O_CERTS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Which options each command takes. */
static const struct {
	const char *cmd;
	int allowed[NALLOWED];
} cmds[] = {
	{ "init", { O_BACKEND, O_DIR } },
	{ "measure", { O_MANIFEST } },
	{ "keys", { O_MANIFEST, O_JSON, O_DIR } },
	{ "quote", { O_MANIFEST, O_NONCE, O_DATA, O_DIR } },
	{ "verify", { O_TRUST, O_POLICY, O_POLICY_FILE, O_NONCE, O_MAX_AGE,
	    O_AT, O_EAR, O_FORMAT, O_COLLATERAL, O_CERTS } },
	{ "show", { 0 } },
};

static void
print_json(jv v)
{
	struct err e;
	char *c;
	size_t n;

	if (manifest_canonical(v, &c, &n, &e) != 0)
		die_err(&e);
	fwrite(c, 1, n, stdout);
	putchar('\n');
	free(c);
}

/* RFC 3339 ("2026-01-02T03:04:05Z", "...05.5+01:00") or @SECONDS. */
static time_t
parse_time(const char *s)
{
	struct tm tm;
	const char *p;
	char *end;
	long off = 0;
	time_t t;

	if (s[0] == '@') {
		t = (time_t)strtoll(s + 1, &end, 10);
		if (end == s + 1 || *end != '\0' || t <= 0)
			die(EXIT_USAGE, "--at: malformed time %s", s);
		return t;
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL &&
	    (p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL)
		die(EXIT_USAGE, "--at: expected RFC 3339 time, not %s", s);
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		off = 0;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':')
		off = (*p == '-' ? -1 : 1) * (atol(p + 1) * 3600 +
		    atol(p + 4) * 60);
	else
		die(EXIT_USAGE, "--at: expected RFC 3339 time, not %s", s);
	return timegm(&tm) - off;
}

static size_t
parse_nonce(const char *s, unsigned char *buf)
{
	size_t n = strlen(s), len;

	if (n == 0 || n > b64_enclen(ATTEST_NONCE_MAX, B64_URL) ||
	    b64_decode(buf, &len, s, n, B64_URL) != 0 || len == 0)
		die(EXIT_USAGE, "--nonce: expected 1 to %d bytes in base64url",
		    ATTEST_NONCE_MAX);
	return len;
}

static char *
home_dir(const struct opts *o)
{
	char *h = o->dir ? strdup(o->dir) : evidence_home();

	if (h == NULL)
		die(EXIT_IO, "cannot find the platform directory; set TI_HOME");
	return h;
}

static void
load_measurement(const struct opts *o, char *meas)
{
	struct err e;
	jv m;

	if (o->manifest == NULL)
		die_usage(USAGE, "--manifest FILE is required");
	if (manifest_load(o->manifest, &m, &e) != 0 ||
	    manifest_measure(m, meas, &e) != 0)
		die_err(&e);
}

/*
 * Evidence from a file or stdin: text (a JWS, an evidence line, base64)
 * without its trailing newline; binary evidence (a quote, a report, a
 * CBOR document) exactly as it is.
 */
static unsigned char *
read_evidence(const char *path, size_t *n)
{
	unsigned char *buf;
	struct err e;
	size_t i;

	if (io_slurp(path, 64 * 1024, &buf, n, &e) != 0)
		die_err(&e);
	for (i = 0; i < *n; i++)
		if (buf[i] < 0x20 ? buf[i] != '\n' && buf[i] != '\r' &&
		    buf[i] != '\t' : buf[i] > 0x7e)
			return buf;
	while (*n > 0 && (buf[*n - 1] == '\n' || buf[*n - 1] == '\r'))
		buf[--*n] = '\0';
	return buf;
}

static int
mkdirs(const char *dir)
{
	char *p, *d = strdup(dir);

	if (d == NULL)
		return -1;
	for (p = d + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(d, 0700);
			*p = '/';
		}
	mkdir(d, 0700);
	free(d);
	return 0;
}

static int
cmd_init(const struct opts *o)
{
	const struct attest_backend *b;
	char *home = home_dir(o);
	struct err e;

	if ((b = attest_backend_find(o->backend ? o->backend : "sim")) == NULL)
		die(EXIT_USAGE, "unknown backend %s", o->backend);
	mkdirs(home);
	if (b->init != NULL && b->init(home, &e) != 0)
		die_err(&e);
	if (strcmp(b->name, "sim") == 0)
		fprintf(stderr, "%s: %s platform created in %s; trust "
		    "%s/root.pem\n", PROG, b->name, home, home);
	else
		fprintf(stderr, "%s: %s platform created in %s; verifiers "
		    "trust the vendor's root (AWS Nitro, Intel SGX Root CA or "
		    "AMD ARK), not a file of %s: this platform has no "
		    "root.pem\n", PROG, b->name, home, home);
	free(home);
	return 0;
}

static int
cmd_keys(const struct opts *o)
{
	char meas[MEASUREMENT_LEN], rcp[AGE_RECIPIENT_LEN], sk[SIG_SIGNER_LEN];
	char *home = home_dir(o);
	struct tikeys k;
	struct err e;

	load_measurement(o, meas);
	if (evidence_keys(home, meas, &k, &e) != 0)
		die_err(&e);
	age_recipient_string(rcp, k.x_pub);
	sig_signer_string(sk, k.ed_pub);
	keys_wipe(&k);
	if (o->json)
		print_json(JV_OBJECT(jv_string("measurement"), jv_string(meas),
		    jv_string("recipient"), jv_string(rcp),
		    jv_string("sig_key"), jv_string(sk)));
	else
		printf("%s\n%s\n", rcp, sk);
	free(home);
	return 0;
}

static int
cmd_quote(const struct opts *o)
{
	unsigned char nonce[ATTEST_NONCE_MAX + 3], data[32], *buf;
	char meas[MEASUREMENT_LEN], *home = home_dir(o), *out;
	size_t nl, n;
	struct err e;

	if (o->nonce == NULL)
		die_usage(USAGE, "--nonce B64URL is required");
	nl = parse_nonce(o->nonce, nonce);
	load_measurement(o, meas);
	if (o->data_file != NULL) {
		if (io_slurp(o->data_file, (size_t)1 << 30, &buf, &n, &e) != 0)
			die_err(&e);
		EVP_Digest(buf, n, data, NULL, EVP_sha256(), NULL);
		free(buf);
	}
	if (evidence_quote(home, meas, nonce, nl, o->data_file ? data : NULL,
	    &out, &e) != 0)
		die_err(&e);
	puts(out);
	free(out);
	free(home);
	return 0;
}

static int
cmd_verify(const struct opts *o, const char *file)
{
	struct verifier_opts vo = { 0 };
	unsigned char nonce[ATTEST_NONCE_MAX + 3], *buf, *pol = NULL;
	struct verifier *v;
	size_t nl = 0, n;
	struct err e;
	jv claims;

	if (o->trust == NULL)
		die_usage(USAGE, "--trust ROOTS is required");
	if ((o->policy == NULL) == (o->policy_file == NULL))
		die_usage(USAGE, "give one of --policy or --policy-file");
	if (o->nonce != NULL)
		nl = parse_nonce(o->nonce, nonce);
	if (o->policy_file != NULL &&
	    io_slurp(o->policy_file, 65536, &pol, &n, &e) != 0)
		die_err(&e);
	vo.trust = o->trust;
	vo.policy = pol ? (char *)pol : o->policy;
	vo.max_age = o->max_age;
	vo.at = o->at ? parse_time(o->at) : 0;
	vo.format = o->format;
	vo.collateral = o->collateral;
	vo.certs = o->ncerts ? o->certs : NULL;
	if ((v = verifier_new(&vo, &e)) == NULL)
		die_err(&e);
	free(pol);
	buf = read_evidence(file, &n);
	if (verifier_check(v, (char *)buf, n, o->nonce ? nonce : NULL, nl,
	    &claims, &e) != 0) {
		free(buf);
		verifier_free(v);
		die_err(&e);
	}
	if (o->ear)
		claims = hwevidence_ear(claims, vo.at);
	print_json(claims);
	free(buf);
	verifier_free(v);
	return 0;
}

/* Native hardware evidence of format f, decoded (nothing verified). */
static void
show_native(int f, const unsigned char *b, size_t n)
{
	unsigned char *raw;
	size_t rn;
	struct err e;
	jv c;
	int r;

	if (hwevidence_raw(b, n, &raw, &rn, &e) != 0)
		die_err(&e);
	r = f == HWEV_NITRO ? nitro_parse(raw, rn, &c, &e) :
	    f == HWEV_SNP ? snp_parse(raw, rn, &c, &e) :
	    dcap_parse(raw, rn, &c, &e);
	free(raw);
	if (r != 0)
		die_err(&e);
	print_json(JV_OBJECT(jv_string("format"),
	    jv_string(hwevidence_name(f)), jv_string("claims"), c));
}

static int
cmd_show(const char *file)
{
	unsigned char *buf, *dec;
	size_t n, i, start = 0, part = 0, dl;
	jv parts[2], v;
	int f;

	buf = read_evidence(file, &n);
	f = hwevidence_detect(buf, n);
	if (f != HWEV_UNKNOWN && f != HWEV_SIM) {
		show_native(f, buf, n);
		free(buf);
		return 0;
	}
	for (i = 0; i <= n && part < 2; i++) {
		if (i < n && buf[i] != '.')
			continue;
		if ((dec = malloc(b64_declen(i - start) + 1)) == NULL)
			die(EXIT_IO, "out of memory");
		if (b64_decode(dec, &dl, (char *)buf + start, i - start,
		    B64_URL) != 0)
			die(EXIT_DATA, "malformed evidence: not a compact JWS");
		v = jv_parse_sized((char *)dec, (int)dl);
		free(dec);
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			die(EXIT_DATA, "malformed evidence: not a compact JWS");
		parts[part++] = v;
		start = i + 1;
	}
	if (part != 2)
		die(EXIT_DATA, "malformed evidence: not a compact JWS");
	print_json(JV_OBJECT(jv_string("header"), parts[0],
	    jv_string("claims"), parts[1]));
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *cmd;
	size_t c, k;
	int ch, rc = 0;
	char *end;

	if (argc < 2)
		die_usage(USAGE, "no command given");
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(USAGE, stdout);
		close_stdout();
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		puts("ti-attest " TI_VERSION);
		close_stdout();
		return 0;
	}
	if (strcmp(cmd, "manifest") == 0) {
		struct runopts ro;
		struct err e;
		if (runopts_parse(argc - 1, argv + 1, &ro, &e) != 0) {
			runopts_fini(&ro);
			die(e.code, "%s%s", e.msg, e.code == EXIT_USAGE ?
			    " (see ti-run --help)" : "");
		}
		if (ro.help || ro.version)
			fputs(ro.help ? runopts_usage : "ti-attest " TI_VERSION
			    "\n", stdout);
		else
			print_json(jv_copy(ro.manifest));
		runopts_fini(&ro);
		close_stdout();
		return 0;
	}
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (strcmp(cmds[c].cmd, cmd) == 0)
			break;
	if (c == sizeof(cmds) / sizeof(cmds[0]))
		die_usage(USAGE, "unknown command %s", cmd);
	argv++;
	argc--;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(USAGE, stdout);
			close_stdout();
			return 0;
		}
		for (k = 0; k < NALLOWED && cmds[c].allowed[k] != ch; k++)
			;
		if (ch == '?' || k == NALLOWED)
			die_usage(USAGE, "%s: unexpected option %s", cmd,
			    argv[optind - 1]);
		switch (ch) {
		case O_BACKEND: o.backend = optarg; break;
		case O_DIR: o.dir = optarg; break;
		case O_MANIFEST: o.manifest = optarg; break;
		case O_JSON: o.json = 1; break;
		case O_NONCE: o.nonce = optarg; break;
		case O_DATA: o.data_file = optarg; break;
		case O_TRUST: o.trust = optarg; break;
		case O_POLICY: o.policy = optarg; break;
		case O_POLICY_FILE: o.policy_file = optarg; break;
		case O_AT: o.at = optarg; break;
		case O_EAR: o.ear = 1; break;
		case O_FORMAT: o.format = optarg; break;
		case O_COLLATERAL: o.collateral = optarg; break;
		case O_CERTS:
			if (o.ncerts == CERTS_MAX)
				die_usage(USAGE, "--certs: at most %d files",
				    CERTS_MAX);
			o.certs[o.ncerts++] = optarg;
			break;
		case O_MAX_AGE:
			o.max_age = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o.max_age <= 0)
				die_usage(USAGE, "--max-age: expected seconds");
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > ((strcmp(cmd, "verify") == 0 || strcmp(cmd, "show") == 0)
	    ? 1 : 0))
		die_usage(USAGE, "%s: unexpected argument %s", cmd,
		    argv[argc - 1]);
	if (strcmp(cmd, "init") == 0)
		rc = cmd_init(&o);
	else if (strcmp(cmd, "measure") == 0) {
		char meas[MEASUREMENT_LEN];
		load_measurement(&o, meas);
		puts(meas);
	} else if (strcmp(cmd, "keys") == 0)
		rc = cmd_keys(&o);
	else if (strcmp(cmd, "quote") == 0)
		rc = cmd_quote(&o);
	else if (strcmp(cmd, "verify") == 0)
		rc = cmd_verify(&o, argc ? argv[0] : "-");
	else
		rc = cmd_show(argc ? argv[0] : "-");
	close_stdout();
	return rc;
}
