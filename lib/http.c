#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "b64.h"
#include "evidence.h"
#include "exitcode.h"
#include "http.h"

/* Print one header line to stderr with credentials elided. */
static void
showline(char dir, const char *p, size_t n)
{
	static const char *const secret[] = {"Authorization:", "TI-Session:"};
	size_t i, sl;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n == 0)
		return;
	for (i = 0; i < 2; i++) {
		sl = strlen(secret[i]);
		if (n > sl && strncasecmp(p, secret[i], sl) == 0) {
			const char *v = p + sl, *end = p + n, *sp;

			while (v < end && *v == ' ')
				v++;
			sp = memchr(v, ' ', (size_t)(end - v));
			if (i == 0 && sp != NULL)
				fprintf(stderr, "%c %.*s <%zu bytes elided>\n",
				    dir, (int)(sp - p), p, (size_t)(end - sp - 1));
			else
				fprintf(stderr, "%c %.*s <%zu bytes elided>\n",
				    dir, (int)sl, p, (size_t)(end - v));
			return;
		}
	}
	fprintf(stderr, "%c %.*s\n", dir, (int)n, p);
}

static int
debug(CURL *h, curl_infotype t, char *d, size_t n, void *u)
{
	size_t i, start = 0;

	(void)h;
	(void)u;
	switch (t) {
	case CURLINFO_TEXT:
		fprintf(stderr, "* %.*s", (int)n, d);
		if (n == 0 || d[n - 1] != '\n')
			fputc('\n', stderr);
		break;
	case CURLINFO_HEADER_OUT:
		for (i = 0; i < n; i++)
			if (d[i] == '\n') {
				showline('>', d + start, i + 1 - start);
				start = i + 1;
			}
		if (start < n)
			showline('>', d + start, n - start);
		break;
	case CURLINFO_HEADER_IN:
		showline('<', d, n);
		break;
	default:
		break;
	}
	return 0;
}

void
http_setup(CURL *h, const struct http_opts *o)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ti/0.1");
	if (o->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	if (o->cert != NULL)
		curl_easy_setopt(h, CURLOPT_SSLCERT, o->cert);
	if (o->key != NULL)
		curl_easy_setopt(h, CURLOPT_SSLKEY, o->key);
	if (o->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	/* A stalled transfer (under 1 byte/s for 60 s) ends even without -m. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	if (o->connect_ms > 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_ms);
	if (o->verbose) {
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug);
	}
}

void
http_resp_init(struct http_resp *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
	r->retry_after = -1;
}

void
http_resp_reset(struct http_resp *r)
{
	r->status = 0;
	r->len = 0;
	if (r->body != NULL)
		r->body[0] = '\0';
	r->toolarge = r->challenge = 0;
	r->nonce[0] = r->session[0] = r->tierror[0] = r->ctype[0] = '\0';
	r->location[0] = '\0';
	r->retry_after = -1;
}

void
http_resp_fini(struct http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
}

static size_t
onbody(char *p, size_t sz, size_t nm, void *u)
{
	struct http_resp *r = u;
	size_t n = sz * nm;

	if (r->sink != NULL && r->status >= 200 && r->status < 300)
		return fwrite(p, 1, n, r->sink) == n ? n : 0;
	if (r->len + n > r->max) {
		r->toolarge = 1;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		unsigned char *b;

		while (cap < r->len + n + 1)
			cap *= 2;
		if ((b = realloc(r->body, cap)) == NULL)
			return 0;
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Copy header value v (n bytes, trimmed) into out if it fits. */
static void
value(char *out, size_t cap, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
	    v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static size_t
onheader(char *p, size_t sz, size_t nm, void *u)
{
	struct http_resp *r = u;
	size_t n = sz * nm, kl;
	char buf[4096];
	const char *colon;

	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, or a redirect). */
		const char *sp = memchr(p, ' ', n);
		char st[8];
		size_t k;

		http_resp_reset(r);
		if (sp != NULL) {
			/* The line is not NUL-terminated: a bounded copy. */
			k = n - (size_t)(sp + 1 - p);
			if (k > sizeof(st) - 1)
				k = sizeof(st) - 1;
			memcpy(st, sp + 1, k);
			st[k] = '\0';
			r->status = strtol(st, NULL, 10);
		}
		return n;
	}
	if ((colon = memchr(p, ':', n)) == NULL)
		return n;
	kl = (size_t)(colon - p);
	colon++;
	n -= kl + 1;
#define IS(k) (kl == strlen(k) && strncasecmp(p, k, kl) == 0)
	if (IS("WWW-Authenticate")) {
		value(buf, sizeof(buf), colon, n);
		if (tiproto_challenge_parse(buf, r->nonce) == 0)
			r->challenge = 1;
	} else if (IS("TI-Session"))
		value(r->session, sizeof(r->session), colon, n);
	else if (IS("TI-Error"))
		value(r->tierror, sizeof(r->tierror), colon, n);
	else if (IS("Content-Type"))
		value(r->ctype, sizeof(r->ctype), colon, n);
	else if (IS("Location"))
		value(r->location, sizeof(r->location), colon, n);
	else if (IS("Retry-After")) {
		char *end;
		long v;

		value(buf, sizeof(buf), colon, n);
		v = strtol(buf, &end, 10);
		if (end != buf && *end == '\0' && v >= 0)
			r->retry_after = v > 3600 ? 3600 : v;
		else {
			time_t t = curl_getdate(buf, NULL), now = time(NULL);

			if (t > 0)
				r->retry_after = t > now ? (long)(t - now) : 0;
		}
	}
#undef IS
	return sz * nm;
}

void
http_resp_attach(CURL *h, struct http_resp *r)
{
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onbody);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onheader);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
}

