/*
 * taxi-service: the Taxi of the store/taxi scenario. POST /bookings takes
 * messages (docs/formats.md) only from an attested process whose
 * measurement the policy file admits, signed by its attested key and
 * sealed to the taxi's own age identity; each (run, seq) is stored once,
 * and each customer gets at most one booking a day whatever arrives.
 * GET /bookings lists them for the operator holding the token.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>

#include "age.h"
#include "message.h"
#include "svc.h"

const char *PROG = "taxi-service";

#define USAGE \
"usage: taxi-service --db FILE --identity FILE --trust ROOTS --policy FILE\n" \
"                    --token-file FILE [--tee EXPR] [--listen ADDR]\n" \
"                    [--port N] [--port-file F]\n" \
"       taxi-service --db FILE --token-file FILE --plain [...]\n" \
"\n" \
"  --db FILE          the SQLite database of bookings (created if missing)\n" \
"  --identity FILE    the taxi's age identity (0600): opens what it is sent\n" \
"  --trust FILE       root certificates evidence must chain to\n" \
"  --policy FILE      {\"/bookings\": [\"sha256:...\"]}: measurements\n" \
"                     admitted to post bookings\n" \
"  --tee EXPR         jq policy over verified claims saying which platforms\n" \
"                     are admitted (default: .tee == \"sim\")\n" \
"  --token-file FILE  the operator's bearer token for GET /bookings (0600)\n" \
"  --listen ADDR      IPv4 address (default 127.0.0.1)\n" \
"  --port N           port (default 0: any free port)\n" \
"  --port-file F      write the bound port to F\n" \
"  --plain            PLAINTEXT TWIN FOR BENCHMARKING ONLY: POST /bookings\n" \
"                     takes plain NDJSON bookings, no attestation\n" \
"  -h, --help         this text\n" \
"  -V, --version      print version\n"

#define BODY_MAX (256u * 1024 * 1024)

struct taxi {
	struct svc svc;		/* first: handlers get it as cls */
	sqlite3 *db;		/* guarded by svc.mu */
	struct age_keys *id;
	unsigned char token[32];	/* SHA-256 of the operator's token */
};

struct req {
	struct buf body;
	int toolarge;
};

static void
dbexec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(EXIT_IO, "database: %s", sqlite3_errmsg(db));
}

static void
dbopen(struct taxi *t, const char *path)
{
	if (sqlite3_open(path, &t->db) != SQLITE_OK)
		die(EXIT_IO, "%s: %s", path, sqlite3_errmsg(t->db));
	sqlite3_busy_timeout(t->db, 5000);
	dbexec(t->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "CREATE TABLE IF NOT EXISTS messages("
	    " run TEXT NOT NULL, seq INTEGER NOT NULL,"
	    " measurement TEXT NOT NULL, received TEXT NOT NULL,"
	    " booked INTEGER NOT NULL, PRIMARY KEY (run, seq));"
	    "CREATE TABLE IF NOT EXISTS bookings("
	    " id INTEGER PRIMARY KEY, customer TEXT NOT NULL,"
	    " phone TEXT NOT NULL, address TEXT NOT NULL, date TEXT NOT NULL,"
	    " run TEXT NOT NULL, seq INTEGER NOT NULL,"
	    " UNIQUE (customer, date));");
}

