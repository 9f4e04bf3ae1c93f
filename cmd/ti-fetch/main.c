#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "evidence.h"
#include "http.h"
#include "io.h"
#include "manifest.h"
#include "message.h"
#include "sig.h"
#include "version.h"

const char *PROG = "ti-fetch";

#define USAGE \
"usage: ti-fetch --manifest FILE [options] URL...\n" \
"Fetch data released to an attested process: one message a line.\n" \
"  --manifest FILE        the process's manifest (its measurement is attested)\n" \
"  -o, --output FILE      write to FILE (nothing on failure) instead of stdout\n" \
"  --sender KEYFILE       the service's message must be signed by this key\n" \
"  -H, --header 'K: V'    add a request header\n" \
"  -X, --request METHOD   request method (default GET, POST with -d)\n" \
"  -d, --data DATA|@FILE  send a request body\n" \
"  -L, --location         follow redirects (credentials stay with their origin)\n" \
"  --cacert FILE          trust these CA certificates\n" \
"  --cert FILE, --key FILE  client certificate and key (mutual TLS)\n" \
"  --insecure             do not verify the server's certificate\n" \
"  -m, --max-time SECS    limit each transfer\n" \
"  --connect-timeout SECS limit each connection attempt\n" \
"  --retry N              retry N times on connection errors, 408, 429, 5xx\n" \
"  -s, --silent           no progress bar, no retry notices\n" \
"  -v, --verbose          headers on stderr (credentials elided)\n" \
"  --help, --version\n"

struct opts {
	struct http_opts h;
	const char *manifest, *output, *sender, *method, *data;
	struct curl_slist *headers;
	int retry, follow, silent;
};

struct origin {
	char name[512];
	char token[TIPROTO_TOKEN_MAX];
};

struct fetch {
	const struct opts *o;
	char *home, measurement[MEASUREMENT_LEN];
	unsigned char sender[32];
	struct origin *origins;
	size_t norigins;
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
	int progress;
};

static struct origin *
origin_for(struct fetch *f, const char *url)
{
	char name[512];
	size_t i;

	if (http_origin(url, name, sizeof(name)) != 0)
		return NULL;
	for (i = 0; i < f->norigins; i++)
		if (strcmp(f->origins[i].name, name) == 0)
			return &f->origins[i];
	f->origins = realloc(f->origins, (f->norigins + 1) * sizeof(*f->origins));
	if (f->origins == NULL)
		die(EXIT_IO, "out of memory");
	memset(&f->origins[f->norigins], 0, sizeof(*f->origins));
	strcpy(f->origins[f->norigins].name, name);
	return &f->origins[f->norigins++];
}

static int
progress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	int w, i;

	(void)u;
	(void)ut;
	(void)un;
	if (dt < 1024 * 1024)
		return 0;
	w = (int)(dn * 50 / dt);
	fputc('\r', stderr);
	for (i = 0; i < 50; i++)
		fputc(i < w ? '#' : '-', stderr);
	fprintf(stderr, " %3d%%", (int)(dn * 100 / dt));
	if (dn == dt)
		fputc('\n', stderr);
	return 0;
}

/* Check the service's answer: a signed, sealed message bound to run. */
static int
check(struct fetch *f, struct http_resp *r, const char *run, char **line,
    size_t *len, struct err *e)
{
	struct message m;
	size_t ml = strlen(TIPROTO_MEDIA);

	if (strncasecmp(r->ctype, TIPROTO_MEDIA, ml) != 0 ||
	    (r->ctype[ml] != '\0' && r->ctype[ml] != ';'))
		return err_set(e, EXIT_REFUSED, "refused: the service answered "
		    "%s, not a sealed message", r->ctype[0] ? r->ctype :
		    "without a Content-Type");
	if (message_parse((const char *)r->body, r->len, &m, e) != 0)
		return err_prefix(e, "refused: not a message");
	if (message_verify(&m, f->o->sender ? f->sender : NULL, e) != 0 ||
	    (run == NULL && err_set(e, EXIT_REFUSED,
	    "the answer is not bound to a nonce") != 0) ||
	    (strcmp(m.run, run) != 0 && err_set(e, EXIT_REFUSED,
	    "the message's run is not this request's nonce") != 0) ||
	    ((m.seq != 0 || !m.last) && err_set(e, EXIT_REFUSED,
	    "the message is not seq 0, last") != 0) ||
	    ((m.sealedlen < 22 || memcmp(m.sealed, "age-encryption.org/v1\n",
	    22) != 0) && err_set(e, EXIT_REFUSED,
	    "the message is not sealed (age)") != 0)) {
		message_fini(&m);
		e->code = EXIT_REFUSED;
		return err_prefix(e, "refused");
	}
	*line = message_format(&m, len);
	message_fini(&m);
	return *line == NULL ? err_set(e, EXIT_IO, "out of memory") : 0;
}

