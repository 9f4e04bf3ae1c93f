/*
 * store-service: the Store of the store/taxi scenario. Customers (name,
 * phone, address) and their receipts live in SQLite; an attested process
 * whose measurement the policy file admits gets them as NDJSON, sealed to
 * its attested recipient and signed with the store's Ed25519 key. Anyone
 * else gets nothing but an error (docs/protocol.md).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>

#include "age.h"
#include "message.h"
#include "svc.h"

const char *PROG = "store-service";

#define USAGE \
"usage: store-service --db FILE --gen N [--seed S]\n" \
"       store-service --db FILE --dump RESOURCE\n" \
"       store-service --key KEY.pem --pubkey\n" \
"       store-service --db FILE --key KEY.pem --trust ROOTS --policy FILE\n" \
"                     [--tee EXPR] [--listen ADDR] [--port N] [--port-file F]\n" \
"       store-service --db FILE --plain [--listen ADDR] [--port N] [--port-file F]\n" \
"\n" \
"Serves GET /customers (with receipts), /contacts and /receipts, each\n" \
"taking ?after=ID&limit=N, to attested processes only.\n" \
"\n" \
"  --db FILE        the SQLite database\n" \
"  --gen N          create N customers with receipts (deterministic) and exit\n" \
"  --seed S         generator seed (default 1)\n" \
"  --dump RESOURCE  print a resource's plaintext NDJSON and exit\n" \
"  --key FILE       the store's Ed25519 signing key (PEM, 0600)\n" \
"  --pubkey         print the key's public form ed25519:... and exit\n" \
"  --trust FILE     root certificates evidence must chain to\n" \
"  --policy FILE    {\"/customers\": [\"sha256:...\"], ...}: measurements\n" \
"                   admitted to each resource\n" \
"  --tee EXPR       jq policy over verified claims saying which platforms\n" \
"                   are admitted (default: .tee == \"sim\")\n" \
"  --listen ADDR    IPv4 address (default 127.0.0.1)\n" \
"  --port N         port (default 0: any free port)\n" \
"  --port-file F    write the bound port to F\n" \
"  --plain          PLAINTEXT TWIN FOR BENCHMARKING ONLY: no attestation,\n" \
"                   no sealing\n" \
"  -h, --help       this text\n" \
"  -V, --version    print version\n"

struct store {
	struct svc svc;		/* first: handlers get it as cls */
	const char *db;
	unsigned char seed[32];
};

enum res { R_CUSTOMERS, R_CONTACTS, R_RECEIPTS };

