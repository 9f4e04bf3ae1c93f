#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "agekey.h"
#include "b64.h"
#include "exitcode.h"
#include "message.h"
#include "sig.h"
#include "tiproto.h"

static int
isb64url(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int
istoken68(int c)
{
	return isb64url(c) || c == '.' || c == '~' || c == '+' || c == '/' ||
	    c == '=';
}

enum tiproto_scheme
tiproto_auth_parse(const char *hdr, const char **cred, size_t *credlen)
{
	enum tiproto_scheme sc;
	const char *p;
	size_t n;

	if (hdr == NULL)
		return TIPROTO_NONE;
	while (*hdr == ' ' || *hdr == '\t')
		hdr++;
	if (strncasecmp(hdr, "TI-Attest ", 10) == 0)
		sc = TIPROTO_ATTEST;
	else if (strncasecmp(hdr, "TI-Session ", 11) == 0)
		sc = TIPROTO_SESSION;
	else
		return TIPROTO_BAD;
	p = hdr + (sc == TIPROTO_ATTEST ? 10 : 11);
	while (*p == ' ')
		p++;
	for (n = 0; istoken68((unsigned char)p[n]); n++)
		;
	if (n == 0)
		return TIPROTO_BAD;
	while (p[n] == ' ' || p[n] == '\t')
		n++;
	if (p[n] != '\0')
		return TIPROTO_BAD;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*cred = p;
	*credlen = n;
	return sc;
}

void
tiproto_challenge_format(char *out, size_t n, const char *nonce)
{
	snprintf(out, n, "TI-Attest nonce=\"%s\"", nonce);
}

int
tiproto_challenge_parse(const char *hdr, char nonce[TIPROTO_NONCE_B64])
{
	const char *p = hdr;
	size_t i;

	/* Scan for the scheme, then for its nonce auth-param. */
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return -1;
		if (strncasecmp(p, "TI-Attest", 9) == 0 &&
		    (p[9] == ' ' || p[9] == '\t'))
			break;
		while (*p != '\0' && *p != ',')
			p++;
	}
	p += 9;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, "nonce", 5) == 0) {
			const char *q = p + 5;

			while (*q == ' ')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ')
					q++;
				p = q;
				break;
			}
		}
		/* Skip one auth-param (quoted strings may hold commas). */
		while (*p != '\0' && *p != ',') {
			if (*p == '"') {
				for (p++; *p != '\0' && *p != '"'; p++)
					if (*p == '\\' && p[1] != '\0')
						p++;
				if (*p == '"')
					p++;
			} else
				p++;
		}
		if (*p == '\0')
			return -1;
	}
	if (*p == '"')
		p++;
	for (i = 0; i < TIPROTO_NONCE_B64 - 1; i++) {
		if (!isb64url((unsigned char)p[i]))
			return -1;
		nonce[i] = p[i];
	}
	if (isb64url((unsigned char)p[i]))
		return -1;
	nonce[i] = '\0';
	return 0;
}

int
tiproto_nonce_new(char out[TIPROTO_NONCE_B64])
{
	unsigned char raw[TIPROTO_NONCE_LEN];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	b64_encode(out, raw, sizeof(raw), B64_URL);
	return 0;
}

int
tiproto_nonce_decode(const char *s, size_t min, size_t max,
    unsigned char *raw, size_t *rawlen)
{
	size_t n = strlen(s);
	unsigned char buf[96];

	if (n == 0 || n > b64_enclen(max, B64_URL) ||
	    b64_decode(buf, rawlen, s, n, B64_URL) != 0 || *rawlen < min ||
	    *rawlen > max)
		return -1;
	memcpy(raw, buf, *rawlen);
	return 0;
}

int
tiproto_idem_parse(const char *s, char *run, uint64_t *seq)
{
	const char *dot = strchr(s, '.');
	size_t rl, i;
	uint64_t v = 0;

	if (dot == NULL || (rl = (size_t)(dot - s)) == 0 ||
	    rl > MESSAGE_RUN_MAX)
		return -1;
	for (i = 0; i < rl; i++)
		if (!isb64url((unsigned char)s[i]))
			return -1;
	dot++;
	if (*dot == '\0' || (dot[0] == '0' && dot[1] != '\0'))
		return -1;
	for (; *dot != '\0'; dot++) {
		if (*dot < '0' || *dot > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*dot - '0');
	}
	memcpy(run, s, rl);
	run[rl] = '\0';
	*seq = v;
	return 0;
}