static int
fetch_one(struct fetch *f, const char *url0, FILE *out, struct err *e)
{
	const struct opts *o = f->o;
	struct http_resp r;
	struct curl_slist *hl = NULL, *attest = NULL, *p;
	struct origin *og;
	char first[512] = "";
	char *url = strdup(url0), run[TIPROTO_NONCE_B64 + 8], why[256], *line;
	char nh[TIPROTO_TOKEN_MAX + 32];
	const char *method = o->method;
	int attempt = 0, attests = 0, redirects = 0, rc = -1, hasrun;
	size_t len;
	CURLcode cc;

	http_resp_init(&r, MESSAGE_MAX);
	for (;;) {
		if ((og = origin_for(f, url)) == NULL) {
			err_set(e, EXIT_USAGE, "%s: not an http(s) URL", url);
			goto out;
		}
		/* og moves when origins grow: compare names. */
		if (first[0] == '\0')
			snprintf(first, sizeof(first), "%s", og->name);
		curl_slist_free_all(hl);
		hl = curl_slist_append(NULL, "Accept: " TIPROTO_MEDIA);
		for (p = o->headers; p != NULL; p = p->next) {
			/* As curl: a redirect elsewhere loses these. */
			if (strcmp(og->name, first) != 0 && (strncasecmp(p->data,
			    "Authorization:", 14) == 0 || strncasecmp(p->data,
			    "Cookie:", 7) == 0))
				continue;
			hl = curl_slist_append(hl, p->data);
		}
		hasrun = 0;
		if (attest != NULL) {
			for (p = attest; p != NULL; p = p->next)
				hl = curl_slist_append(hl, p->data);
			hasrun = 1;	/* run was set from the challenge */
		} else if (og->token[0] != '\0') {
			snprintf(nh, sizeof(nh), "Authorization: TI-Session %s",
			    og->token);
			hl = curl_slist_append(hl, nh);
			tiproto_nonce_new(run);
			snprintf(nh, sizeof(nh), "TI-Nonce: %s", run);
			hl = curl_slist_append(hl, nh);
			hasrun = 1;
		}
		curl_easy_reset(f->h);
		http_setup(f->h, &o->h);
		http_resp_attach(f->h, &r);
		curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, f->errbuf);
		curl_easy_setopt(f->h, CURLOPT_URL, url);
		curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, hl);
		if (o->data != NULL && (method == NULL ||
		    strcmp(method, "GET") != 0)) {
			curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, o->data);
		}
		if (method != NULL)
			curl_easy_setopt(f->h, CURLOPT_CUSTOMREQUEST, method);
		if (f->progress) {
			curl_easy_setopt(f->h, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(f->h, CURLOPT_XFERINFOFUNCTION, progress);
		}
		f->errbuf[0] = '\0';
		http_resp_reset(&r);
		cc = curl_easy_perform(f->h);
		curl_slist_free_all(attest);
		attest = NULL;
		if (r.session[0] != '\0')
			memcpy(og->token, r.session, sizeof(og->token));
		if (cc != CURLE_OK || http_retryable(r.status)) {
			if (cc == CURLE_WRITE_ERROR && r.toolarge) {
				err_set(e, EXIT_REFUSED, "%s: answer too large", url);
				goto out;
			}
			if (attempt++ < o->retry) {
				long ms = http_backoff_ms(attempt, 1000, 30000,
				    cc == CURLE_OK ? r.retry_after : -1);

				if (!o->silent)
					warn("%s: %s, retrying in %ld ms", url,
					    cc != CURLE_OK ? "transfer failed" :
					    "temporary failure", ms);
				usleep((useconds_t)ms * 1000);
				continue;
			}
			if (cc != CURLE_OK) {
				http_neterr(cc, f->errbuf, url, e);
				goto out;
			}
		}
		if (o->follow && r.status >= 300 && r.status < 400 &&
		    r.status != 304) {
			char *next = NULL;

			curl_easy_getinfo(f->h, CURLINFO_REDIRECT_URL, &next);
			if (next == NULL || ++redirects > 10) {
				err_set(e, EXIT_REFUSED, "%s: too many redirects",
				    url0);
				goto out;
			}
			if (r.status == 303 || ((r.status == 301 ||
			    r.status == 302) && method == NULL && o->data))
				method = "GET";
			free(url);
			url = strdup(next);
			continue;
		}
		if (r.status == 401 && r.challenge &&
		    strcmp(r.tierror, "bad-evidence") != 0 && attests < 2) {
			attests++;
			og->token[0] = '\0';
			if (http_attest(f->home, f->measurement, r.nonce, &attest,
			    e) != 0)
				goto out;
			memcpy(run, r.nonce, sizeof(r.nonce));
			continue;
		}
		if (r.status != 200) {
			http_reason(&r, why, sizeof(why));
			err_set(e, EXIT_REFUSED, "%s: %ld %s", url, r.status, why);
			goto out;
		}
		if (check(f, &r, hasrun ? run : NULL, &line, &len, e) != 0) {
			err_prefix(e, "%s", url);
			goto out;
		}
		if (fwrite(line, 1, len, out) != len || fputc('\n', out) == EOF) {
			free(line);
			err_errno(e, EXIT_IO, "write");
			goto out;
		}
		free(line);
		rc = 0;
		break;
	}
