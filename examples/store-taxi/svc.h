/*
 * What the store and taxi services share: listening, replies, the
 * attestation handshake of docs/protocol.md from the server's side
 * (challenge nonces, evidence, sessions), the access policy file, and the
 * service's own keys. Included by store-service.c and taxi-service.c.
 */
#ifndef SVC_H
#define SVC_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jv.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "agekey.h"
#include "b64.h"
#include "die.h"
#include "err.h"
#include "evidence.h"
#include "exitcode.h"
#include "io.h"
#include "keyfile.h"
#include "manifest.h"
#include "message.h"
#include "sig.h"
#include "tiproto.h"
#include "version.h"

#define SVC_NONCES 4096		/* outstanding challenges kept */

/* A growing byte buffer. */
struct buf {
	char *p;
	size_t n, cap;
};

static inline int
buf_grow(struct buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->n + more + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->n + more + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) != 0)
		return -1;
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static inline int
buf_str(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* s as a JSON string, quotes included. */
static inline int
buf_json(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char esc[7] = "\\u00";

	if (buf_grow(b, strlen(s) * 6 + 2) != 0)
		return -1;
	b->p[b->n++] = '"';
	for (; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\') {
			b->p[b->n++] = '\\';
			b->p[b->n++] = (char)*u;
		} else if (*u < 0x20) {
			esc[4] = hex[*u >> 4];
			esc[5] = hex[*u & 15];
			memcpy(b->p + b->n, esc, 6);
			b->n += 6;
		} else
			b->p[b->n++] = (char)*u;
	}
	b->p[b->n++] = '"';
	b->p[b->n] = '\0';
	return 0;
}

static inline void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* The identity a request proved: evidence checked now, or its session. */
struct attested {
	char measurement[MEASUREMENT_LEN];
	char recipient[AGE_RECIPIENT_LEN];
	unsigned char sig_key[32];
	char run[MESSAGE_RUN_MAX + 1];		/* for a GET's reply */
	char session[TIPROTO_TOKEN_MAX];	/* new session token, or "" */
};

struct svc {
	const char *name;		/* for logs: "store-service" */
	int plain;			/* benchmarking twin: no protocol */
	pthread_mutex_t mu;		/* guards the service's database */
	struct tiproto_nonces *nonces;
	unsigned char skey[32];		/* MACs session tokens */
	struct verifier *ver;
	pthread_mutex_t vmu;		/* the verifier is not shared */
	char **policy;			/* "resource measurement" pairs */
	size_t npolicy;
	struct MHD_Daemon *d;
};

static inline void
svc_log(const struct svc *s, const char *method, const char *url, int status,
    const char *what)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s %s %s %d%s%s\n", ts, s->name, method, url,
	    status, what ? " " : "", what ? what : "");
}

/* Queue a reply taking ownership of body (malloc'd, may be NULL). */
static inline enum MHD_Result
svc_reply(struct MHD_Connection *c, unsigned status, const char *ctype,
    char *body, size_t len, const char *const *hdrs)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body ? body : "",
	    body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	if (ctype != NULL)
		MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	for (; hdrs != NULL && hdrs[0] != NULL; hdrs += 2)
		if (hdrs[1] != NULL && hdrs[1][0] != '\0')
			MHD_add_response_header(r, hdrs[0], hdrs[1]);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A short text reply ("stored\n") with optional headers. */
static inline enum MHD_Result
svc_text(struct MHD_Connection *c, unsigned status, const char *text,
    const char *const *hdrs)
{
	char *b = strdup(text);

	if (b == NULL)
		return MHD_NO;
	return svc_reply(c, status, "text/plain; charset=utf-8", b,
	    strlen(b), hdrs);
}