/* splitmix64: a small seeded generator, identical on every platform. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *const FIRST[] = { "Ada", "Ben", "Chloe", "Dmitri", "Emma",
    "Farah", "Goran", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo",
    "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma",
    "Victor", "Wen", "Ximena", "Yusuf", "Zoe" };
static const char *const LAST[] = { "Abbott", "Brown", "Chen", "Diaz",
    "Evans", "Fischer", "Garcia", "Hughes", "Ibrahim", "Jensen", "Kim",
    "Lopez", "Moreau", "Novak", "Okafor", "Patel", "Rossi", "Silva",
    "Tanaka", "Usman", "Vogel", "Walsh", "Yilmaz", "Zhang" };
static const char *const STREET[] = { "Oak", "Maple", "Cedar", "Elm", "Pine",
    "Birch", "Willow", "Station", "Harbour", "Mill", "Church", "Park" };
static const char *const KIND[] = { "St", "Ave", "Rd", "Lane", "Way" };
static const char *const CITY[] = { "Springfield", "Riverton", "Lakeside",
    "Hillview", "Fairmont", "Brookfield" };
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
dbcheck(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		die(EXIT_IO, "%s: %s", what, sqlite3_errmsg(db));
}

static void
generate(const char *path, long count, uint64_t seed)
{
	sqlite3 *db;
	sqlite3_stmt *c, *r;
	char name[64], phone[32], addr[96], date[16];
	uint64_t s = seed;
	long i;
	int k, nr;

	dbcheck(NULL, sqlite3_open(path, &db) == SQLITE_OK ? 0 : 1, path);
	dbcheck(db, sqlite3_exec(db,
	    "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	    "CREATE TABLE customers(id INTEGER PRIMARY KEY,"
	    " name TEXT NOT NULL, phone TEXT NOT NULL, address TEXT NOT NULL);"
	    "CREATE TABLE receipts(id INTEGER PRIMARY KEY,"
	    " customer_id INTEGER NOT NULL REFERENCES customers(id),"
	    " amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),"
	    " date TEXT NOT NULL);"
	    "BEGIN;", NULL, NULL, NULL), path);
	dbcheck(db, sqlite3_prepare_v2(db, "INSERT INTO customers"
	    " VALUES (?1, ?2, ?3, ?4)", -1, &c, NULL), "prepare");
	dbcheck(db, sqlite3_prepare_v2(db, "INSERT INTO receipts(customer_id,"
	    " amount_cents, date) VALUES (?1, ?2, ?3)", -1, &r, NULL),
	    "prepare");
	for (i = 1; i <= count; i++) {
		snprintf(name, sizeof(name), "%s %s", FIRST[rnd(&s) % N(FIRST)],
		    LAST[rnd(&s) % N(LAST)]);
		snprintf(phone, sizeof(phone), "+1-555-%03u-%04u",
		    (unsigned)(rnd(&s) % 1000), (unsigned)(rnd(&s) % 10000));
		snprintf(addr, sizeof(addr), "%u %s %s, %s",
		    (unsigned)(1 + rnd(&s) % 999), STREET[rnd(&s) % N(STREET)],
		    KIND[rnd(&s) % N(KIND)], CITY[rnd(&s) % N(CITY)]);
		sqlite3_bind_int64(c, 1, i);
		sqlite3_bind_text(c, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(c, 3, phone, -1, SQLITE_STATIC);
		sqlite3_bind_text(c, 4, addr, -1, SQLITE_STATIC);
		dbcheck(db, sqlite3_step(c), "insert");
		sqlite3_reset(c);
		nr = (int)(rnd(&s) % 6);
		for (k = 0; k < nr; k++) {
			snprintf(date, sizeof(date), "2026-10-%02u",
			    (unsigned)(1 + rnd(&s) % 31));
			sqlite3_bind_int64(r, 1, i);
			sqlite3_bind_int64(r, 2,
			    (sqlite3_int64)(500 + rnd(&s) % 7501));
			sqlite3_bind_text(r, 3, date, -1, SQLITE_STATIC);
			dbcheck(db, sqlite3_step(r), "insert");
			sqlite3_reset(r);
		}
	}
	sqlite3_finalize(c);
	sqlite3_finalize(r);
	dbcheck(db, sqlite3_exec(db, "CREATE INDEX receipts_customer ON"
	    " receipts(customer_id, id); COMMIT;", NULL, NULL, NULL), path);
	dbcheck(db, sqlite3_close(db), path);
}

/* A receipt's fields after pre: "cents":N,"date":"..." and "}". */
static int
add_receipt(struct buf *b, sqlite3_stmt *r, const char *pre)
{
	char num[40];

	snprintf(num, sizeof(num), "\"cents\":%lld,\"date\":",
	    (long long)sqlite3_column_int64(r, 1));
	return buf_str(b, pre) | buf_str(b, num) | buf_json(b, (const char *)
	    sqlite3_column_text(r, 2)) | buf_str(b, "}");
}

/*
 * The NDJSON of a resource for customers with id > after (at most limit,
 * 0: all), into b. Customers and receipts are walked side by side in id
 * order, so the work is one pass over each table. 0, or -1.
 */
static int
render(sqlite3 *db, enum res res, long long after, long long limit,
    struct buf *b)
{
	sqlite3_stmt *c = NULL, *r = NULL;
	char num[96];
	long long id;
	int rc = -1, rr = SQLITE_DONE, first;