static void
today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int
is_date(const char *s)
{
	int i;

	if (strlen(s) != 10)
		return 0;
	for (i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

/*
 * Store the bookings of one NDJSON payload (inside the caller's
 * transaction). Each line is {"customer", "phone", "address", "date"?};
 * a customer already booked that day is counted in *dup, not stored.
 * 0, or -1 with a reason that names no value.
 */
static int
store_bookings(struct taxi *t, const char *p, size_t n, const char *run,
    uint64_t seq, long *booked, long *dup, char *why, size_t whylen)
{
	sqlite3_stmt *ins = NULL;
	const char *q, *nl;
	char day[11];
	long line = 0;
	int rc = -1;

	today(day);
	if (sqlite3_prepare_v2(t->db, "INSERT OR IGNORE INTO bookings"
	    "(customer, phone, address, date, run, seq) VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6)", -1, &ins, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "database unavailable");
		return -1;
	}
	for (q = p; q < p + n; q = nl + 1) {
		jv o, cu, ph, ad, dt, cs;
		const char *date = day;
		int ok;

		if ((nl = memchr(q, '\n', (size_t)(p + n - q))) == NULL)
			nl = p + n;
		line++;
		if (nl == q)
			continue;
		o = jv_parse_sized(q, (int)(nl - q));
		if (jv_get_kind(o) != JV_KIND_OBJECT) {
			jv_free(o);
			snprintf(why, whylen, "booking %ld: not a JSON object",
			    line);
			goto out;
		}
		cu = jv_object_get(jv_copy(o), jv_string("customer"));
		ph = jv_object_get(jv_copy(o), jv_string("phone"));
		ad = jv_object_get(jv_copy(o), jv_string("address"));
		dt = jv_object_get(jv_copy(o), jv_string("date"));
		jv_free(o);
		ok = (jv_get_kind(cu) == JV_KIND_NUMBER ||
		    jv_get_kind(cu) == JV_KIND_STRING) &&
		    jv_get_kind(ph) == JV_KIND_STRING &&
		    jv_get_kind(ad) == JV_KIND_STRING &&
		    (jv_get_kind(dt) == JV_KIND_NULL ||
		    jv_get_kind(dt) == JV_KIND_INVALID ||
		    (jv_get_kind(dt) == JV_KIND_STRING &&
		    is_date(jv_string_value(dt))));
		if (ok && jv_get_kind(dt) == JV_KIND_STRING)
			date = jv_string_value(dt);
		cs = ok ? jv_dump_string(jv_copy(cu), 0) : jv_invalid();
		if (ok) {
			sqlite3_bind_text(ins, 1, jv_string_value(cs), -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_text(ins, 2, jv_string_value(ph), -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_text(ins, 3, jv_string_value(ad), -1,
			    SQLITE_TRANSIENT);
			sqlite3_bind_text(ins, 4, date, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ins, 5, run, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ins, 6, (sqlite3_int64)seq);
			ok = sqlite3_step(ins) == SQLITE_DONE;
			if (ok && sqlite3_changes(t->db) == 1)
				(*booked)++;
			else if (ok)
				(*dup)++;
			sqlite3_reset(ins);
			if (!ok)
				snprintf(why, whylen, "database unavailable");
		} else
			snprintf(why, whylen, "booking %ld: needs customer,"
			    " phone, address and an optional date YYYY-MM-DD",
			    line);
		jv_free(cs);
		jv_free(cu);
		jv_free(ph);
		jv_free(ad);
		jv_free(dt);
		if (!ok)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(ins);
	return rc;
}

/* Has (run, seq) been stored? 1 yes, 0 no, -1 error. */
static int
seen(struct taxi *t, const char *run, uint64_t seq)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(t->db, "SELECT 1 FROM messages WHERE run = ?1"
	    " AND seq = ?2", -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(q, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)seq);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int
record(struct taxi *t, const char *run, uint64_t seq, const char *meas,
    long booked)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(t->db, "INSERT INTO messages VALUES (?1, ?2,"
	    " ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?4)", -1, &q,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(q, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)seq);
	sqlite3_bind_text(q, 3, meas, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, booked);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	return rc;
}

static enum MHD_Result
post_plain(struct taxi *t, struct MHD_Connection *c, const char *url,
    struct buf *body)
{
	char why[160];
	long booked = 0, dup = 0;
	int rc;

	pthread_mutex_lock(&t->svc.mu);
	dbexec(t->db, "BEGIN IMMEDIATE");
	rc = store_bookings(t, body->p ? body->p : "", body->n, "plain", 0,
	    &booked, &dup, why, sizeof(why));
	dbexec(t->db, rc == 0 ? "COMMIT" : "ROLLBACK");
	pthread_mutex_unlock(&t->svc.mu);
	if (rc != 0)
		return svc_fail(&t->svc, c, "POST", url, "bad-bookings", NULL,
		    NULL, "%s", why);
	snprintf(why, sizeof(why), "plain: %ld booked, %ld ignored", booked,
	    dup);
	svc_log(&t->svc, "POST", url, 201, why);
	return svc_text(c, MHD_HTTP_CREATED, "stored\n", NULL);
}

/* Is the request's Content-Type the message media type (parameters aside)? */
static int
is_message_type(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen(TIPROTO_MEDIA);

	if (ct == NULL || strncasecmp(ct, TIPROTO_MEDIA, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * POST /bookings, in the order of docs/protocol.md section 5: the message
 * is checked, then opened with the taxi's identity and its bookings
 * stored in one transaction with its (run, seq); only then acknowledged.
 */
static enum MHD_Result
post(struct taxi *t, struct MHD_Connection *c, const char *url,
    struct req *r)
{
	struct svc *s = &t->svc;
	const char *hdrs[] = { "TI-Session", NULL, NULL };
	struct attested id;
	struct message m;
	struct err e = {0};
	enum MHD_Result ret;
	const char *ik;
	char krun[MESSAGE_RUN_MAX + 1], why[160], what[64];
	unsigned char *plain = NULL;
	size_t plainlen = 0;
	uint64_t kseq = 0;
	long booked = 0, dup = 0;
	int rc;

	if (!svc_attest(s, c, "POST", url, "/bookings", &id, &ret))
		return ret;
	hdrs[1] = id.session;
	if (!is_message_type(c))
		return svc_fail(s, c, "POST", url, "unsupported-media-type",
		    NULL, NULL, "Content-Type must be " TIPROTO_MEDIA);
	if (r->toolarge)
		return svc_fail(s, c, "POST", url, "too-large", NULL, NULL,
		    "body larger than %u bytes", BODY_MAX);
	ik = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Idempotency-Key");
	if (ik != NULL && tiproto_idem_parse(ik, krun, &kseq) != 0)
		return svc_fail(s, c, "POST", url, "bad-idempotency-key",
		    NULL, NULL, "Idempotency-Key is not <run>.<seq>");
	if (message_parse(r->body.p ? r->body.p : "", r->body.n, &m, &e) !=
	    0)
		return svc_fail(s, c, "POST", url, "bad-message", NULL, NULL,
		    "%s", e.msg);
	if (ik != NULL && (strcmp(krun, m.run) != 0 || kseq != m.seq)) {
		message_fini(&m);
		return svc_fail(s, c, "POST", url,
		    "idempotency-key-mismatch", NULL, NULL,
		    "Idempotency-Key differs from the message's run.seq");
	}
	if (CRYPTO_memcmp(m.signer, id.sig_key, 32) != 0) {
		message_fini(&m);
		return svc_fail(s, c, "POST", url, "signer-mismatch", NULL,
		    NULL, "message signer is not the attested sig_key");
	}
	if (message_verify(&m, id.sig_key, &e) != 0) {
		message_fini(&m);
		return svc_fail(s, c, "POST", url, "bad-signature", NULL,
		    NULL, "%s", e.msg);
	}
	pthread_mutex_lock(&s->mu);
	rc = seen(t, m.run, m.seq);
	if (rc == 0 && age_open_mem(m.sealed, m.sealedlen, t->id, &plain,
	    &plainlen, &e) != 0)
		rc = -2;
	if (rc == 0) {
		dbexec(t->db, "BEGIN IMMEDIATE");
		rc = store_bookings(t, (const char *)plain, plainlen, m.run,
		    m.seq, &booked, &dup, why, sizeof(why));
		if (rc == 0 && record(t, m.run, m.seq, id.measurement,
		    booked) != 0) {
			snprintf(why, sizeof(why), "database unavailable");
			rc = -1;
		}
		dbexec(t->db, rc == 0 ? "COMMIT" : "ROLLBACK");
		rc = rc == 0 ? 0 : -3;
	}
	pthread_mutex_unlock(&s->mu);
	if (plain != NULL) {
		wipe(plain, plainlen);
		free(plain);
	}
	message_fini(&m);
	switch (rc) {
	case 1:
		svc_log(s, "POST", url, 200, "exists");
		return svc_text(c, MHD_HTTP_OK, "exists\n", hdrs);
	case 0:
		snprintf(what, sizeof(what), "stored: %ld booked, %ld ignored",
		    booked, dup);
		svc_log(s, "POST", url, 201, what);
		return svc_text(c, MHD_HTTP_CREATED, "stored\n", hdrs);
	case -2:
		return svc_fail(s, c, "POST", url, "bad-bookings", NULL, NULL,
		    "unable to open the message: %s", e.msg);
	case -3:
		return svc_fail(s, c, "POST", url, "bad-bookings", NULL, NULL,
		    "%s", why);
	default:
		return svc_fail(s, c, "POST", url, "internal", NULL, NULL,
		    "database unavailable");
	}
}

static enum MHD_Result
list(struct taxi *t, struct MHD_Connection *c, const char *url)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char h[32];
	struct buf b = {0};
	sqlite3_stmt *q;
	int first = 1, rc;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return svc_fail(&t->svc, c, "GET", url, "no-token",
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer",
		    "operator token required");
	/* Hashing first makes the comparison independent of the length. */
	SHA256((const unsigned char *)auth + 7, strlen(auth + 7), h);
	if (CRYPTO_memcmp(h, t->token, 32) != 0)
		return svc_fail(&t->svc, c, "GET", url, "wrong-token", NULL,
		    NULL, "wrong operator token");
	pthread_mutex_lock(&t->svc.mu);
	rc = sqlite3_prepare_v2(t->db, "SELECT customer, phone, address, date"
	    " FROM bookings ORDER BY date, id", -1, &q, NULL);
	if (rc == SQLITE_OK) {
		buf_str(&b, "[");
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			buf_str(&b, first ? "\n{\"customer\":" :
			    ",\n{\"customer\":");
			buf_str(&b, (const char *)sqlite3_column_text(q, 0));
			buf_str(&b, ",\"phone\":");
			buf_json(&b, (const char *)sqlite3_column_text(q, 1));
			buf_str(&b, ",\"address\":");
			buf_json(&b, (const char *)sqlite3_column_text(q, 2));
			buf_str(&b, ",\"date\":");
			buf_json(&b, (const char *)sqlite3_column_text(q, 3));
			if (buf_str(&b, "}") != 0)
				break;
			first = 0;
		}
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&t->svc.mu);
	if (rc != SQLITE_DONE || buf_str(&b, "\n]\n") != 0) {
		buf_free(&b);
		return svc_fail(&t->svc, c, "GET", url,
		    "internal", NULL, NULL,
		    "database unavailable");
	}
	svc_log(&t->svc, "GET", url, 200, NULL);
	return svc_reply(c, 200, "application/json", b.p, b.n, NULL);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upsize, void **ctx)
{
	struct taxi *t = cls;
	struct req *r = *ctx;

	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		*ctx = r;
		return MHD_YES;
	}
	if (*upsize != 0) {
		if (r->body.n + *upsize > BODY_MAX)
			r->toolarge = 1;
		else if (buf_add(&r->body, upload, *upsize) != 0)
			return MHD_NO;
		*upsize = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/bookings") != 0)
		return svc_fail(&t->svc, c, method, url, "not-found",
		    NULL, NULL, "no such resource");
	if (strcmp(method, "GET") == 0)
		return list(t, c, url);
	if (strcmp(method, "POST") != 0)
		return svc_fail(&t->svc, c, method, url,
		    "method-not-allowed", MHD_HTTP_HEADER_ALLOW,
		    "GET, POST", "only GET and POST");
	if (t->svc.plain) {
		if (r->toolarge)
			return svc_fail(&t->svc, c, method, url, "too-large",
			    NULL, NULL, "body larger than %u bytes", BODY_MAX);
		return post_plain(t, c, url, &r->body);
	}
	return post(t, c, url, r);
}

static void
done(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *ctx;

	(void)cls;
	(void)c;
	(void)toe;
	if (r != NULL) {
		if (r->body.p != NULL)
			wipe(r->body.p, r->body.n);
		buf_free(&r->body);
		free(r);
	}
	*ctx = NULL;
}

static void
load_token(struct taxi *t, const char *path)
{
	unsigned char *p;
	size_t n;
	struct err e = {0};

	if (keyfile_read(path, &p, &n, &e) != 0)
		die_err(&e);
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n < 16) {
		keyfile_free(p, n);
		die(EXIT_DATA, "%s: token shorter than 16 characters", path);
	}
	SHA256(p, n, t->token);
	keyfile_free(p, n);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "identity", required_argument, NULL, 'i' },
		{ "trust", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "tee", required_argument, NULL, 'T' },
		{ "token-file", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'o' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "plain", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct taxi t;
	const char *db = NULL, *ident = NULL, *trust = NULL, *policy = NULL;
	const char *tee = ".tee == \"sim\"", *token = NULL;
	const char *addr = "127.0.0.1", *portfile = NULL;
	struct err e = {0};
	int ch, port = 0;
	char *end;

	while ((ch = getopt_long(argc, argv, "hV", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'i': ident = optarg; break;
		case 't': trust = optarg; break;
		case 'p': policy = optarg; break;
		case 'T': tee = optarg; break;
		case 'k': token = optarg; break;
		case 'l': addr = optarg; break;
		case 'o':
			port = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port < 0 ||
			    port > 65535)
				die_usage(USAGE, "--port: not a port: %s",
				    optarg);
			break;
		case 'f': portfile = optarg; break;
		case 'x': t.svc.plain = 1; break;
		case 'h': fputs(USAGE, stdout); close_stdout(); return 0;
		case 'V': puts("taxi-service " TI_VERSION); close_stdout();
			return 0;
		default: die_usage(USAGE, "unknown option");
		}
	}
	if (optind != argc)
		die_usage(USAGE, "unexpected argument: %s", argv[optind]);
	if (db == NULL || token == NULL)
		die_usage(USAGE, "--db and --token-file are required");
	t.svc.name = PROG;
	load_token(&t, token);
	if (!t.svc.plain) {
		if (ident == NULL || trust == NULL || policy == NULL)
			die_usage(USAGE, "--identity, --trust and --policy are"
			    " required (or --plain, for benchmarking only)");
		if ((t.id = age_keys_new()) == NULL)
			die(EXIT_IO, "out of memory");
		if (age_add_identity_file(t.id, ident, &e) != 0)
			die_err(&e);
		svc_policy_load(&t.svc, policy);
		svc_verifier(&t.svc, trust, tee);
	}
	dbopen(&t, db);
	pthread_mutex_init(&t.svc.mu, NULL);
	svc_signals();
	svc_start(&t.svc, addr, port, portfile, handle, done);
	svc_wait(&t.svc);
	sqlite3_close(t.db);
	age_keys_free(t.id);
	svc_fini(&t.svc);
	wipe(t.token, sizeof(t.token));
	return 0;
}
