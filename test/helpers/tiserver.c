/*
 * tiserver: a service speaking docs/protocol.md, for the tests and the
 * benchmark of ti-fetch and ti-post, with fault injection.
 *
 *   tiserver serve [options]          serve until killed
 *   tiserver gen HOME MANIFEST N      N signed messages of one run (NDJSON)
 *   tiserver mint HOME MANIFEST KEY   a session token for MANIFEST
 *   tiserver quote HOME MANIFEST NONCE  evidence bound to NONCE
 *   tiserver open HOME MANIFEST       open the message on stdin as the process
 *
 * GET answers a message sealing --data to the attested recipient; POST
 * stores a message once per (run, seq) in the SQLite file --store; GET
 * /_stats prints "stored N" without authentication.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "age.h"
#include "b64.h"
#include "die.h"
#include "evidence.h"
#include "io.h"
#include "manifest.h"
#include "message.h"
#include "sig.h"
#include "tiproto.h"

const char *PROG = "tiserver";

struct srv {
	struct tiproto_nonces *nonces;
	struct verifier *verifier;
	unsigned char skey[32];		/* session MAC key */
	unsigned char seed[32];		/* service signing seed */
	unsigned char *data;
	size_t datalen, maxbody;
	sqlite3 *db;
	sqlite3_stmt *ins, *cnt;
	long session_ttl;
	int no_session, plaintext, badsig, mtls;
	double fail, drop, drop_after;
	int drop_count;
	int status, status_count, retry_after, delay_ms;
	const char *redirect, *log;
	FILE *logfp;
	pthread_mutex_t lock;		/* the store and the fault counters */
};

struct req {
	unsigned char *body;
	size_t len;
	int toolarge;
};

static double
rnd(void)
{
	uint32_t x;

	RAND_bytes((unsigned char *)&x, sizeof(x));
	return x / 4294967296.0;
}

/* Take one from a fault counter; 1 if there was one. */
static int
take(struct srv *s, int *n)
{
	int got;

	pthread_mutex_lock(&s->lock);
	if ((got = *n > 0))
		(*n)--;
	pthread_mutex_unlock(&s->lock);
	return got;
}

static enum MHD_Result
respond(struct MHD_Connection *c, unsigned int status, const char *ctype,
    const void *body, size_t len, const char *tierr, const char *challenge,
    const char *session, const char *extra, const char *extraval)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", ctype);
	if (tierr != NULL)
		MHD_add_response_header(r, "TI-Error", tierr);
	if (challenge != NULL)
		MHD_add_response_header(r, "WWW-Authenticate", challenge);
	if (session != NULL)
		MHD_add_response_header(r, "TI-Session", session);
	if (extra != NULL)
		MHD_add_response_header(r, extra, extraval);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
fail(struct MHD_Connection *c, const char *code, const char *reason,
    const char *session)
{
	char line[256];

	snprintf(line, sizeof(line), "%s\n", reason);
	return respond(c, (unsigned int)tiproto_error_status(code),
	    "text/plain; charset=utf-8", line, strlen(line), code, NULL,
	    session, NULL, NULL);
}

static enum MHD_Result
challenge(struct srv *s, struct MHD_Connection *c, const char *code,
    const char *reason)
{
	char nonce[TIPROTO_NONCE_B64], hdr[128], line[256];

	if (tiproto_nonces_issue(s->nonces, time(NULL), nonce) != 0)
		return fail(c, "internal", "no randomness", NULL);
	tiproto_challenge_format(hdr, sizeof(hdr), nonce);
	snprintf(line, sizeof(line), "%s\n", reason);
	return respond(c, 401, "text/plain; charset=utf-8", line,
	    strlen(line), code, hdr, NULL, NULL, NULL);
}

static int
client_cert_ok(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	unsigned int st = 0;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return 0;
	if (gnutls_certificate_get_peers(ci->tls_session, NULL) == NULL)
		return 0;
	return gnutls_certificate_verify_peers2(ci->tls_session, &st) == 0 &&
	    st == 0;
}