/* The status of a TI-Error code, with this service's own few besides. */
static inline int
svc_status(const char *code)
{
	static const struct { const char *code; int status; } own[] = {
		{ "bad-request", 400 },		/* a malformed query */
		{ "response-too-large", 400 },	/* page it with ?limit= */
		{ "no-token", 401 },		/* the operator's listing */
		{ "wrong-token", 403 },
		{ "bad-bookings", 422 },	/* a payload that is no bookings */
	};
	size_t i;

	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcmp(own[i].code, code) == 0)
			return own[i].status;
	return tiproto_error_status(code);
}

/*
 * A failure of docs/protocol.md section 6: the status of its TI-Error
 * code, a one-line reason (no data), logged. Every 401 carries a fresh
 * challenge; hname/hvalue add one more header (Allow).
 */
static inline enum MHD_Result
svc_fail(struct svc *s, struct MHD_Connection *c, const char *method,
    const char *url, const char *code, const char *hname, const char *hvalue,
    const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static inline enum MHD_Result
svc_fail(struct svc *s, struct MHD_Connection *c, const char *method,
    const char *url, const char *code, const char *hname, const char *hvalue,
    const char *fmt, ...)
{
	char msg[200], nonce[TIPROTO_NONCE_B64], chal[TIPROTO_NONCE_B64 + 32];
	const char *hdrs[7] = { "TI-Error", code, hname, hvalue };
	int status = svc_status(code);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	svc_log(s, method, url, status, msg);
	msg[n++] = '\n';
	msg[n] = '\0';
	if (hname == NULL)
		hdrs[2] = NULL;
	if (tiproto_error_status(code) == 401 && s->nonces != NULL) {
		if (tiproto_nonces_issue(s->nonces, time(NULL), nonce) != 0)
			return MHD_NO;
		tiproto_challenge_format(chal, sizeof(chal), nonce);
		hdrs[hname ? 4 : 2] = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		hdrs[hname ? 5 : 3] = chal;
	}
	return svc_text(c, (unsigned)status, msg, hdrs);
}

/* Is measurement admitted for resource by the policy file? */
static inline int
svc_admits(const struct svc *s, const char *resource, const char *measurement)
{
	size_t i, rl = strlen(resource);

	for (i = 0; i < s->npolicy; i++)
		if (strncmp(s->policy[i], resource, rl) == 0 &&
		    s->policy[i][rl] == ' ' &&
		    strcmp(s->policy[i] + rl + 1, measurement) == 0)
			return 1;
	return 0;
}

static inline void
svc_identity(const struct tiproto_session *se, struct attested *id)
{
	tiproto_session_measurement(se, id->measurement);
	age_recipient_string(id->recipient, se->recipient);
	memcpy(id->sig_key, se->sig_key, 32);
}

/*
 * Authentication (docs/protocol.md section 3) of one request to
 * resource. Returns 1 with *id filled when the request may proceed;
 * otherwise 0 after queueing the failure in *ret: nothing of the request
 * has been looked at.
 */
static inline int
svc_attest(struct svc *s, struct MHD_Connection *c, const char *method,
    const char *url, const char *resource, struct attested *id,
    enum MHD_Result *ret)
{
	const char *auth, *nonce, *cred;
	unsigned char raw[64];
	struct tiproto_session se;
	enum tiproto_nonce_state ns;
	struct err e = {0};
	jv claims = jv_invalid();
	size_t len, rawlen;
	time_t now = time(NULL);
	int rc;

	memset(id, 0, sizeof(*id));
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	nonce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "TI-Nonce");
	switch (tiproto_auth_parse(auth, &cred, &len)) {
	case TIPROTO_NONE:
		*ret = svc_fail(s, c, method, url, "no-credentials", NULL,
		    NULL, "attestation required");
		return 0;
	case TIPROTO_BAD:
		*ret = svc_fail(s, c, method, url, "bad-credentials", NULL,
		    NULL, "malformed Authorization");
		return 0;
	case TIPROTO_SESSION:
		if (tiproto_session_check(s->skey, cred, len, now, &se) != 0) {
			*ret = svc_fail(s, c, method, url, "session-expired",
			    NULL, NULL, "session unknown or expired");
			return 0;
		}
		if (nonce != NULL && tiproto_nonce_decode(nonce, 16, 64, raw,
		    &rawlen) != 0) {
			*ret = svc_fail(s, c, method, url, "bad-credentials",
			    NULL, NULL, "malformed TI-Nonce");
			return 0;
		}
		svc_identity(&se, id);
		if (nonce != NULL)
			snprintf(id->run, sizeof(id->run), "%s", nonce);
		else if (tiproto_nonce_new(id->run) != 0)
			return (*ret = MHD_NO), 0;
		break;
	case TIPROTO_ATTEST:
		if (nonce == NULL || tiproto_nonce_decode(nonce, 32, 32, raw,
		    &rawlen) != 0) {
			*ret = svc_fail(s, c, method, url, "bad-credentials",
			    NULL, NULL, "missing or malformed TI-Nonce");
			return 0;
		}
		ns = tiproto_nonces_consume(s->nonces, nonce, now);
		if (ns != TIPROTO_NONCE_OK) {
			*ret = svc_fail(s, c, method, url,
			    tiproto_nonce_error(ns), NULL, NULL, "%s",
			    tiproto_nonce_error(ns));
			return 0;
		}
		pthread_mutex_lock(&s->vmu);
		rc = verifier_check(s->ver, cred, len, raw, rawlen, &claims,
		    &e);
		pthread_mutex_unlock(&s->vmu);
		if (rc != 0) {
			/* The platform policy (which TEEs) is policy too. */
			if (strncmp(e.msg, "policy denied", 13) == 0)
				*ret = svc_fail(s, c, method, url,
				    "policy-denied", NULL, NULL, "%s", e.msg);
			else
				*ret = svc_fail(s, c, method, url,
				    "bad-evidence", NULL, NULL, "%s", e.msg);
			return 0;
		}
		if (tiproto_session_from_claims(claims, now, 0, &se, &e) != 0) {
			*ret = svc_fail(s, c, method, url, "bad-evidence",
			    NULL, NULL, "%s", e.msg);
			return 0;
		}
		svc_identity(&se, id);
		snprintf(id->run, sizeof(id->run), "%s", nonce);
		tiproto_session_token(s->skey, &se, id->session);
		break;
	}
	if (!svc_admits(s, resource, id->measurement)) {
		*ret = svc_fail(s, c, method, url, "policy-denied", NULL, NULL,
		    "policy denied: measurement not admitted for %s",
		    resource);
		return 0;
	}
	return 1;
}