static const struct {
	const char *code;
	int status;
} errors[] = {
	{"bad-credentials", 400}, {"bad-idempotency-key", 400},
	{"bad-message", 400}, {"bad-signature", 400},
	{"no-credentials", 401}, {"nonce-unknown", 401},
	{"nonce-replayed", 401}, {"nonce-expired", 401},
	{"bad-evidence", 401}, {"session-expired", 401},
	{"policy-denied", 403}, {"signer-mismatch", 403},
	{"not-found", 404}, {"method-not-allowed", 405}, {"timeout", 408},
	{"idempotency-key-mismatch", 409}, {"too-large", 413},
	{"unsupported-media-type", 415}, {"rate-limited", 429},
	{"internal", 500}, {"unavailable", 503},
};

int
tiproto_error_status(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (strcmp(errors[i].code, code) == 0)
			return errors[i].status;
	return 500;
}

struct slot {
	char nonce[TIPROTO_NONCE_B64];
	time_t issued;
	int used;
};

struct tiproto_nonces {
	pthread_mutex_t lock;
	struct slot *slots;
	size_t cap, next;	/* next: the slot to (re)use, oldest first */
	long ttl;
};

struct tiproto_nonces *
tiproto_nonces_new(size_t cap, long ttl)
{
	struct tiproto_nonces *s;

	if (cap == 0 || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->slots = calloc(cap, sizeof(*s->slots))) == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->cap = cap;
	s->ttl = ttl > 0 ? ttl : TIPROTO_NONCE_TTL;
	return s;
}

void
tiproto_nonces_free(struct tiproto_nonces *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->slots);
	free(s);
}

int
tiproto_nonces_issue(struct tiproto_nonces *s, time_t now,
    char out[TIPROTO_NONCE_B64])
{
	if (tiproto_nonce_new(out) != 0)
		return -1;
	pthread_mutex_lock(&s->lock);
	memcpy(s->slots[s->next].nonce, out, TIPROTO_NONCE_B64);
	s->slots[s->next].issued = now;
	s->slots[s->next].used = 0;
	s->next = (s->next + 1) % s->cap;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

enum tiproto_nonce_state
tiproto_nonces_consume(struct tiproto_nonces *s, const char *b64, time_t now)
{
	enum tiproto_nonce_state st = TIPROTO_NONCE_UNKNOWN;
	size_t i;

	if (strlen(b64) != TIPROTO_NONCE_B64 - 1)
		return TIPROTO_NONCE_UNKNOWN;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->cap; i++) {
		struct slot *sl = &s->slots[i];

		if (sl->issued == 0 || CRYPTO_memcmp(sl->nonce, b64,
		    TIPROTO_NONCE_B64 - 1) != 0)
			continue;
		if (sl->used)
			st = TIPROTO_NONCE_REPLAYED;
		else if (now - sl->issued > s->ttl || now < sl->issued)
			st = TIPROTO_NONCE_EXPIRED;
		else
			st = TIPROTO_NONCE_OK;
		sl->used = 1;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return st;
}

const char *
tiproto_nonce_error(enum tiproto_nonce_state st)
{
	switch (st) {
	case TIPROTO_NONCE_OK:
		return NULL;
	case TIPROTO_NONCE_REPLAYED:
		return "nonce-replayed";
	case TIPROTO_NONCE_EXPIRED:
		return "nonce-expired";
	default:
		return "nonce-unknown";
	}
}

static int
claim(jv claims, const char *k, char *out, size_t n, struct err *e)
{
	jv v = jv_object_get(jv_copy(claims), jv_string(k));
	int rc = 0;

	if (jv_get_kind(v) != JV_KIND_STRING ||
	    strlen(jv_string_value(v)) >= n)
		rc = err_set(e, EXIT_DATA, "claims: missing or bad \"%s\"", k);
	else
		strcpy(out, jv_string_value(v));
	jv_free(v);
	return rc;
}

static int
unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	unsigned int b;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return s[2 * n] == '\0' ? 0 : -1;
}

