#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
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
#include "spool.h"
#include "version.h"

const char *PROG = "ti-post";

#define USAGE \
"usage: ti-post --manifest FILE [options] URL < messages.ndjson\n" \
"       ti-post --resume [DIR] URL\n" \
"Deliver messages to a service, each spooled durably until acknowledged.\n" \
"  --manifest FILE        the process's manifest (its measurement is attested)\n" \
"  --spool DIR            spool directory (default $TI_HOME/spool/HOST-PORT)\n" \
"  --resume               deliver what the spool holds; read no input\n" \
"  --parallel N           requests in flight (default 8)\n" \
"  --retry N              attempts per message on network errors, 408, 429,\n" \
"                         5xx (default 10)\n" \
"  -H, --header 'K: V'    add a request header\n" \
"  --cacert FILE          trust these CA certificates\n" \
"  --cert FILE, --key FILE  client certificate and key (mutual TLS)\n" \
"  --insecure             do not verify the server's certificate\n" \
"  -m, --max-time SECS    limit each request\n" \
"  --connect-timeout SECS limit each connection attempt\n" \
"  -s, --silent           no retry notices\n" \
"  -v, --verbose          headers on stderr (credentials elided)\n" \
"  --help, --version\n"

struct opts {
	struct http_opts h;
	const char *manifest, *spool, *url;
	struct curl_slist *headers;
	int resume, parallel, retry, silent;
};

static long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Input is spooled by a thread while the engine delivers: each batch is
 * made durable (spool_commit), then its names are handed over.
 */
struct feed {
	pthread_mutex_t lock;
	char **names;		/* committed, not yet taken */
	size_t n, cap;
	int done, failed;	/* input ended; it was malformed or unreadable */
	struct err err;
	struct spool *sp;
	CURLM *mh;		/* woken when names arrive */
	char **batch;		/* written, not yet committed */
	size_t nbatch;
	size_t kept;		/* spooled after bad input, never sent */
};

static int
publish(struct feed *f, struct err *e)
{
	size_t i;

	if (spool_commit(f->sp, e) != 0)
		return -1;
	pthread_mutex_lock(&f->lock);
	if (f->n + f->nbatch > f->cap) {
		f->cap = (f->n + f->nbatch) * 2;
		if ((f->names = realloc(f->names, f->cap * sizeof(*f->names))) ==
		    NULL)
			die(EXIT_IO, "out of memory");
	}
	for (i = 0; i < f->nbatch; i++)
		f->names[f->n++] = f->batch[i];
	f->nbatch = 0;
	pthread_mutex_unlock(&f->lock);
	curl_multi_wakeup(f->mh);
	return 0;
}

/* One input line: spool it (and commit a full batch). 0, or -1. */
static int
take(struct feed *f, char *line, size_t len, long lineno, struct err *e)
{
	char name[MESSAGE_RUN_MAX + 32];
	struct message m;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return 0;
	if (message_parse(line, len, &m, e) != 0)
		return err_prefix(e, "stdin line %ld", lineno);
	snprintf(name, sizeof(name), "%s.%llu", m.run,
	    (unsigned long long)m.seq);
	message_fini(&m);
	if (f->nbatch == SPOOL_BATCH && publish(f, e) != 0)
		return -1;
	if (spool_add(f->sp, name, line, len, e) != 0)
		return -1;
	if ((f->batch[f->nbatch] = strdup(name)) == NULL)
		die(EXIT_IO, "out of memory");
	f->nbatch++;
	return 0;
}

