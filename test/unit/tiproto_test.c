/* The protocol library: headers, nonces, idempotency keys, session tokens. */
#include <string.h>

#include "http.h"
#include "message.h"
#include "tiproto.h"
#include "tap.h"

static void
headers(void)
{
	const char *c;
	size_t n;
	char nonce[TIPROTO_NONCE_B64], buf[128];
	const char *good = "q2xJ0o4b0m8V7mJ6c9m1dQ0bS1sK6rC2s0bLrD7mXQ4";

	ok(tiproto_auth_parse(NULL, &c, &n) == TIPROTO_NONE, "no header");
	ok(tiproto_auth_parse("TI-Attest eyJ.a-b_c.d", &c, &n) ==
	    TIPROTO_ATTEST && n == 11 && strncmp(c, "eyJ.a-b_c.d", n) == 0,
	    "TI-Attest credential");
	ok(tiproto_auth_parse("ti-session  tok== ", &c, &n) == TIPROTO_SESSION &&
	    n == 5, "scheme case-insensitive, spaces trimmed");
	ok(tiproto_auth_parse("Bearer x", &c, &n) == TIPROTO_BAD, "other scheme");
	ok(tiproto_auth_parse("TI-Attest a b", &c, &n) == TIPROTO_BAD,
	    "two tokens");
	ok(tiproto_auth_parse("TI-Attest ", &c, &n) == TIPROTO_BAD, "empty");
	ok(tiproto_auth_parse("TI-Attest a,b", &c, &n) == TIPROTO_BAD, "comma");

	tiproto_challenge_format(buf, sizeof(buf), good);
	ok(strcmp(buf, "TI-Attest nonce=\"q2xJ0o4b0m8V7mJ6c9m1dQ0bS1sK6rC2s0bLrD7mXQ4\"")
	    == 0, "challenge format");
	ok(tiproto_challenge_parse(buf, nonce) == 0 && strcmp(nonce, good) == 0,
	    "challenge round trip");
	snprintf(buf, sizeof(buf), "Basic realm=\"a,b\", TI-Attest "
	    "realm=\"x, y\", nonce=\"%s\", max-age=60", good);
	ok(tiproto_challenge_parse(buf, nonce) == 0 && strcmp(nonce, good) == 0,
	    "challenge among other schemes and params");
	ok(tiproto_challenge_parse("TI-Attest nonce=\"short\"", nonce) != 0,
	    "short nonce refused");
	snprintf(buf, sizeof(buf), "TI-Attest nonce=\"%sA\"", good);
	ok(tiproto_challenge_parse(buf, nonce) != 0, "long nonce refused");
	ok(tiproto_challenge_parse("Basic realm=x", nonce) != 0, "no challenge");
}

static void
idem(void)
{
	char run[MESSAGE_RUN_MAX + 1];
	uint64_t seq;

	ok(tiproto_idem_parse("abc_-9.12", run, &seq) == 0 &&
	    strcmp(run, "abc_-9") == 0 && seq == 12, "idempotency key");
	ok(tiproto_idem_parse("abc.0", run, &seq) == 0 && seq == 0, "seq 0");
	ok(tiproto_idem_parse("abc.01", run, &seq) != 0, "leading zero");
	ok(tiproto_idem_parse(".1", run, &seq) != 0, "empty run");
	ok(tiproto_idem_parse("a=b.1", run, &seq) != 0, "bad run character");
	ok(tiproto_idem_parse("abc.", run, &seq) != 0, "empty seq");
	ok(tiproto_idem_parse("abc.99999999999999999999", run, &seq) != 0,
	    "seq overflow");
	ok(tiproto_error_status("idempotency-key-mismatch") == 409 &&
	    tiproto_error_status("session-expired") == 401 &&
	    tiproto_error_status("nope") == 500, "error statuses");
}