/*
 * Load the policy file: a JSON object naming, for each resource path, the
 * measurements admitted to it: {"/customers": ["sha256:..."]}. It is kept
 * as plain strings: jv values are not safe to share between threads.
 */
static inline void
svc_policy_load(struct svc *s, const char *path)
{
	unsigned char *p;
	size_t n;
	struct err e = {0};
	jv v, keys;
	int i, k;

	if (io_slurp(path, 1024 * 1024, &p, &n, &e) != 0)
		die_err(&e);
	v = jv_parse_sized((const char *)p, (int)n);
	free(p);
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		die(EXIT_DATA, "%s: policy must be a JSON object", path);
	keys = jv_keys(jv_copy(v));
	for (i = 0; i < jv_array_length(jv_copy(keys)); i++) {
		jv r = jv_array_get(jv_copy(keys), i);
		jv l = jv_object_get(jv_copy(v), jv_copy(r));

		if (jv_get_kind(l) != JV_KIND_ARRAY)
			die(EXIT_DATA, "%s: \"%s\" must be an array", path,
			    jv_string_value(r));
		for (k = 0; k < jv_array_length(jv_copy(l)); k++) {
			jv m = jv_array_get(jv_copy(l), k);
			char **np;

			if (jv_get_kind(m) != JV_KIND_STRING ||
			    strncmp(jv_string_value(m), "sha256:", 7) != 0 ||
			    strlen(jv_string_value(m)) != MEASUREMENT_LEN - 1)
				die(EXIT_DATA, "%s: \"%s\": not a measurement",
				    path, jv_string_value(r));
			np = realloc(s->policy, (s->npolicy + 1) *
			    sizeof(*np));
			if (np == NULL || asprintf(&np[s->npolicy], "%s %s",
			    jv_string_value(r), jv_string_value(m)) < 0)
				die(EXIT_IO, "out of memory");
			s->policy = np;
			s->npolicy++;
			jv_free(m);
		}
		jv_free(l);
		jv_free(r);
	}
	jv_free(keys);
	jv_free(v);
}