static void *
spooler(void *arg)
{
	struct feed *f = arg;
	struct pollfd pfd = {0, POLLIN, 0};
	unsigned char *buf = NULL;
	size_t cap = 0, len = 0, start, i;
	ssize_t r;
	long lineno = 0;
	struct err e;

	memset(&e, 0, sizeof(e));
	for (;;) {
		/* A slow producer: make what we have durable before waiting. */
		if (f->nbatch > 0 && poll(&pfd, 1, 0) == 0 && publish(f, &e) != 0)
			goto fail;
		if (len == cap) {
			/* A line of MESSAGE_MAX, CR LF: the most kept. */
			if (cap >= (size_t)MESSAGE_MAX + 2) {
				err_set(&e, EXIT_DATA, "stdin line %ld: message "
				    "too large", lineno + 1);
				goto fail;
			}
			cap = cap ? cap * 2 : IO_BUFSZ;
			if (cap > (size_t)MESSAGE_MAX + 2)
				cap = (size_t)MESSAGE_MAX + 2;
			if ((buf = realloc(buf, cap)) == NULL)
				die(EXIT_IO, "out of memory");
		}
		if ((r = read(0, buf + len, cap - len)) < 0) {
			if (errno == EINTR)
				continue;
			err_errno(&e, EXIT_IO, "stdin");
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		for (start = 0, i = len - (size_t)r; i < len; i++)
			if (buf[i] == '\n') {
				if (take(f, (char *)buf + start, i + 1 - start,
				    ++lineno, &e) != 0)
					goto fail;
				start = i + 1;
			}
		memmove(buf, buf + start, len - start);
		len -= start;
	}
	if (len > 0 && take(f, (char *)buf, len, ++lineno, &e) != 0)
		goto fail;
	if (publish(f, &e) != 0)
		goto fail;
	free(buf);
	pthread_mutex_lock(&f->lock);
	f->done = 1;
	pthread_mutex_unlock(&f->lock);
	curl_multi_wakeup(f->mh);
	return NULL;
fail:
	/*
	 * What was read before stays spooled, but nothing more is sent: the
	 * batch is made durable without handing its names to the sender.
	 */
	if (e.code != EXIT_IO && spool_commit(f->sp, NULL) == 0)
		f->kept = f->nbatch;
	for (i = 0; i < f->nbatch; i++)
		free(f->batch[i]);
	f->nbatch = 0;
	free(buf);
	pthread_mutex_lock(&f->lock);
	f->err = e;
	f->failed = f->done = 1;
	pthread_mutex_unlock(&f->lock);
	curl_multi_wakeup(f->mh);
	return NULL;
}

static void
default_spool(const char *url, char *out, size_t n)
{
	char og[512], *h, *home, *p;

	if (http_origin(url, og, sizeof(og)) != 0)
		die_usage(USAGE, "%s: not an http(s) URL", url);
	h = strstr(og, "://") + 3;
	if ((p = strrchr(h, ':')) != NULL)
		*p = '-';
	for (p = h; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-'))
			*p = '_';
	if ((home = evidence_home()) == NULL)
		die(EXIT_IO, "out of memory");
	snprintf(out, n, "%s/spool/%s", home, h);
	free(home);
}

static int deliver(const struct opts *o, struct spool *sp, const char *home,
    const char *measurement);

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"manifest", required_argument, NULL, 'M'},
		{"spool", required_argument, NULL, 'S'},
		{"resume", no_argument, NULL, 'r'},
		{"parallel", required_argument, NULL, 'P'},
		{"retry", required_argument, NULL, 'R'},
		{"header", required_argument, NULL, 'H'},
		{"cacert", required_argument, NULL, 'A'},
		{"cert", required_argument, NULL, 'E'},
		{"key", required_argument, NULL, 'K'},
		{"insecure", no_argument, NULL, 'k'},
		{"max-time", required_argument, NULL, 'm'},
		{"connect-timeout", required_argument, NULL, 'C'},
		{"silent", no_argument, NULL, 's'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct opts o;
	struct spool sp;
	struct err e;
	char dir[4096], mm[MEASUREMENT_LEN], have[MEASUREMENT_LEN + 8], *end;
	char *home;
	char **names;
	size_t nn;
	jv man;
	int c, rc;
	double d;

	memset(&o, 0, sizeof(o));
	o.parallel = 8;
	o.retry = 10;
	while ((c = getopt_long(argc, argv, "H:m:sv", lo, NULL)) != -1) {
		switch (c) {
		case 'M': o.manifest = optarg; break;
		case 'S': o.spool = optarg; break;
		case 'r': o.resume = 1; break;
		case 'P':
			o.parallel = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o.parallel < 1 || o.parallel > 256)
				die_usage(USAGE, "bad --parallel: %s", optarg);
			break;
		case 'R':
			o.retry = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o.retry < 0 || o.retry > 1000)
				die_usage(USAGE, "bad --retry: %s", optarg);
			break;
		case 'H': o.headers = curl_slist_append(o.headers, optarg); break;
		case 'A': o.h.cacert = optarg; break;
		case 'E': o.h.cert = optarg; break;
		case 'K': o.h.key = optarg; break;
		case 'k': o.h.insecure = 1; break;
		case 'm': case 'C':
			d = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || d < 0 || d > 1e6)
				die_usage(USAGE, "bad number of seconds: %s", optarg);
			if (c == 'm')
				o.h.timeout_ms = (long)(d * 1000);
			else
				o.h.connect_ms = (long)(d * 1000);
			break;
		case 's': o.silent = 1; break;
		case 'v': o.h.verbose = 1; break;
		case 'h': fputs(USAGE, stdout); close_stdout(); return 0;
		case 'V': puts("ti-post " TI_VERSION); close_stdout(); return 0;
		default: die_usage(USAGE, "unknown option");
		}
	}
	if (o.resume && argc - optind == 2 && o.spool == NULL)
		o.spool = argv[optind++];
	if (argc - optind != 1)
		die_usage(USAGE, "expected one URL");
	o.url = argv[optind];
	if (!o.resume && o.manifest == NULL)
		die_usage(USAGE, "--manifest is required (or --resume)");
	signal(SIGPIPE, SIG_IGN);
	if (o.spool == NULL) {
		default_spool(o.url, dir, sizeof(dir));
		o.spool = dir;
	}
	mm[0] = '\0';
	if (o.manifest != NULL && (manifest_load(o.manifest, &man, &e) != 0 ||
	    manifest_measure(man, mm, &e) != 0))
		die_err(&e);
	if (spool_open(&sp, o.spool, &e) != 0)
		die_err(&e);
	if (spool_meta_get(&sp, "measurement", have, sizeof(have)) != 0)
		have[0] = '\0';
	if (mm[0] != '\0' && strcmp(have, mm) != 0) {
		if (spool_list(&sp, &names, &nn, &e) != 0)
			die_err(&e);
		spool_names_free(names, nn);
		if (nn > 0 && have[0] != '\0')
			die(EXIT_USAGE, "spool %s holds messages of another "
			    "manifest; deliver them with --resume first", o.spool);
		if (spool_meta_set(&sp, "measurement", mm, &e) != 0)
			die_err(&e);
	} else if (mm[0] == '\0') {
		if (have[0] == '\0')
			die(EXIT_USAGE, "spool %s has no measurement; give "
			    "--manifest", o.spool);
		memcpy(mm, have, sizeof(mm));
	}
	if ((home = evidence_home()) == NULL)
		die(EXIT_IO, "out of memory");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die(EXIT_IO, "cannot initialise libcurl");
	rc = deliver(&o, &sp, home, mm);
	spool_close(&sp);
	curl_slist_free_all(o.headers);
	curl_global_cleanup();
	free(home);
	close_stdout();
	return rc;
}