void
http_reason(const struct http_resp *r, char *out, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < r->len && r->body[i] != '\n' && j + 1 < n; i++)
		if (r->body[i] >= 0x20 && r->body[i] < 0x7f)
			out[j++] = (char)r->body[i];
	out[j] = '\0';
	if (j == 0)
		snprintf(out, n, "HTTP %ld", r->status);
}

int
http_retryable(long status)
{
	return status == 408 || status == 429 || status >= 500;
}

long
http_backoff_ms(int attempt, long base, long cap, long retry_after)
{
	uint32_t x;
	long w = base;
	int i;

	for (i = 1; i < attempt && w < cap; i++)
		w *= 2;
	if (w > cap)
		w = cap;
	if (RAND_bytes((unsigned char *)&x, sizeof(x)) != 1)
		x = (uint32_t)rand();
	/* Full jitter, but never below half the step, so waits still grow. */
	w = w / 2 + (long)(x % (uint32_t)(w / 2 + 1));
	if (retry_after >= 0 && w < retry_after * 1000)
		w = retry_after * 1000;
	return w;
}

int
http_origin(const char *url, char *out, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1, i;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK) {
		for (i = 0; host[i] != '\0'; i++)
			host[i] = (char)tolower((unsigned char)host[i]);
		if ((size_t)snprintf(out, n, "%s://%s:%s", scheme, host, port) < n)
			rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int
http_attest(const char *home, const char *measurement, const char *nonce,
    struct curl_slist **list, struct err *e)
{
	unsigned char raw[TIPROTO_NONCE_LEN];
	size_t rl;
	char *ev = NULL, *h, nh[TIPROTO_NONCE_B64 + 16];
	struct curl_slist *l;

	if (tiproto_nonce_decode(nonce, 32, 32, raw, &rl) != 0)
		return err_set(e, EXIT_REFUSED, "malformed challenge nonce");
	if (evidence_quote(home, measurement, raw, rl, NULL, &ev, e) != 0)
		return err_prefix(e, "attestation");
	if ((h = malloc(strlen(ev) + 32)) == NULL) {
		free(ev);
		return err_set(e, EXIT_IO, "out of memory");
	}
	sprintf(h, "Authorization: TI-Attest %s", ev);
	free(ev);
	snprintf(nh, sizeof(nh), "TI-Nonce: %s", nonce);
	if ((l = curl_slist_append(*list, h)) == NULL ||
	    (*list = l, l = curl_slist_append(*list, nh)) == NULL) {
		free(h);
		return err_set(e, EXIT_IO, "out of memory");
	}
	*list = l;
	free(h);
	return 0;
}

int
http_neterr(CURLcode rc, const char *errbuf, const char *url, struct err *e)
{
	return err_set(e, EXIT_NET, "%s: %s", url,
	    errbuf != NULL && errbuf[0] != '\0' ? errbuf :
	    curl_easy_strerror(rc));
}