out:
	curl_slist_free_all(attest);
	curl_slist_free_all(hl);
	http_resp_fini(&r);
	free(url);
	return rc;
}

static double
secs(const char *s)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || *end != '\0' || d < 0 || d > 1e6)
		die_usage(USAGE, "bad number of seconds: %s", s);
	return d;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"manifest", required_argument, NULL, 'M'},
		{"output", required_argument, NULL, 'o'},
		{"sender", required_argument, NULL, 'S'},
		{"header", required_argument, NULL, 'H'},
		{"request", required_argument, NULL, 'X'},
		{"data", required_argument, NULL, 'd'},
		{"location", no_argument, NULL, 'L'},
		{"cacert", required_argument, NULL, 'A'},
		{"cert", required_argument, NULL, 'E'},
		{"key", required_argument, NULL, 'K'},
		{"insecure", no_argument, NULL, 'k'},
		{"max-time", required_argument, NULL, 'm'},
		{"connect-timeout", required_argument, NULL, 'C'},
		{"retry", required_argument, NULL, 'R'},
		{"silent", no_argument, NULL, 's'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct opts o;
	struct fetch f;
	struct outfile of;
	struct err e;
	unsigned char *body = NULL;
	size_t bl;
	jv man;
	int c, i;
	char *end;

	memset(&o, 0, sizeof(o));
	memset(&f, 0, sizeof(f));
	memset(&of, 0, sizeof(of));
	while ((c = getopt_long(argc, argv, "o:H:X:d:Lm:sv", lo, NULL)) != -1) {
		switch (c) {
		case 'M': o.manifest = optarg; break;
		case 'o': o.output = optarg; break;
		case 'S': o.sender = optarg; break;
		case 'H': o.headers = curl_slist_append(o.headers, optarg); break;
		case 'X': o.method = optarg; break;
		case 'd': o.data = optarg; break;
		case 'L': o.follow = 1; break;
		case 'A': o.h.cacert = optarg; break;
		case 'E': o.h.cert = optarg; break;
		case 'K': o.h.key = optarg; break;
		case 'k': o.h.insecure = 1; break;
		case 'm': o.h.timeout_ms = (long)(secs(optarg) * 1000); break;
		case 'C': o.h.connect_ms = (long)(secs(optarg) * 1000); break;
		case 'R':
			o.retry = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o.retry < 0 || o.retry > 100)
				die_usage(USAGE, "bad --retry: %s", optarg);
			break;
		case 's': o.silent = 1; break;
		case 'v': o.h.verbose = 1; break;
		case 'h': fputs(USAGE, stdout); close_stdout(); return 0;
		case 'V': puts("ti-fetch " TI_VERSION); close_stdout(); return 0;
		default: die_usage(USAGE, "unknown option");
		}
	}
	if (o.manifest == NULL)
		die_usage(USAGE, "--manifest is required");
	if (optind >= argc)
		die_usage(USAGE, "no URL");
	signal(SIGPIPE, SIG_IGN);
	if (o.data != NULL && o.data[0] == '@') {
		if (io_slurp(o.data + 1, MESSAGE_MAX, &body, &bl, &e) != 0)
			die_err(&e);
		o.data = (const char *)body;
	}
	f.o = &o;
	if (manifest_load(o.manifest, &man, &e) != 0 ||
	    manifest_measure(man, f.measurement, &e) != 0)
		die_err(&e);
	if (o.sender != NULL && sig_signer_load(o.sender, f.sender, &e) != 0)
		die_err(&e);
	if ((f.home = evidence_home()) == NULL)
		die(EXIT_IO, "out of memory");
	f.progress = !o.silent && !o.h.verbose && isatty(2);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (f.h = curl_easy_init()) == NULL)
		die(EXIT_IO, "cannot initialise libcurl");
	/* Nothing reaches the output unless every URL succeeded. */
	if (outfile_open(&of, o.output, 0644, &e) != 0)
		die_err(&e);
	if (o.output == NULL && (of.fp = tmpfile()) == NULL)
		die_errno(EXIT_IO, "temporary file");
	for (i = optind; i < argc; i++)
		if (fetch_one(&f, argv[i], of.fp, &e) != 0) {
			if (o.output != NULL)
				outfile_abort(&of);
			die_err(&e);
		}
	if (o.output != NULL) {
		if (outfile_commit(&of, &e) != 0)
			die_err(&e);
	} else {
		char buf[IO_BUFSZ];
		size_t n;

		rewind(of.fp);
		while ((n = fread(buf, 1, sizeof(buf), of.fp)) > 0)
			if (fwrite(buf, 1, n, stdout) != n)
				break;
		fclose(of.fp);
	}
	curl_easy_cleanup(f.h);
	curl_slist_free_all(o.headers);
	curl_global_cleanup();
	free(f.origins);
	free(f.home);
	free(body);
	close_stdout();
	return 0;
}