static enum MHD_Result
serve_get(struct srv *s, struct MHD_Connection *c,
    const struct tiproto_session *ss, const char *run, const char *token)
{
	struct message m;
	struct age_keys *k = NULL;
	struct err e;
	char *line;
	size_t n;
	enum MHD_Result rc;

	if (s->plaintext)
		return respond(c, 200, "text/plain", s->data, s->datalen, NULL,
		    NULL, token, NULL, NULL);
	memset(&m, 0, sizeof(m));
	snprintf(m.run, sizeof(m.run), "%s", run);
	m.seq = 0;
	m.last = 1;
	if ((k = age_keys_new()) == NULL ||
	    age_add_x25519_recipient(k, ss->recipient, &e) != 0 ||
	    age_seal_mem(s->data, s->datalen, k, 0, &m.sealed, &m.sealedlen,
	    &e) != 0 || message_sign(&m, s->seed, &e) != 0) {
		age_keys_free(k);
		message_fini(&m);
		return fail(c, "internal", "sealing failed", token);
	}
	age_keys_free(k);
	if (s->badsig)
		m.sig[0] ^= 1;
	line = message_format(&m, &n);
	message_fini(&m);
	line = realloc(line, n + 1);
	line[n++] = '\n';
	rc = respond(c, 200, TIPROTO_MEDIA, line, n, NULL, NULL, token, NULL,
	    NULL);
	free(line);
	return rc;
}