int
tiproto_session_from_claims(jv claims, time_t now, long ttl,
    struct tiproto_session *s, struct err *e)
{
	char buf[256];
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (jv_get_kind(claims) != JV_KIND_OBJECT) {
		err_set(e, EXIT_DATA, "claims: not an object");
		goto out;
	}
	if (claim(claims, "sig_key", buf, sizeof(buf), e) != 0)
		goto out;
	if (sig_signer_parse(buf, s->sig_key, e) != 0)
		goto out;
	if (claim(claims, "recipient", buf, sizeof(buf), e) != 0)
		goto out;
	if (age_recipient_parse(buf, s->recipient, e) != 0)
		goto out;
	if (claim(claims, "measurement", buf, sizeof(buf), e) != 0)
		goto out;
	if (strncmp(buf, "sha256:", 7) != 0 ||
	    unhex(buf + 7, s->mdigest, 32) != 0) {
		err_set(e, EXIT_DATA, "claims: bad \"measurement\"");
		goto out;
	}
	if (claim(claims, "tee", s->tee, sizeof(s->tee), e) != 0)
		goto out;
	s->expires = (int64_t)now + (ttl > 0 ? ttl : TIPROTO_SESSION_TTL);
	rc = 0;
out:
	jv_free(claims);
	return rc;
}

void
tiproto_session_measurement(const struct tiproto_session *s, char *out)
{
	int i;

	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", s->mdigest[i]);
}

/* version 1 || expiry 8 || sig_key 32 || recipient 32 || mdigest 32 || tee 16 */
#define BODY_LEN (1 + 8 + 32 + 32 + 32 + 16)
#define RAW_LEN (BODY_LEN + 32)

static void
token_body(const struct tiproto_session *s, unsigned char *b)
{
	uint64_t x = (uint64_t)s->expires;
	int i;

	b[0] = 1;
	for (i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)(x >> (56 - 8 * i));
	memcpy(b + 9, s->sig_key, 32);
	memcpy(b + 41, s->recipient, 32);
	memcpy(b + 73, s->mdigest, 32);
	memset(b + 105, 0, 16);
	memcpy(b + 105, s->tee, strnlen(s->tee, 16));
}

void
tiproto_session_token(const unsigned char key[32],
    const struct tiproto_session *s, char out[TIPROTO_TOKEN_MAX])
{
	unsigned char raw[RAW_LEN];
	unsigned int ml = 32;

	token_body(s, raw);
	HMAC(EVP_sha256(), key, 32, raw, BODY_LEN, raw + BODY_LEN, &ml);
	b64_encode(out, raw, RAW_LEN, B64_URL);
}

int
tiproto_session_check(const unsigned char key[32], const char *token,
    size_t len, time_t now, struct tiproto_session *s)
{
	unsigned char raw[RAW_LEN + 8], mac[32];
	unsigned int ml = 32;
	uint64_t x = 0;
	size_t n;
	int i;

	if (len != b64_enclen(RAW_LEN, B64_URL) ||
	    b64_decode(raw, &n, token, len, B64_URL) != 0 || n != RAW_LEN ||
	    raw[0] != 1)
		return -1;
	HMAC(EVP_sha256(), key, 32, raw, BODY_LEN, mac, &ml);
	if (CRYPTO_memcmp(mac, raw + BODY_LEN, 32) != 0)
		return -1;
	for (i = 0; i < 8; i++)
		x = x << 8 | raw[1 + i];
	if ((int64_t)x < (int64_t)now)
		return -1;
	memset(s, 0, sizeof(*s));
	s->expires = (int64_t)x;
	memcpy(s->sig_key, raw + 9, 32);
	memcpy(s->recipient, raw + 41, 32);
	memcpy(s->mdigest, raw + 73, 32);
	memcpy(s->tee, raw + 105, 16);
	return 0;
}