static inline void
svc_fini(struct svc *s)
{
	size_t i;

	for (i = 0; i < s->npolicy; i++)
		free(s->policy[i]);
	free(s->policy);
	verifier_free(s->ver);
	tiproto_nonces_free(s->nonces);
	wipe(s->skey, sizeof(s->skey));
}

/* Trust roots and the platform policy (which TEEs are admitted at all). */
static inline void
svc_verifier(struct svc *s, const char *trust, const char *tee)
{
	struct verifier_opts o = {0};
	struct err e = {0};

	o.trust = trust;
	o.policy = tee;
	o.max_age = 300;
	if ((s->ver = verifier_new(&o, &e)) == NULL)
		die_err(&e);
	pthread_mutex_init(&s->vmu, NULL);
	if ((s->nonces = tiproto_nonces_new(SVC_NONCES, 0)) == NULL)
		die(EXIT_IO, "out of memory");
	if (RAND_bytes(s->skey, sizeof(s->skey)) != 1)
		die(EXIT_IO, "no randomness");
}

/* An Ed25519 private key (PEM, as `openssl genpkey -algorithm ed25519`). */
static inline void
svc_load_seed(const char *path, unsigned char seed[32])
{
	unsigned char *buf;
	size_t n, sl = 32;
	struct err e = {0};
	EVP_PKEY *k = NULL;
	BIO *b;

	if (keyfile_read(path, &buf, &n, &e) != 0)
		die_err(&e);
	if ((b = BIO_new_mem_buf(buf, (int)n)) != NULL) {
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	keyfile_free(buf, n);
	if (k == NULL || EVP_PKEY_id(k) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_private_key(k, seed, &sl) != 1 || sl != 32) {
		EVP_PKEY_free(k);
		die(EXIT_DATA, "%s: not an Ed25519 private key in PEM", path);
	}
	EVP_PKEY_free(k);
}

/* Start listening; the bound port is written to portfile if given. */
static inline void
svc_start(struct svc *s, const char *addr, int port, const char *portfile,
    MHD_AccessHandlerCallback h, MHD_RequestCompletedCallback done)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;
	struct outfile o = {0};
	struct err e = {0};

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		die(EXIT_USAGE, "%s: not an IPv4 address", addr);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, h, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
	    MHD_OPTION_NOTIFY_COMPLETED, done, s,
	    MHD_OPTION_END);
	if (s->d == NULL)
		die(EXIT_NET, "unable to listen on %s:%d", addr, port);
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	port = di ? di->port : port;
	if (s->plain)
		warn("--plain: PLAINTEXT TWIN FOR BENCHMARKING ONLY: no "
		    "attestation, no sealing");
	warn("listening on %s:%d", addr, port);
	if (portfile != NULL) {
		if (outfile_open(&o, portfile, 0644, &e) != 0)
			die_err(&e);
		fprintf(o.fp, "%d\n", port);
		if (outfile_commit(&o, &e) != 0)
			die_err(&e);
	}
}

/* Serve until SIGTERM or SIGINT, then stop. */
static inline void
svc_wait(struct svc *s)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigwait(&set, &sig);
	MHD_stop_daemon(s->d);
	warn("stopped");
}

/* Block the stop signals before any thread starts, so svc_wait gets them. */
static inline void
svc_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

#endif