static enum MHD_Result
serve_post(struct srv *s, struct MHD_Connection *c,
    const struct tiproto_session *ss, struct req *q, const char *token)
{
	const char *ct, *idem;
	char irun[MESSAGE_RUN_MAX + 1], *line;
	uint64_t iseq = 0;
	struct message m;
	struct err e;
	int changes;

	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (ct == NULL || strncasecmp(ct, TIPROTO_MEDIA,
	    strlen(TIPROTO_MEDIA)) != 0 || (ct[strlen(TIPROTO_MEDIA)] != '\0'
	    && ct[strlen(TIPROTO_MEDIA)] != ';'))
		return fail(c, "unsupported-media-type",
		    "expected application/vnd.ti.message+json", token);
	if (q->toolarge)
		return fail(c, "too-large", "message too large", token);
	idem = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Idempotency-Key");
	if (idem != NULL && tiproto_idem_parse(idem, irun, &iseq) != 0)
		return fail(c, "bad-idempotency-key",
		    "Idempotency-Key is not <run>.<seq>", token);
	if (message_parse((const char *)q->body, q->len, &m, &e) != 0)
		return fail(c, "bad-message", e.msg, token);
	if (idem != NULL && (strcmp(irun, m.run) != 0 || iseq != m.seq)) {
		message_fini(&m);
		return fail(c, "idempotency-key-mismatch",
		    "Idempotency-Key differs from the message's run.seq", token);
	}
	if (memcmp(m.signer, ss->sig_key, 32) != 0) {
		message_fini(&m);
		return fail(c, "signer-mismatch",
		    "message signer is not the attested sig_key", token);
	}
	if (message_verify(&m, NULL, &e) != 0) {
		message_fini(&m);
		return fail(c, "bad-signature", e.msg, token);
	}
	line = (char *)q->body;
	pthread_mutex_lock(&s->lock);
	sqlite3_reset(s->ins);
	sqlite3_bind_text(s->ins, 1, m.run, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s->ins, 2, (sqlite3_int64)m.seq);
	sqlite3_bind_blob(s->ins, 3, line, (int)q->len, SQLITE_STATIC);
	message_fini(&m);
	if (sqlite3_step(s->ins) != SQLITE_DONE) {
		pthread_mutex_unlock(&s->lock);
		return fail(c, "internal", "store failed", token);
	}
	changes = sqlite3_changes(s->db);
	pthread_mutex_unlock(&s->lock);
	/* Stored, but the answer is lost: the client must try again. */
	if (s->drop_after > 0 && rnd() < s->drop_after)
		return MHD_NO;
	if (changes == 1)
		return respond(c, 201, "text/plain; charset=utf-8", "stored\n",
		    7, NULL, NULL, token, NULL, NULL);
	return respond(c, 200, "text/plain; charset=utf-8", "exists\n", 7,
	    NULL, NULL, token, NULL, NULL);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *uplen, void **ptr)
{
	struct srv *s = cls;
	struct req *q = *ptr;
	struct tiproto_session ss;
	enum tiproto_scheme sc;
	const char *auth, *cred, *tn;
	char token[TIPROTO_TOKEN_MAX], run[TIPROTO_NONCE_B64 + 64], ra[16];
	unsigned char raw[64];
	size_t credlen, rawlen;
	time_t now = time(NULL);
	int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

	(void)version;
	if (q == NULL) {
		const char *cl = MHD_lookup_connection_value(c,
		    MHD_HEADER_KIND, "Content-Length");

		if ((q = calloc(1, sizeof(*q))) == NULL)
			return MHD_NO;
		if (cl != NULL && strtoull(cl, NULL, 10) > s->maxbody)
			q->toolarge = 1;
		*ptr = q;
		return MHD_YES;
	}
	if (*uplen > 0) {
		if (!q->toolarge && q->len + *uplen <= s->maxbody) {
			unsigned char *nb = realloc(q->body, q->len + *uplen + 1);

			if (nb == NULL)
				return MHD_NO;
			q->body = nb;
			memcpy(q->body + q->len, upload, *uplen);
			q->len += *uplen;
		} else
			q->toolarge = 1;
		*uplen = 0;
		return MHD_YES;
	}
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	sc = tiproto_auth_parse(auth, &cred, &credlen);
	if (s->logfp != NULL) {
		fprintf(s->logfp, "%s %s auth=%s\n", method, url,
		    sc == TIPROTO_NONE ? "none" : sc == TIPROTO_ATTEST ?
		    "attest" : sc == TIPROTO_SESSION ? "session" : "bad");
		fflush(s->logfp);
	}
	if (strcmp(url, "/_stats") == 0) {
		char b[64];

		pthread_mutex_lock(&s->lock);
		sqlite3_reset(s->cnt);
		sqlite3_step(s->cnt);
		snprintf(b, sizeof(b), "stored %lld\n",
		    (long long)sqlite3_column_int64(s->cnt, 0));
		pthread_mutex_unlock(&s->lock);
		return respond(c, 200, "text/plain", b, strlen(b), NULL, NULL,
		    NULL, NULL, NULL);
	}
	if (s->delay_ms > 0)
		usleep((useconds_t)s->delay_ms * 1000);
	if (s->drop_count > 0 && take(s, &s->drop_count))
		return MHD_NO;
	if (s->drop > 0 && rnd() < s->drop)
		return MHD_NO;
	if (s->fail > 0 && rnd() < s->fail)
		return fail(c, "internal", "injected failure", NULL);
	if (s->status_count > 0 && take(s, &s->status_count)) {
		snprintf(ra, sizeof(ra), "%d", s->retry_after);
		return respond(c, (unsigned int)s->status,
		    "text/plain; charset=utf-8", "injected status\n", 16,
		    s->status == 429 ? "rate-limited" : "unavailable", NULL,
		    NULL, s->retry_after >= 0 ? "Retry-After" : NULL, ra);
	}
	if (s->redirect != NULL && strcmp(url, "/redirect") == 0)
		return respond(c, 302, "text/plain", "moved\n", 6, NULL, NULL,
		    NULL, "Location", s->redirect);
	if (s->mtls && !client_cert_ok(c))
		return fail(c, "policy-denied", "client certificate required",
		    NULL);
	if (!get && !post)
		return respond(c, 405, "text/plain; charset=utf-8",
		    "method not allowed\n", 19, "method-not-allowed", NULL,
		    NULL, "Allow", "GET, POST");
	tn = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "TI-Nonce");
	token[0] = '\0';
	switch (sc) {
	case TIPROTO_NONE:
		return challenge(s, c, "no-credentials",
		    "attestation required");
	case TIPROTO_BAD:
		return fail(c, "bad-credentials", "malformed Authorization",
		    NULL);
	case TIPROTO_SESSION:
		if (tiproto_session_check(s->skey, cred, credlen, now, &ss) != 0)
			return challenge(s, c, "session-expired",
			    "session expired");
		if (tn != NULL) {
			if (tiproto_nonce_decode(tn, 16, 64, raw, &rawlen) != 0)
				return fail(c, "bad-credentials",
				    "malformed TI-Nonce", NULL);
			snprintf(run, sizeof(run), "%s", tn);
		} else if (tiproto_nonce_new(run) != 0)
			return fail(c, "internal", "no randomness", NULL);
		break;
	case TIPROTO_ATTEST: {
		enum tiproto_nonce_state st;
		struct err e;
		jv claims;
		char *ev;
		int rc;

		if (tn == NULL || tiproto_nonce_decode(tn, 32, 32, raw,
		    &rawlen) != 0)
			return fail(c, "bad-credentials",
			    "missing or malformed TI-Nonce", NULL);
		if ((st = tiproto_nonces_consume(s->nonces, tn, now)) !=
		    TIPROTO_NONCE_OK)
			return challenge(s, c, tiproto_nonce_error(st),
			    tiproto_nonce_error(st));
		ev = strndup(cred, credlen);
		/* A verifier (its jq state and caches) is not shared. */
		pthread_mutex_lock(&s->lock);
		rc = verifier_check(s->verifier, ev, credlen, raw, rawlen,
		    &claims, &e);
		pthread_mutex_unlock(&s->lock);
		free(ev);
		if (rc != 0) {
			/* "policy denied: ...", "policy does not name sim" */
			if (strncmp(e.msg, "policy ", 7) == 0)
				return fail(c, "policy-denied", e.msg, NULL);
			return challenge(s, c, "bad-evidence", e.msg);
		}
		if (tiproto_session_from_claims(claims, now, s->session_ttl,
		    &ss, &e) != 0)
			return challenge(s, c, "bad-evidence", e.msg);
		if (!s->no_session)
			tiproto_session_token(s->skey, &ss, token);
		snprintf(run, sizeof(run), "%s", tn);
		break;
	}
	}
	if (get)
		return serve_get(s, c, &ss, run, token[0] ? token : NULL);
	return serve_post(s, c, &ss, q, token[0] ? token : NULL);
}

