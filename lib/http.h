#ifndef TI_HTTP_H
#define TI_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "err.h"
#include "manifest.h"
#include "tiproto.h"

/*
 * What ti-fetch and ti-post share on top of libcurl: transfer options,
 * response capture with the protocol's headers parsed, retry timing,
 * verbose output with credentials elided, and attesting to a challenge.
 */

struct http_opts {
	const char *cacert;	/* --cacert */
	const char *cert, *key;	/* --cert, --key: mutual TLS */
	int insecure;		/* --insecure */
	long timeout_ms;	/* -m, 0: none */
	long connect_ms;	/* --connect-timeout, 0: libcurl's */
	int verbose;		/* -v: headers on stderr, credentials elided */
};

/* Apply o to h (TLS, timeouts, keep-alive, HTTP/2, verbose). */
void http_setup(CURL *h, const struct http_opts *o);

/* A response as ti reads it. */
struct http_resp {
	long status;
	unsigned char *body;	/* NUL-terminated, owned */
	size_t len, cap, max;	/* max: larger bodies fail the transfer */
	int toolarge;
	int challenge;		/* a TI-Attest challenge was seen */
	char nonce[TIPROTO_NONCE_B64];
	char session[TIPROTO_TOKEN_MAX];	/* TI-Session, "" if none */
	char tierror[64];
	char ctype[128];
	char location[2048];
	long retry_after;	/* seconds, -1 if none */
	FILE *sink;		/* if set, body bytes go here, not to body */
};

/* Zero r and set its body limit. */
void http_resp_init(struct http_resp *r, size_t max);

/* Forget the last response, keeping the buffer. */
void http_resp_reset(struct http_resp *r);

/* Free what r owns. */
void http_resp_fini(struct http_resp *r);

/* Point h's header and body callbacks at r. */
void http_resp_attach(CURL *h, struct http_resp *r);

/* The first line of r's body, printable ASCII only, into out. */
void http_reason(const struct http_resp *r, char *out, size_t n);

/* 1 for statuses worth retrying: 408, 429, 5xx. */
int http_retryable(long status);

/*
 * Milliseconds to wait before attempt (1, 2, ...): full jitter over
 * base * 2^(attempt-1) capped at cap, and never less than retry_after
 * seconds (-1: none).
 */
long http_backoff_ms(int attempt, long base, long cap, long retry_after);

/* "scheme://host:port" of url (lowercase, default ports made explicit). */
int http_origin(const char *url, char *out, size_t n);

/*
 * Evidence for measurement bound to the challenge nonce from the
 * platform at home, as the two header lines "Authorization: TI-Attest
 * <evidence>" and "TI-Nonce: <nonce>" appended to *list. 0, or -1.
 */
int http_attest(const char *home, const char *measurement, const char *nonce,
    struct curl_slist **list, struct err *e);

/* An exit code and message for a failed transfer. */
int http_neterr(CURLcode rc, const char *errbuf, const char *url,
    struct err *e);

#endif