/* The delivery engine: curl multi, one attestation per session. */

enum authstate { NEED, HAVE_EVIDENCE, ATTESTING, READY };

struct job {
	char *name;
	int attempts;
	long not_before;
};

struct slot {
	CURL *h;
	struct http_resp r;
	struct curl_slist *hl;
	unsigned char *body;
	size_t len;
	struct job job;
	int busy, epoch, attest;
	char errbuf[CURL_ERROR_SIZE];
};

struct engine {
	const struct opts *o;
	struct spool *sp;
	const char *home, *measurement;
	char **names;
	size_t nnames, next;
	struct job *wait;		/* waiting to be retried */
	size_t nwait, capwait;
	enum authstate st;
	struct curl_slist *evidence;
	char session[TIPROTO_TOKEN_MAX];
	int epoch, attest_failures, fatal, inflight;
	unsigned long delivered, present, failed;
	struct err fatal_err;
	struct feed *feed;	/* input still arriving, or NULL */
};

static void
requeue(struct engine *g, struct job j, long delay)
{
	if (g->nwait == g->capwait) {
		g->capwait = g->capwait ? 2 * g->capwait : 64;
		if ((g->wait = realloc(g->wait, g->capwait * sizeof(*g->wait))) ==
		    NULL)
			die(EXIT_IO, "out of memory");
	}
	j.not_before = now_ms() + delay;
	g->wait[g->nwait++] = j;
}