static void
done(void *cls, struct MHD_Connection *c, void **ptr,
    enum MHD_RequestTerminationCode tc)
{
	struct req *q = *ptr;

	(void)cls;
	(void)c;
	(void)tc;
	if (q != NULL) {
		free(q->body);
		free(q);
	}
	*ptr = NULL;
}

static void
readkey(const char *path, unsigned char k[32], int create)
{
	unsigned char *b;
	size_t n;
	struct err e;
	int fd;

	if (access(path, F_OK) != 0 && create) {
		RAND_bytes(k, 32);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
		    writeall(fd, k, 32) != 0)
			die_errno(EXIT_IO, "%s", path);
		close(fd);
		return;
	}
	if (io_slurp(path, 64, &b, &n, &e) != 0)
		die_err(&e);
	if (n != 32)
		die(EXIT_DATA, "%s: not 32 bytes", path);
	memcpy(k, b, 32);
	free(b);
}

static char *
slurp(const char *path)
{
	unsigned char *b;
	size_t n;
	struct err e;

	if (io_slurp(path, 1 << 20, &b, &n, &e) != 0)
		die_err(&e);
	return (char *)b;
}

static int
serve(int argc, char **argv)
{
	static const struct option lo[] = {
		{"port", required_argument, NULL, 'p'},
		{"port-file", required_argument, NULL, 'P'},
		{"trust", required_argument, NULL, 't'},
		{"policy", required_argument, NULL, 'y'},
		{"service-key", required_argument, NULL, 'k'},
		{"service-pub", required_argument, NULL, 'K'},
		{"session-key", required_argument, NULL, 'S'},
		{"data", required_argument, NULL, 'd'},
		{"store", required_argument, NULL, 's'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'x'},
		{"client-ca", required_argument, NULL, 'C'},
		{"fail-rate", required_argument, NULL, 'f'},
		{"drop-rate", required_argument, NULL, 'D'},
		{"status", required_argument, NULL, 'z'},
		{"drop-count", required_argument, NULL, 'j'},
		{"drop-after-rate", required_argument, NULL, 'J'},
		{"status-count", required_argument, NULL, 'n'},
		{"retry-after", required_argument, NULL, 'r'},
		{"delay-ms", required_argument, NULL, 'w'},
		{"redirect-to", required_argument, NULL, 'R'},
		{"nonce-ttl", required_argument, NULL, 'N'},
		{"session-ttl", required_argument, NULL, 'T'},
		{"no-session", no_argument, NULL, '0'},
		{"plaintext", no_argument, NULL, '1'},
		{"bad-sig", no_argument, NULL, '2'},
		{"log", required_argument, NULL, 'l'},
		{"max-body", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	struct srv s;
	struct verifier_opts vo;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	const char *portfile = NULL, *store = ":memory:", *cert = NULL,
	    *key = NULL, *ca = NULL, *data = NULL;
	char *certs = NULL, *keys = NULL, *cas = NULL, pub[SIG_SIGNER_LEN];
	unsigned char pk[32];
	struct err e;
	long nonce_ttl = 0;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int port = 0, o;
	sigset_t ss;
	FILE *fp;

	memset(&s, 0, sizeof(s));
	memset(&vo, 0, sizeof(vo));
	pthread_mutex_init(&s.lock, NULL);
	s.maxbody = 1 << 20;
	s.status = 503;
	s.retry_after = -1;
	RAND_bytes(s.skey, 32);
	RAND_bytes(s.seed, 32);
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'p': port = atoi(optarg); break;
		case 'P': portfile = optarg; break;
		case 't': vo.trust = optarg; break;
		case 'y': vo.policy = optarg; break;
		case 'k': readkey(optarg, s.seed, 1); break;
		case 'K':
			sig_public(s.seed, pk);
			sig_signer_string(pub, pk);
			if ((fp = fopen(optarg, "w")) == NULL)
				die_errno(EXIT_IO, "%s", optarg);
			fprintf(fp, "%s\n", pub);
			fclose(fp);
			break;
		case 'S': readkey(optarg, s.skey, 1); break;
		case 'd': data = optarg; break;
		case 's': store = optarg; break;
		case 'c': cert = optarg; break;
		case 'x': key = optarg; break;
		case 'C': ca = optarg; break;
		case 'f': s.fail = atof(optarg); break;
		case 'D': s.drop = atof(optarg); break;
		case 'z': s.status = atoi(optarg); break;
		case 'j': s.drop_count = atoi(optarg); break;
		case 'J': s.drop_after = atof(optarg); break;
		case 'n': s.status_count = atoi(optarg); break;
		case 'r': s.retry_after = atoi(optarg); break;
		case 'w': s.delay_ms = atoi(optarg); break;
		case 'R': s.redirect = optarg; break;
		case 'N': nonce_ttl = atol(optarg); break;
		case 'T': s.session_ttl = atol(optarg); break;
		case '0': s.no_session = 1; break;
		case '1': s.plaintext = 1; break;
		case '2': s.badsig = 1; break;
		case 'l': s.log = optarg; break;
		case 'm': s.maxbody = strtoul(optarg, NULL, 10); break;
		default: die(EXIT_USAGE, "bad option");
		}
	}
	if (vo.trust == NULL)
		die(EXIT_USAGE, "--trust is required");
	if (vo.policy == NULL)
		vo.policy = ".tee == \"sim\"";
	if ((s.verifier = verifier_new(&vo, &e)) == NULL)
		die_err(&e);
	s.nonces = tiproto_nonces_new(4096, nonce_ttl);
	if (data != NULL) {
		if (io_slurp(data, MESSAGE_MAX, &s.data, &s.datalen, &e) != 0)
			die_err(&e);
	} else {
		s.data = (unsigned char *)strdup("{\"hello\":\"world\"}\n");
		s.datalen = strlen((char *)s.data);
	}
	if (s.log != NULL && (s.logfp = fopen(s.log, "a")) == NULL)
		die_errno(EXIT_IO, "%s", s.log);
	if (sqlite3_open(store, &s.db) != SQLITE_OK ||
	    sqlite3_busy_timeout(s.db, 10000) != SQLITE_OK ||
	    sqlite3_exec(s.db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=OFF;"
	    "CREATE TABLE IF NOT EXISTS msg(run TEXT, seq INTEGER, body BLOB,"
	    " PRIMARY KEY(run, seq));", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s.db, "INSERT OR IGNORE INTO msg VALUES(?,?,?)",
	    -1, &s.ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s.db, "SELECT count(*) FROM msg", -1, &s.cnt,
	    NULL) != SQLITE_OK)
		die(EXIT_IO, "%s: %s", store, sqlite3_errmsg(s.db));
	if (cert != NULL) {
		flags |= MHD_USE_TLS;
		certs = slurp(cert);
		keys = slurp(key);
		if (ca != NULL) {
			cas = slurp(ca);
			s.mtls = 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, &s,
	    MHD_OPTION_NOTIFY_COMPLETED, done, &s,
	    /* Room for headers with up to 64 KiB of evidence. */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)160 * 1024,
	    MHD_OPTION_THREAD_POOL_SIZE, 2u,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    certs ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, certs,
	    MHD_OPTION_HTTPS_MEM_KEY, keys,
	    cas ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, cas,
	    MHD_OPTION_END);
	if (d == NULL)
		die(EXIT_NET, "cannot start the server on port %d", port);
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (portfile != NULL) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((fp = fopen(tmp, "w")) == NULL)
			die_errno(EXIT_IO, "%s", tmp);
		fprintf(fp, "%u\n", (unsigned)di->port);
		fclose(fp);
		rename(tmp, portfile);
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sigwait(&ss, &o);
	MHD_stop_daemon(d);
	sqlite3_finalize(s.ins);
	sqlite3_finalize(s.cnt);
	sqlite3_close(s.db);
	verifier_free(s.verifier);
	tiproto_nonces_free(s.nonces);
	free(s.data);
	free(certs);
	free(keys);
	free(cas);
	if (s.logfp != NULL)
		fclose(s.logfp);
	return 0;
}