static void
nonces(void)
{
	struct tiproto_nonces *s = tiproto_nonces_new(2, 60);
	char a[TIPROTO_NONCE_B64], b[TIPROTO_NONCE_B64], c[TIPROTO_NONCE_B64];
	unsigned char raw[64];
	size_t rl;

	ok(tiproto_nonces_issue(s, 1000, a) == 0 && strlen(a) == 43,
	    "issue a nonce");
	ok(tiproto_nonce_decode(a, 32, 32, raw, &rl) == 0 && rl == 32,
	    "32 bytes");
	ok(tiproto_nonces_consume(s, a, 1010) == TIPROTO_NONCE_OK, "first use");
	ok(tiproto_nonces_consume(s, a, 1011) == TIPROTO_NONCE_REPLAYED,
	    "second use is a replay");
	tiproto_nonces_issue(s, 1000, b);
	ok(tiproto_nonces_consume(s, b, 1061) == TIPROTO_NONCE_EXPIRED,
	    "expired");
	ok(tiproto_nonces_consume(s, b, 1001) != TIPROTO_NONCE_OK,
	    "an expired nonce stays used");
	tiproto_nonces_issue(s, 2000, a);
	tiproto_nonces_issue(s, 2000, b);
	tiproto_nonces_issue(s, 2000, c);
	ok(tiproto_nonces_consume(s, a, 2001) == TIPROTO_NONCE_UNKNOWN,
	    "the oldest is forgotten when full");
	ok(tiproto_nonces_consume(s, c, 2001) == TIPROTO_NONCE_OK, "newest kept");
	ok(tiproto_nonces_consume(s, "AAAA", 2001) == TIPROTO_NONCE_UNKNOWN,
	    "garbage is unknown");
	ok(strcmp(tiproto_nonce_error(TIPROTO_NONCE_REPLAYED), "nonce-replayed")
	    == 0, "error code");
	ok(tiproto_nonce_decode("AAAA", 16, 64, raw, &rl) != 0, "too short");
	ok(tiproto_nonce_decode("AAAAAAAAAAAAAAAAAAAAAA", 16, 64, raw, &rl) == 0
	    && rl == 16, "16 bytes for a session request");
	tiproto_nonces_free(s);
	tiproto_nonces_free(NULL);
}

static void
sessions(void)
{
	unsigned char key[32], other[32];
	struct tiproto_session s, t;
	char tok[TIPROTO_TOKEN_MAX], m[80];
	jv claims;
	struct err e;

	memset(key, 7, 32);
	memset(other, 8, 32);
	claims = jv_parse("{\"tee\":\"sim\",\"measurement\":\"sha256:"
	    "4e61e42ec316a01b74fc18cc58eec7708585aa3eb74a5ade1d648531541e3d01\","
	    "\"recipient\":\"age14hgxkn3tm0lknctqe4h0qh0jncqgaxlnyy93n7qftega0xv495qs74du40\","
	    "\"sig_key\":\"ed25519:Ci47q0BtBYoLidjVtVf2wfCSjbnFhsxGCxJCY2-Koms\"}");
	ok(tiproto_session_from_claims(claims, 1000, 600, &s, &e) == 0 &&
	    s.expires == 1600 && strcmp(s.tee, "sim") == 0, "session from claims");
	tiproto_session_measurement(&s, m);
	ok(strcmp(m, "sha256:4e61e42ec316a01b74fc18cc58eec7708585aa3eb74a5ade1d648531541e3d01") == 0,
	    "measurement kept");
	tiproto_session_token(key, &s, tok);
	ok(tiproto_session_check(key, tok, strlen(tok), 1599, &t) == 0 &&
	    memcmp(&s, &t, sizeof(s)) == 0, "token round trip");
	ok(tiproto_session_check(key, tok, strlen(tok), 1601, &t) != 0,
	    "expired token");
	ok(tiproto_session_check(other, tok, strlen(tok), 1000, &t) != 0,
	    "another service's key");
	tok[10] = tok[10] == 'A' ? 'B' : 'A';
	ok(tiproto_session_check(key, tok, strlen(tok), 1000, &t) != 0,
	    "tampered token");
	ok(tiproto_session_check(key, "abc", 3, 1000, &t) != 0, "garbage token");
	claims = jv_parse("{\"tee\":\"sim\",\"measurement\":\"md5:x\"}");
	ok(tiproto_session_from_claims(claims, 1000, 600, &s, &e) != 0,
	    "bad claims refused");
}

static void
client(void)
{
	char o[512];

	ok(http_origin("HTTP://Example.COM/a?b", o, sizeof(o)) == 0 &&
	    strcmp(o, "http://example.com:80") == 0, "origin with default port");
	ok(http_origin("https://127.0.0.1:8443/x", o, sizeof(o)) == 0 &&
	    strcmp(o, "https://127.0.0.1:8443") == 0, "origin with port");
	ok(http_retryable(503) && http_retryable(429) && http_retryable(408) &&
	    !http_retryable(400) && !http_retryable(401), "retryable statuses");
	ok(http_backoff_ms(1, 100, 5000, -1) >= 50 &&
	    http_backoff_ms(1, 100, 5000, -1) <= 100, "first wait");
	ok(http_backoff_ms(20, 100, 5000, -1) <= 5000, "capped");
	ok(http_backoff_ms(1, 100, 5000, 3) >= 3000, "Retry-After wins");
}

int
main(void)
{
	headers();
	idem();
	nonces();
	sessions();
	client();
	return tap_done();
}