/* The next job ready to go, or 0; *wake: ms until one is. */
static int
next_job(struct engine *g, struct job *j, long *wake)
{
	long t = now_ms();
	size_t i;

	for (i = 0; i < g->nwait; i++)
		if (g->wait[i].not_before <= t) {
			*j = g->wait[i];
			g->wait[i] = g->wait[--g->nwait];
			return 1;
		} else if (g->wait[i].not_before - t < *wake)
			*wake = g->wait[i].not_before - t;
	if (g->next == g->nnames && g->feed != NULL) {
		struct feed *f = g->feed;

		pthread_mutex_lock(&f->lock);
		if (f->failed && !g->fatal) {
			g->fatal = 1;	/* bad input: send nothing more */
			g->fatal_err = f->err;
		}
		if (f->n > 0 && !g->fatal) {
			g->names = realloc(g->names, (g->nnames + f->n) *
			    sizeof(*g->names));
			if (g->names == NULL)
				die(EXIT_IO, "out of memory");
			memcpy(g->names + g->nnames, f->names,
			    f->n * sizeof(*f->names));
			g->nnames += f->n;
			f->n = 0;
		}
		pthread_mutex_unlock(&f->lock);
	}
	if (g->next < g->nnames) {
		j->name = g->names[g->next];
		g->names[g->next++] = NULL;
		j->attempts = 0;
		j->not_before = 0;
		return 1;
	}
	return 0;
}

static int
can_send(const struct engine *g)
{
	if (g->fatal)
		return 0;
	switch (g->st) {
	case READY:
		return g->inflight < g->o->parallel;
	case NEED:
	case HAVE_EVIDENCE:
		return g->inflight == 0;
	default:
		return 0;
	}
}

static void
start(struct engine *g, CURLM *mh, struct slot *s, struct job j)
{
	char hdr[TIPROTO_TOKEN_MAX + 64];
	struct curl_slist *p;
	struct err e;

	s->job = j;
	free(s->body);
	s->body = NULL;
	if (spool_read(g->sp, j.name, &s->body, &s->len, &e) != 0) {
		/* Gone: delivered meanwhile under the same (run, seq). */
		if (e.code != EXIT_NO) {
			warn("%s", e.msg);
			g->failed++;
		}
		free(j.name);
		return;
	}
	curl_slist_free_all(s->hl);
	s->hl = curl_slist_append(NULL, "Content-Type: " TIPROTO_MEDIA);
	s->hl = curl_slist_append(s->hl, "Expect:");
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", j.name);
	s->hl = curl_slist_append(s->hl, hdr);
	for (p = g->o->headers; p != NULL; p = p->next)
		s->hl = curl_slist_append(s->hl, p->data);
	s->attest = 0;
	if (g->st == HAVE_EVIDENCE) {
		for (p = g->evidence; p != NULL; p = p->next)
			s->hl = curl_slist_append(s->hl, p->data);
		curl_slist_free_all(g->evidence);
		g->evidence = NULL;
		g->st = ATTESTING;
		s->attest = 1;
	} else if (g->st == READY) {
		snprintf(hdr, sizeof(hdr), "Authorization: TI-Session %s",
		    g->session);
		s->hl = curl_slist_append(s->hl, hdr);
	}
	s->epoch = g->epoch;
	http_resp_reset(&s->r);
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hl);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
	curl_multi_add_handle(mh, s->h);
	s->busy = 1;
	g->inflight++;
}

static void
fatal(struct engine *g, struct slot *s, const char *what)
{
	char why[256];

	http_reason(&s->r, why, sizeof(why));
	g->fatal = 1;
	g->failed++;	/* this message stays spooled too */
	err_set(&g->fatal_err, EXIT_REFUSED, "%s: %s: %ld %s", g->o->url,
	    what, s->r.status, why);
}