static void
measure(const char *manifest, char *mm)
{
	struct err e;
	jv m;

	if (manifest_load(manifest, &m, &e) != 0 ||
	    manifest_measure(m, mm, &e) != 0)
		die_err(&e);
}

/* gen HOME MANIFEST N [BADSEQ]: N messages of one random run. */
static int
gen(int argc, char **argv)
{
	struct tikeys k;
	struct message m;
	struct err e;
	char mm[MEASUREMENT_LEN], *line;
	unsigned char rid[32], body[200];
	long i, n, bad = -1;
	size_t len;

	if (argc < 4)
		die(EXIT_USAGE, "gen HOME MANIFEST N [BADSEQ]");
	measure(argv[2], mm);
	if (evidence_keys(argv[1], mm, &k, &e) != 0)
		die_err(&e);
	n = atol(argv[3]);
	if (argc > 4)
		bad = atol(argv[4]);
	RAND_bytes(rid, 32);
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		message_run_id(m.run, rid);
		m.seq = (uint64_t)i;
		m.last = i == n - 1;
		RAND_bytes(body, sizeof(body));
		memcpy(body, "age-encryption.org/v1\n", 22);
		m.sealed = body;
		m.sealedlen = sizeof(body);
		message_sign(&m, k.ed_seed, &e);
		if (i == bad)
			m.sig[5] ^= 0x40;
		line = message_format(&m, &len);
		fwrite(line, 1, len, stdout);
		putchar('\n');
		free(line);
	}
	keys_wipe(&k);
	close_stdout();
	return 0;
}