	if (limit <= 0)
		limit = -1;
	if (sqlite3_prepare_v2(db, "SELECT id, name, phone, address FROM"
	    " customers WHERE id > ?1 ORDER BY id LIMIT ?2", -1, &c,
	    NULL) != SQLITE_OK || sqlite3_prepare_v2(db, "SELECT customer_id,"
	    " amount_cents, date FROM receipts WHERE customer_id > ?1"
	    " ORDER BY customer_id, id", -1, &r, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(c, 1, after);
	sqlite3_bind_int64(c, 2, limit);
	sqlite3_bind_int64(r, 1, after);
	if (res != R_CONTACTS)
		rr = sqlite3_step(r);
	while (sqlite3_step(c) == SQLITE_ROW) {
		id = sqlite3_column_int64(c, 0);
		/* Receipts of customers a page skipped are passed over. */
		while (rr == SQLITE_ROW && sqlite3_column_int64(r, 0) < id)
			rr = sqlite3_step(r);
		if (res == R_RECEIPTS) {
			for (; rr == SQLITE_ROW &&
			    sqlite3_column_int64(r, 0) == id;
			    rr = sqlite3_step(r)) {
				snprintf(num, sizeof(num), "{\"customer\":%lld,",
				    id);
				if (add_receipt(b, r, num) || buf_str(b, "\n"))
					goto out;
			}
			continue;
		}
		snprintf(num, sizeof(num), "{\"id\":%lld,\"name\":", id);
		if (buf_str(b, num) || buf_json(b,
		    (const char *)sqlite3_column_text(c, 1)) ||
		    buf_str(b, ",\"phone\":") || buf_json(b,
		    (const char *)sqlite3_column_text(c, 2)) ||
		    buf_str(b, ",\"address\":") || buf_json(b,
		    (const char *)sqlite3_column_text(c, 3)))
			goto out;
		if (res == R_CUSTOMERS) {
			if (buf_str(b, ",\"receipts\":["))
				goto out;
			for (first = 1; rr == SQLITE_ROW &&
			    sqlite3_column_int64(r, 0) == id;
			    rr = sqlite3_step(r), first = 0)
				if (add_receipt(b, r, first ? "{" : ",{"))
					goto out;
			if (buf_str(b, "]"))
				goto out;
		}
		if (buf_str(b, "}\n"))
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(c);
	sqlite3_finalize(r);
	return rc;
}

static int
resource(const char *url, enum res *r)
{
	if (strcmp(url, "/customers") == 0)
		*r = R_CUSTOMERS;
	else if (strcmp(url, "/contacts") == 0)
		*r = R_CONTACTS;
	else if (strcmp(url, "/receipts") == 0)
		*r = R_RECEIPTS;
	else
		return -1;
	return 0;
}

static int
number_arg(struct MHD_Connection *c, const char *k, long long *v)
{
	const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    k);
	char *end;

	*v = 0;
	if (s == NULL)
		return 0;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return (*s == '\0' || *end != '\0' || errno != 0 || *v < 0) ? -1 : 0;
}

/* Seal b to the attested recipient and wrap it in a message we sign. */
static char *
seal_reply(struct store *st, const struct attested *id, const struct buf *b,
    size_t *len, struct err *e)
{
	struct age_keys *k;
	struct message m;
	char *line = NULL;

	memset(&m, 0, sizeof(m));
	if ((k = age_keys_new()) == NULL) {
		err_set(e, EXIT_IO, "out of memory");
		return NULL;
	}
	if (age_add_recipient(k, id->recipient, e) != 0 ||
	    age_seal_mem(b->p ? b->p : "", b->n, k, 0, &m.sealed, &m.sealedlen,
	    e) != 0)
		goto out;
	memcpy(m.run, id->run, sizeof(id->run));
	m.seq = 0;
	m.last = 1;
	if (message_sign(&m, st->seed, e) != 0)
		goto out;
	if ((line = message_format(&m, len)) == NULL) {
		err_set(e, EXIT_IO, "out of memory");
		goto out;
	}
	line[(*len)++] = '\n';	/* message_format leaves room for the NUL */
out:
	message_fini(&m);
	age_keys_free(k);
	return line;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upsize, void **ctx)
{
	struct store *st = cls;
	struct svc *s = &st->svc;
	struct attested id;
	struct buf b = {0};
	struct err e = {0};
	enum MHD_Result ret;
	enum res r;
	long long after, limit;
	sqlite3 *db = NULL;
	char *line;
	size_t len;
	char what[64];

	(void)version;
	(void)upload;
	if (*ctx == NULL) {	/* headers only; the body, if any, follows */
		*ctx = st;
		return MHD_YES;
	}
	if (*upsize != 0) {	/* a GET has no body: ignore one */
		*upsize = 0;
		return MHD_YES;
	}
	if (resource(url, &r) != 0)
		return svc_fail(s, c, method, url, "not-found", NULL,
		    NULL, "no such resource");
	if (strcmp(method, "GET") != 0)
		return svc_fail(s, c, method, url,
		    "method-not-allowed", MHD_HTTP_HEADER_ALLOW, "GET",
		    "only GET");
	if (number_arg(c, "after", &after) != 0 ||
	    number_arg(c, "limit", &limit) != 0)
		return svc_fail(s, c, method, url, "bad-request", NULL, NULL,
		    "after and limit must be non-negative integers");
	if (!s->plain && !svc_attest(s, c, method, url, url, &id, &ret))
		return ret;
	if (sqlite3_open_v2(st->db, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || render(db, r, after, limit, &b) != 0) {
		warn("%s: %s", st->db, sqlite3_errmsg(db));
		sqlite3_close(db);
		buf_free(&b);
		return svc_fail(s, c, method, url,
		    "internal", NULL, NULL,
		    "database unavailable");
	}
	sqlite3_close(db);
	if (s->plain) {
		svc_log(s, method, url, 200, "plain");
		return svc_reply(c, 200, "application/x-ndjson", b.p, b.n,
		    NULL);
	}
	line = seal_reply(st, &id, &b, &len, &e);
	wipe(b.p, b.n);
	buf_free(&b);
	if (line == NULL) {
		warn("%s", e.msg);
		return svc_fail(s, c, method, url,
		    "internal", NULL, NULL,
		    "unable to seal the response");
	}
	if (len > MESSAGE_MAX) {
		free(line);
		return svc_fail(s, c, method, url, "response-too-large", NULL,
		    NULL, "response over %u bytes; ask for fewer with ?limit=",
		    MESSAGE_MAX);
	}
	snprintf(what, sizeof(what), "sealed to %.20s...", id.measurement);
	svc_log(s, method, url, 200, what);
	{
		const char *hdrs[] = { "TI-Session", id.session, NULL };

		return svc_reply(c, 200, TIPROTO_MEDIA, line, len, hdrs);
	}
}

static void
done(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	*ctx = NULL;
}

static void
dump(const char *path, const char *name)
{
	struct buf b = {0};
	enum res r;
	sqlite3 *db;

	if (resource(name, &r) != 0)
		die_usage(USAGE, "--dump: no such resource: %s", name);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || render(db, r, 0, 0, &b) != 0)
		die(EXIT_IO, "%s: %s", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	if (b.n > 0 && fwrite(b.p, 1, b.n, stdout) != b.n)
		die_errno(EXIT_IO, "stdout");
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "gen", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' },
		{ "dump", required_argument, NULL, 'D' },
		{ "key", required_argument, NULL, 'k' },
		{ "pubkey", no_argument, NULL, 'P' },
		{ "trust", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "tee", required_argument, NULL, 'T' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'o' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "plain", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct store st;
	const char *gen = NULL, *seed = "1", *dumpr = NULL, *key = NULL;
	const char *trust = NULL, *policy = NULL, *tee = ".tee == \"sim\"";
	const char *addr = "127.0.0.1", *portfile = NULL;
	int ch, pubkey = 0, port = 0;
	char *end;

	while ((ch = getopt_long(argc, argv, "hV", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': st.db = optarg; break;
		case 'g': gen = optarg; break;
		case 's': seed = optarg; break;
		case 'D': dumpr = optarg; break;
		case 'k': key = optarg; break;
		case 'P': pubkey = 1; break;
		case 't': trust = optarg; break;
		case 'p': policy = optarg; break;
		case 'T': tee = optarg; break;
		case 'l': addr = optarg; break;
		case 'o':
			port = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port < 0 ||
			    port > 65535)
				die_usage(USAGE, "--port: not a port: %s",
				    optarg);
			break;
		case 'f': portfile = optarg; break;
		case 'x': st.svc.plain = 1; break;
		case 'h': fputs(USAGE, stdout); close_stdout(); return 0;
		case 'V': puts("store-service " TI_VERSION); close_stdout();
			return 0;
		default: die_usage(USAGE, "unknown option");
		}
	}
	if (optind != argc)
		die_usage(USAGE, "unexpected argument: %s", argv[optind]);
	if (pubkey) {
		char signer[SIG_SIGNER_LEN];
		unsigned char pub[32];

		if (key == NULL)
			die_usage(USAGE, "--pubkey needs --key");
		svc_load_seed(key, st.seed);
		if (sig_public(st.seed, pub) != 0)
			die(EXIT_DATA, "%s: bad key", key);
		wipe(st.seed, sizeof(st.seed));
		sig_signer_string(signer, pub);
		puts(signer);
		close_stdout();
		return 0;
	}
	if (st.db == NULL)
		die_usage(USAGE, "--db is required");
	if (gen != NULL) {
		long n = strtol(gen, &end, 10);
		unsigned long long sd;

		if (*gen == '\0' || *end != '\0' || n < 0)
			die_usage(USAGE, "--gen: not a count: %s", gen);
		sd = strtoull(seed, &end, 10);
		if (*seed == '\0' || *end != '\0')
			die_usage(USAGE, "--seed: not a number: %s", seed);
		if (access(st.db, F_OK) == 0)
			die(EXIT_USAGE, "%s: exists; --gen creates a new database",
			    st.db);
		generate(st.db, n, sd);
		return 0;
	}
	if (access(st.db, R_OK) != 0)
		die_errno(EXIT_IO, "%s", st.db);
	if (dumpr != NULL) {
		dump(st.db, dumpr);
		close_stdout();
		return 0;
	}
	st.svc.name = PROG;
	if (!st.svc.plain) {
		if (key == NULL || trust == NULL || policy == NULL)
			die_usage(USAGE, "--key, --trust and --policy are required"
			    " (or --plain, for benchmarking only)");
		svc_load_seed(key, st.seed);
		svc_policy_load(&st.svc, policy);
		svc_verifier(&st.svc, trust, tee);
	}
	pthread_mutex_init(&st.svc.mu, NULL);
	svc_signals();
	svc_start(&st.svc, addr, port, portfile, handle, done);
	svc_wait(&st.svc);
	wipe(st.seed, sizeof(st.seed));
	svc_fini(&st.svc);
	return 0;
}