static void
finish(struct engine *g, struct slot *s, CURLcode cc)
{
	struct http_resp *r = &s->r;
	struct job j = s->job;
	struct err e;
	char why[256];
	long st = r->status;

	s->busy = 0;
	g->inflight--;
	if (r->session[0] != '\0' && cc == CURLE_OK) {
		memcpy(g->session, r->session, sizeof(g->session));
		if (g->st != READY || s->attest)
			g->epoch++;
		g->st = READY;
		g->attest_failures = 0;
	} else if (s->attest)
		g->st = NEED;	/* no session: attest again next time */
	if (cc == CURLE_OK && st == 401) {
		if (s->attest && (strcmp(r->tierror, "bad-evidence") == 0 ||
		    ++g->attest_failures >= 3 || !r->challenge)) {
			fatal(g, s, "attestation refused");
			free(j.name);
			return;
		}
		if (!r->challenge) {
			fatal(g, s, "unauthorised");
			free(j.name);
			return;
		}
		if (s->epoch == g->epoch && g->st != ATTESTING &&
		    g->st != HAVE_EVIDENCE) {
			g->session[0] = '\0';
			g->epoch++;
			curl_slist_free_all(g->evidence);
			g->evidence = NULL;
			if (http_attest(g->home, g->measurement, r->nonce,
			    &g->evidence, &e) != 0) {
				g->fatal = 1;
				g->fatal_err = e;
				free(j.name);
				return;
			}
			g->st = HAVE_EVIDENCE;
		}
		requeue(g, j, 0);
		return;
	}
	if (cc != CURLE_OK || http_retryable(st)) {
		if (++j.attempts > g->o->retry) {
			if (g->failed >= 5)
				;	/* enough said; the count is at the end */
			else if (cc != CURLE_OK)
				warn("%s: %s: %s", j.name, "giving up",
				    s->errbuf[0] ? s->errbuf :
				    curl_easy_strerror(cc));
			else {
				http_reason(r, why, sizeof(why));
				warn("%s: giving up: %ld %s", j.name, st, why);
			}
			g->failed++;
			free(j.name);
			return;
		}
		if (!g->o->silent && g->o->h.verbose)
			warn("%s: retrying (%s)", j.name, cc != CURLE_OK ?
			    curl_easy_strerror(cc) : "temporary failure");
		requeue(g, j, http_backoff_ms(j.attempts, 100, 5000,
		    cc == CURLE_OK ? r->retry_after : -1));
		return;
	}
	if (st >= 200 && st < 300) {
		if (spool_remove(g->sp, j.name, &e) != 0)
			warn("%s", e.msg);
		if (st == 200)
			g->present++;
		else
			g->delivered++;
		free(j.name);
		return;
	}
	if (strcmp(r->tierror, "policy-denied") == 0) {
		fatal(g, s, "attestation refused");
		free(j.name);
		return;
	}
	http_reason(r, why, sizeof(why));
	if (g->failed < 5)
		warn("%s: refused: %ld %s%s%s", j.name, st, r->tierror,
		    r->tierror[0] ? ": " : "", why);
	g->failed++;
	free(j.name);
}