/* mint HOME MANIFEST SESSIONKEY: a session token for the manifest. */
static int
mint(int argc, char **argv)
{
	struct tiproto_session s;
	struct tikeys k;
	struct err e;
	char mm[MEASUREMENT_LEN], tok[TIPROTO_TOKEN_MAX];
	unsigned char key[32];
	int i;
	unsigned int b;

	if (argc < 4)
		die(EXIT_USAGE, "mint HOME MANIFEST SESSIONKEY");
	measure(argv[2], mm);
	if (evidence_keys(argv[1], mm, &k, &e) != 0)
		die_err(&e);
	readkey(argv[3], key, 0);
	memset(&s, 0, sizeof(s));
	memcpy(s.sig_key, k.ed_pub, 32);
	memcpy(s.recipient, k.x_pub, 32);
	for (i = 0; i < 32; i++) {
		sscanf(mm + 7 + 2 * i, "%2x", &b);
		s.mdigest[i] = (unsigned char)b;
	}
	strcpy(s.tee, "sim");
	s.expires = (int64_t)time(NULL) + 3600;
	tiproto_session_token(key, &s, tok);
	keys_wipe(&k);
	printf("%s\n", tok);
	close_stdout();
	return 0;
}

/* quote HOME MANIFEST NONCE: evidence for MANIFEST bound to NONCE. */
static int
quote(int argc, char **argv)
{
	char mm[MEASUREMENT_LEN], *ev;
	unsigned char raw[64];
	size_t rl;
	struct err e;

	if (argc < 4)
		die(EXIT_USAGE, "quote HOME MANIFEST NONCE");
	measure(argv[2], mm);
	if (tiproto_nonce_decode(argv[3], 32, 32, raw, &rl) != 0)
		die(EXIT_DATA, "bad nonce");
	if (evidence_quote(argv[1], mm, raw, rl, NULL, &ev, &e) != 0)
		die_err(&e);
	printf("%s\n", ev);
	free(ev);
	close_stdout();
	return 0;
}

/* open HOME MANIFEST: the plaintext of the message on stdin, as the process. */
static int
open_msg(int argc, char **argv)
{
	char mm[MEASUREMENT_LEN], *line = NULL;
	size_t cap = 0, n;
	ssize_t r;
	struct message m;
	struct age_keys *k;
	struct tikeys t;
	unsigned char *pt;
	struct err e;

	if (argc < 3)
		die(EXIT_USAGE, "open HOME MANIFEST");
	measure(argv[2], mm);
	if ((r = getline(&line, &cap, stdin)) <= 0)
		die(EXIT_DATA, "no message");
	if (message_parse(line, (size_t)r, &m, &e) != 0 ||
	    evidence_keys(argv[1], mm, &t, &e) != 0 ||
	    (k = age_keys_new()) == NULL ||
	    age_add_x25519_identity(k, t.x_priv, &e) != 0 ||
	    age_open_mem(m.sealed, m.sealedlen, k, &pt, &n, &e) != 0)
		die_err(&e);
	fwrite(pt, 1, n, stdout);
	free(pt);
	free(line);
	age_keys_free(k);
	keys_wipe(&t);
	message_fini(&m);
	close_stdout();
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		die(EXIT_USAGE, "serve|gen|mint|quote|open ...");
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "gen") == 0)
		return gen(argc - 1, argv + 1);
	if (strcmp(argv[1], "mint") == 0)
		return mint(argc - 1, argv + 1);
	if (strcmp(argv[1], "quote") == 0)
		return quote(argc - 1, argv + 1);
	if (strcmp(argv[1], "open") == 0)
		return open_msg(argc - 1, argv + 1);
	die(EXIT_USAGE, "unknown command %s", argv[1]);
}