static int
deliver(const struct opts *o, struct spool *sp, const char *home,
    const char *measurement)
{
	struct feed f;
	pthread_t th;
	size_t untaken = 0;
	struct engine g;
	struct slot *slots;
	struct job j;
	CURLM *mh;
	CURLMsg *msg;
	int i, running, left, rc;
	long wake;
	size_t k;

	memset(&g, 0, sizeof(g));
	g.o = o;
	g.sp = sp;
	g.home = home;
	g.measurement = measurement;
	if (spool_list(sp, &g.names, &g.nnames, &g.fatal_err) != 0)
		die_err(&g.fatal_err);
	if ((mh = curl_multi_init()) == NULL ||
	    (slots = calloc((size_t)o->parallel, sizeof(*slots))) == NULL)
		die(EXIT_IO, "out of memory");
	memset(&f, 0, sizeof(f));
	if (!o->resume) {
		pthread_mutex_init(&f.lock, NULL);
		f.sp = sp;
		f.mh = mh;
		if ((f.batch = calloc(SPOOL_BATCH, sizeof(*f.batch))) == NULL)
			die(EXIT_IO, "out of memory");
		if (pthread_create(&th, NULL, spooler, &f) != 0)
			die(EXIT_IO, "cannot start the input thread");
		g.feed = &f;
	}
	curl_multi_setopt(mh, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(mh, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->parallel);
	for (i = 0; i < o->parallel; i++) {
		if ((slots[i].h = curl_easy_init()) == NULL)
			die(EXIT_IO, "cannot initialise libcurl");
		http_setup(slots[i].h, &o->h);
		http_resp_init(&slots[i].r, 64 * 1024);
		http_resp_attach(slots[i].h, &slots[i].r);
		curl_easy_setopt(slots[i].h, CURLOPT_URL, o->url);
		curl_easy_setopt(slots[i].h, CURLOPT_POST, 1L);
		/* Multiplex over one HTTP/2 connection where offered. */
		curl_easy_setopt(slots[i].h, CURLOPT_PIPEWAIT, 1L);
		curl_easy_setopt(slots[i].h, CURLOPT_PRIVATE, &slots[i]);
		curl_easy_setopt(slots[i].h, CURLOPT_ERRORBUFFER,
		    slots[i].errbuf);
	}
	for (;;) {
		wake = 1000;
		for (i = 0; i < o->parallel && can_send(&g); i++) {
			if (slots[i].busy)
				continue;
			if (!next_job(&g, &j, &wake))
				break;
			start(&g, mh, &slots[i], j);
		}
		if (g.feed != NULL) {
			pthread_mutex_lock(&f.lock);
			if (f.failed && !g.fatal) {
				g.fatal = 1;	/* bad input: send nothing more */
				g.fatal_err = f.err;
			}
			/* After bad input, what was not taken stays spooled. */
			if (f.done && (f.n == 0 || g.fatal))
				g.feed = NULL;
			pthread_mutex_unlock(&f.lock);
			if (g.feed == NULL)
				continue;	/* take the last names */
		}
		if (g.inflight == 0 && g.feed == NULL && (g.fatal ||
		    (g.nwait == 0 && g.next == g.nnames)))
			break;
		curl_multi_perform(mh, &running);
		while ((msg = curl_multi_info_read(mh, &left)) != NULL) {
			struct slot *s;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&s);
			rc = msg->data.result;
			curl_multi_remove_handle(mh, s->h);
			finish(&g, s, (CURLcode)rc);
		}
		if (g.inflight > 0 || g.nwait > 0 || g.feed != NULL)
			curl_multi_poll(mh, NULL, 0, (int)(wake > 0 ? wake : 0),
			    NULL);
	}
	if (!o->resume) {
		/* Everything read is spooled before we go, even after a refusal. */
		pthread_join(th, NULL);
		untaken = f.n + f.kept;	/* never taken: they stay spooled */
		for (k = 0; k < f.n; k++)
			free(f.names[k]);
		free(f.names);
		free(f.batch);
		pthread_mutex_destroy(&f.lock);
		if (f.failed && !g.fatal) {
			g.fatal = 1;
			g.fatal_err = f.err;
		}
	}
	for (i = 0; i < o->parallel; i++) {
		curl_easy_cleanup(slots[i].h);
		http_resp_fini(&slots[i].r);
		curl_slist_free_all(slots[i].hl);
		free(slots[i].body);
	}
	free(slots);
	curl_multi_cleanup(mh);
	for (k = 0; k < g.nwait; k++)
		free(g.wait[k].name);
	free(g.wait);
	spool_names_free(g.names, g.nnames);
	curl_slist_free_all(g.evidence);
	/* What remains: never sent because of a fatal refusal, or failed. */
	left = (int)(g.failed + g.nwait + (g.nnames - g.next) + untaken);
	fprintf(stderr, "ti-post: delivered %lu, already present %lu, "
	    "spooled %d\n", g.delivered, g.present, left);
	if (g.fatal) {
		warn("%s", g.fatal_err.msg);
		return g.fatal_err.code ? g.fatal_err.code : EXIT_REFUSED;
	}
	return left > 0 ? EXIT_PARTIAL : EXIT_OK;
}
