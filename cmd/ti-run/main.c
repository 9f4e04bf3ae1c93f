#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <jq.h>
#include <jv.h>
#include <openssl/crypto.h>

#include "age.h"
#include "compartment.h"
#include "die.h"
#include "evidence.h"
#include "io.h"
#include "jqrun.h"
#include "keys.h"
#include "manifest.h"
#include "runopts.h"
#include "sealer.h"
#include "sig.h"
#include "version.h"

const char *PROG = "ti-run";

#define USAGE runopts_usage

/* Everything a program worker needs (the compartment gets a copy). */
struct worker {
	const char *prog;		/* jq text, or NULL for --exec */
	const char *path;		/* executable */
	char **argv;
	jv vars;
	jv positional;
	struct jqrun_opts jo;
	int nnamed;
	const char *names[SEALER_MAXNAMED];
};

struct rt {
	struct runopts ro;
	jv m;				/* the manifest (borrowed from ro) */
	const char *measurement;
	int exec;
	int jobs;
	int stats;
	int stderr_pass;
	unsigned long timeout_ms;
	unsigned long long memory;
	char *backend;
	unsigned char *prog;		/* jq program text */
	size_t proglen;
};

/* ---- processes ------------------------------------------------------ */

#define MAXFDS COMPARTMENT_MAXFDS

static int sealer_child(void *);

/* Start a compartment with fds; fn, or the executable path with argv. */
static struct compartment *
comp_start(const struct rt *rt, int profile, int (*fn)(void *), void *arg,
    const char *path, char **argv, const int *fds, int n)
{
	struct compartment_opts o;
	struct compartment *c;
	struct err e;
	int i;

	if (n > MAXFDS)
		die(EXIT_USAGE, "too many descriptors for a compartment "
		    "(fewer --jobs or named inputs)");
	compartment_opts_init(&o);
	o.profile = profile;
	o.backend = rt->backend;
	for (i = 0; i < n; i++)
		o.fds[i] = fds[i];
	o.nfds = (size_t)n;
	o.fn = fn;
	o.arg = arg;
	o.exec_path = path;
	o.exec_argv = argv;
	o.timeout_ms = rt->timeout_ms;
	if (profile == COMPARTMENT_PROGRAM) {
		o.memory_bytes = rt->memory;
		/* --stderr pass: stderr may be a file, the only one it has. */
		if (rt->stderr_pass)
			o.file_bytes = 1ULL << 30;
	} else if (fn == sealer_child)
		/* The sealer writes the output file; nothing else is writable. */
		o.file_bytes = 1ULL << 40;
	if (compartment_start(&o, &c, &e) != 0)
		die_err(&e);
	return c;
}

/* The exit code and message of an ended compartment (0: exited 0). */
static int
comp_wait(struct compartment *c, char *msg, size_t len)
{
	struct compartment_result r;
	struct err e;
	int code;

	if (compartment_wait(c, &r, &e) != 0)
		die_err(&e);
	code = compartment_exitcode(&r, msg, len);
	compartment_free(c);
	return code;
}

/* A jq worker: fd 0 in, fd 1 out (both framed), fd 2 stderr or nothing. */
static int
jq_worker(void *arg)
{
	struct worker *w = arg;

	w->jo.names = w->names;
	w->jo.nnamed = w->nnamed;
	return jqrun_main(w->prog, jv_copy(w->vars), jv_copy(w->positional),
	    &w->jo, 0, 1);
}

struct opener_arg {
	struct opener_opts o;
	int report_fd;
};

static int
opener_child(void *arg)
{
	struct opener_arg *a = arg;
	struct opener_report r;

	sealer_open(&a->o, &r);
	return writeall(a->report_fd, &r, sizeof(r)) == 0 ? 0 : EXIT_IO;
}

struct sealer_arg {
	struct sealer_opts o;
	int report_fd;
};

static int
sealer_child(void *arg)
{
	struct sealer_arg *a = arg;
	struct sealer_report r;

	sealer_seal(&a->o, &r);
	return writeall(a->report_fd, &r, sizeof(r)) == 0 ? 0 : EXIT_IO;
}

static int
xtmpfile(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0 &&
	    (fd = memfd_create("ti-run", MFD_CLOEXEC)) < 0)
		die_errno(EXIT_IO, "temporary file");
	return fd;
}

static void
xpipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) != 0)
		die_errno(EXIT_IO, "pipe");
	/* Large pipes: fewer switches between the processes of a run. */
	(void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
}

/* m.a.b, or null (m borrowed). */
static jv
sub(jv m, const char *a, const char *b)
{
	jv v = jv_object_get(jv_copy(m), jv_string(a));

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return jv_null();
	}
	return jv_object_get(v, jv_string(b));
}

static int
mbool(jv m, const char *a, const char *b)
{
	jv v = sub(m, a, b);
	int r = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return r;
}

static double
mnum(jv m, const char *a, const char *b)
{
	jv v = sub(m, a, b);
	double r = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0;

	jv_free(v);
	return r;
}

static int
mstreq(jv m, const char *a, const char *val)
{
	jv v = jv_object_get(jv_copy(m), jv_string(a));
	int r = jv_get_kind(v) == JV_KIND_STRING &&
	    strcmp(jv_string_value(v), val) == 0;

	jv_free(v);
	return r;
}

/* The program text named by the manifest, checked against its digest. */
static void
load_program(struct rt *rt, struct worker *w)
{
	struct err e;

	if (runopts_program(rt->m, &rt->prog, &rt->proglen, &e) != 0)
		die_err(&e);
	w->path = rt->ro.program_path;
	w->argv = rt->ro.exec_argv;
}

/* The compile-time variables of the manifest: --arg and --argjson. */
static jv
jq_vars(jv m)
{
	jv jq = jv_object_get(jv_copy(m), jv_string("jq"));
	jv a = jv_object_get(jv_copy(jq), jv_string("arg"));
	jv b = jv_object_get(jq, jv_string("argjson"));

	if (jv_get_kind(a) != JV_KIND_OBJECT)
		a = (jv_free(a), jv_object());
	if (jv_get_kind(b) != JV_KIND_OBJECT)
		b = (jv_free(b), jv_object());
	return jv_object_merge(a, b);
}

/* Check that the program compiles, here where no data and no key is. */
static void
compile_check(struct worker *w)
{
	jq_state *jq;
	jv vars = jv_copy(w->vars);
	int k;

	for (k = 0; k < w->nnamed; k++)
		vars = jv_object_set(vars, jv_string(w->names[k]), jv_array());
	vars = jv_object_set(vars, jv_string("ARGS"), JV_OBJECT(
	    jv_string("positional"), jv_copy(w->positional),
	    jv_string("named"), jv_copy(vars)));
	if ((jq = jq_init()) == NULL)
		die(EXIT_IO, "out of memory");
	jq_set_attr(jq, jv_string("JQ_LIBRARY_PATHS"), jv_array());
	if (!jq_compile_args(jq, w->prog, vars))
		die(EXIT_USAGE, "the program does not compile");
	jq_teardown(&jq);
}

static void
copy_out(int fd)
{
	struct stat st;
	char buf[IO_BUFSZ];
	off_t off = 0;
	ssize_t n;

	if (fstat(fd, &st) != 0)
		die_errno(EXIT_IO, "temporary file");
	while (off < st.st_size) {
		n = sendfile(1, fd, &off, (size_t)(st.st_size - off));
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS))
			break;
		die_errno(EXIT_IO, "write");
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (writeall(1, buf, (size_t)n) != 0)
			die_errno(EXIT_IO, "write");
		off += n;
	}
}

static void
program_failed(const struct sealer_report *r, const struct worker *w)
{
	uint64_t rec = r->prog_record;
	char where[80];

	if (w->jo.slurp)
		snprintf(where, sizeof(where), "on the slurped input");
	else if (rec == 0)
		snprintf(where, sizeof(where), "before any input record");
	else
		snprintf(where, sizeof(where), "at input record %" PRIu64, rec);
	switch (r->prog_code) {
	case JQRUN_PARSE:
		if (r->prog_named > 0 && (int)r->prog_named <= w->nnamed)
			die(EXIT_DATA, "named input %s is not valid JSON",
			    w->names[r->prog_named - 1]);
		die(EXIT_DATA, "input record %" PRIu64 " is not valid JSON",
		    rec);
	case JQRUN_HALT:
		die(EXIT_PROGRAM, "program halted with an error %s", where);
	case JQRUN_FALSE:
		die(EXIT_PROGRAM, "program's last output was false or null "
		    "(--exit-status)");
	case JQRUN_NOOUT:
		die(EXIT_PROGRAM, "program produced no output (--exit-status)");
	case JQRUN_IO:
		die(EXIT_PROGRAM, "program failed: its input or output broke");
	default:
		die(EXIT_PROGRAM, "program failed %s", where);
	}
}

/* Everything the parent holds while the run goes on. */
struct run {
	struct compartment *prog[SEALER_MAXJOBS];
	struct compartment *opener, *sealer;
	struct opener_arg oa;
	struct sealer_arg sa;
	struct opener_report orep;
	struct sealer_report srep;
	int orep_fd, srep_fd;
	int outfd;
	int plain_in, plain_out;
};

/* The program compartments: started before any key exists in this process. */
static void
start_programs(struct rt *rt, struct worker *w, struct run *r)
{
	int fds[MAXFDS], pin[2], pout[2], pn[2], nf, i, k;

	for (i = 0; i < rt->jobs; i++) {
		xpipe(pin);
		xpipe(pout);
		nf = 0;
		fds[nf++] = pin[0];
		fds[nf++] = pout[1];
		fds[nf++] = rt->stderr_pass ? 2 : -1;
		for (k = 0; rt->exec && k < w->nnamed; k++) {
			xpipe(pn);
			if (nf == MAXFDS)
				die(EXIT_USAGE, "too many named inputs for "
				    "--exec");
			fds[nf++] = pn[0];
			r->oa.o.prog_named[k] = pn[1];
		}
		if (rt->exec)
			r->prog[i] = comp_start(rt, COMPARTMENT_PROGRAM, NULL,
			    NULL, (char *)w->path, w->argv, fds, nf);
		else
			r->prog[i] = comp_start(rt, COMPARTMENT_PROGRAM,
			    jq_worker, w, NULL, NULL, fds, nf);
		close(pin[0]);
		close(pout[1]);
		for (k = 3; k < nf; k++)
			close(fds[k]);
		r->oa.o.prog_in[i] = pin[1];
		r->sa.o.prog_out[i] = pout[0];
	}
}

/*
 * The opener and the sealer, each given only its own keys: a compartment
 * starts with a copy of this process's memory, so each is started with
 * nothing but its keys derived, and they are wiped in between.
 */
static void
start_keepers(struct rt *rt, struct run *r, const char *home)
{
	struct tikeys keys;
	unsigned char run_key[32], x_priv[32];
	int fds[MAXFDS], prun[2], prep[2], nf, i, k, need;
	struct err e;

	need = !(r->plain_in && r->plain_out);
	memset(&keys, 0, sizeof(keys));
	memset(run_key, 0, sizeof(run_key));
	memset(x_priv, 0, sizeof(x_priv));
	if (need && evidence_keys(home, rt->measurement, &keys, &e) != 0)
		die_err(&e);
	sealer_run_key(keys.ed_seed, run_key);
	memcpy(x_priv, keys.x_priv, sizeof(x_priv));
	keys_wipe(&keys);
	r->oa.o.x_priv = r->plain_in ? NULL : x_priv;
	r->oa.o.run_key = r->plain_out ? NULL : run_key;
	r->oa.o.measurement = rt->measurement;
	prun[0] = prun[1] = -1;
	if (!r->plain_out)
		xpipe(prun);

	/* The opener: 0 input, 1 report, 2 run id, named inputs, programs. */
	xpipe(prep);
	nf = 0;
	fds[nf++] = 0;
	r->oa.o.in_fd = 0;
	fds[nf++] = prep[1];
	r->oa.report_fd = 1;
	fds[nf++] = prun[1];
	r->oa.o.run_fd = prun[1] >= 0 ? 2 : -1;
	for (k = 0; k < r->oa.o.nnamed; k++) {
		if (nf == MAXFDS)
			die(EXIT_USAGE, "too many inputs and --jobs");
		fds[nf] = r->oa.o.named_fd[k];
		r->oa.o.named_fd[k] = nf++;
	}
	for (i = 0; i < r->oa.o.jobs; i++) {
		if (nf == MAXFDS)
			die(EXIT_USAGE, "too many inputs and --jobs");
		fds[nf] = r->oa.o.prog_in[i];
		r->oa.o.prog_in[i] = nf++;
	}
	for (k = 0; !r->oa.o.jq && k < r->oa.o.nnamed; k++) {
		if (nf == MAXFDS)
			die(EXIT_USAGE, "too many named inputs for --exec");
		fds[nf] = r->oa.o.prog_named[k];
		r->oa.o.prog_named[k] = nf++;
	}
	r->opener = comp_start(rt, COMPARTMENT_SEALER, opener_child, &r->oa,
	    NULL, NULL, fds, nf);
	OPENSSL_cleanse(run_key, sizeof(run_key));
	OPENSSL_cleanse(x_priv, sizeof(x_priv));
	close(prep[1]);
	r->orep_fd = prep[0];
	for (i = 3; i < nf; i++)
		close(fds[i]);
	close(0);

	/* The sealer: 0 output file, 1 report, 2 run id, program outputs. */
	if (!r->plain_out &&
	    evidence_keys(home, rt->measurement, &keys, &e) != 0)
		die_err(&e);
	OPENSSL_cleanse(keys.x_priv, sizeof(keys.x_priv));
	r->sa.o.ed_seed = r->plain_out ? NULL : keys.ed_seed;
	xpipe(prep);
	nf = 0;
	fds[nf++] = r->outfd;
	r->sa.o.out_fd = 0;
	fds[nf++] = prep[1];
	r->sa.report_fd = 1;
	fds[nf++] = prun[0];
	r->sa.o.run_fd = prun[0] >= 0 ? 2 : -1;
	for (i = 0; i < r->sa.o.jobs; i++) {
		fds[nf] = r->sa.o.prog_out[i];
		r->sa.o.prog_out[i] = nf++;
	}
	r->sealer = comp_start(rt, COMPARTMENT_SEALER, sealer_child, &r->sa,
	    NULL, NULL, fds, nf);
	keys_wipe(&keys);
	close(prep[1]);
	r->srep_fd = prep[0];
	for (i = 3; i < nf; i++)
		close(fds[i]);
	if (prun[0] >= 0) {
		close(prun[0]);
		close(prun[1]);
	}
}

/* Wait for everything and decide; returns only when the run succeeded. */
static void
finish(struct rt *rt, struct worker *w, struct run *r, double t0)
{
	char pmsg[SEALER_MAXJOBS][200], omsg[200], smsg[200];
	int pcode[SEALER_MAXJOBS], ocode, scode, i;
	struct timespec t1;
	double sec;

	if (readall(r->orep_fd, &r->orep, sizeof(r->orep)) !=
	    (ssize_t)sizeof(r->orep)) {
		memset(&r->orep, 0, sizeof(r->orep));
		r->orep.code = EXIT_IO;
		snprintf(r->orep.msg, sizeof(r->orep.msg), "the opener ended "
		    "early");
	}
	if (readall(r->srep_fd, &r->srep, sizeof(r->srep)) !=
	    (ssize_t)sizeof(r->srep)) {
		memset(&r->srep, 0, sizeof(r->srep));
		r->srep.code = EXIT_IO;
		snprintf(r->srep.msg, sizeof(r->srep.msg), "the sealer ended "
		    "early");
	}
	for (i = 0; i < rt->jobs; i++)
		pcode[i] = comp_wait(r->prog[i], pmsg[i], sizeof(pmsg[i]));
	ocode = comp_wait(r->opener, omsg, sizeof(omsg));
	scode = comp_wait(r->sealer, smsg, sizeof(smsg));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sec = (double)t1.tv_sec + (double)t1.tv_nsec / 1e9 - t0;
	if (rt->stats)
		fprintf(stderr, "ti-run: stats: records=%" PRIu64 " results=%"
		    PRIu64 " bytes_in=%" PRIu64 " bytes_out=%" PRIu64
		    " messages_in=%" PRIu64 " messages_out=%" PRIu64
		    " jobs=%d seconds=%.3f records_per_s=%.0f\n",
		    r->srep.records, r->srep.results, r->orep.bytes_in,
		    r->srep.bytes_out, r->orep.messages_in,
		    r->srep.messages_out, rt->jobs, sec,
		    sec > 0 ? (double)r->srep.records / sec : 0.0);
	/* A violation or a limit names itself, whatever else happened. */
	for (i = 0; i < rt->jobs; i++)
		if (pcode[i] == EXIT_VIOLATION || pcode[i] == EXIT_LIMIT)
			die(pcode[i], "%s", pmsg[i]);
	if (ocode == EXIT_VIOLATION || ocode == EXIT_LIMIT)
		die(ocode, "opener: %s", omsg);
	if (scode == EXIT_VIOLATION || scode == EXIT_LIMIT)
		die(scode, "sealer: %s", smsg);
	/* Then the input: the program saw at most a prefix of it. */
	if (r->orep.code != 0)
		die(r->orep.code, "%s", r->orep.msg);
	if (r->srep.prog_code > 0)
		program_failed(&r->srep, w);
	for (i = 0; i < rt->jobs; i++)
		if (pcode[i] != 0 && (rt->exec || r->srep.prog_code != 0))
			die(pcode[i], "%s", pmsg[i]);
	if (r->srep.code != 0)
		die(r->srep.code, "%s", r->srep.msg);
	if (ocode != 0 || scode != 0)
		die(EXIT_IO, "the %s failed", ocode ? "opener" : "sealer");
}

int
main(int argc, char **argv)
{
	struct rt rt;
	struct worker w;
	struct run *r;
	struct age_keys *to = NULL;
	struct timespec t0;
	struct err e;
	const char *named_path[SEALER_MAXNAMED];
	char *home, *canon;
	size_t clen;
	int i, k;
	jv v;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&rt, 0, sizeof(rt));
	memset(&w, 0, sizeof(w));
	if (runopts_parse(argc, argv, &rt.ro, &e) != 0) {
		if (e.code == EXIT_USAGE)
			die_usage(USAGE, "%s", e.msg);
		die_err(&e);
	}
	if (rt.ro.help || rt.ro.version) {
		fputs(rt.ro.help ? USAGE : "ti-run " TI_VERSION "\n", stdout);
		runopts_fini(&rt.ro);
		close_stdout();
		return 0;
	}
	rt.m = rt.ro.manifest;
	rt.measurement = rt.ro.measurement;
	rt.stats = rt.ro.stats;
	if (rt.ro.print_manifest) {
		if (manifest_canonical(jv_copy(rt.m), &canon, &clen, &e) != 0)
			die_err(&e);
		fwrite(canon, 1, clen, stdout);
		putchar('\n');
		free(canon);
		runopts_fini(&rt.ro);
		close_stdout();
		return 0;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		die(EXIT_IO, "out of memory");
	home = evidence_home();
	/* libjq 1.6 reads $HOME/.jq when compiling: never let it. */
	unsetenv("HOME");
	rt.exec = mstreq(rt.m, "kind", "exec");
	rt.timeout_ms = (unsigned long)(mnum(rt.m, "limits", "timeout_s") *
	    1000);
	rt.memory = (unsigned long long)mnum(rt.m, "limits", "memory_bytes");
	v = jv_object_get(jv_copy(rt.m), jv_string("backend"));
	if ((rt.backend = strdup(jv_get_kind(v) == JV_KIND_STRING ?
	    jv_string_value(v) : "linux")) == NULL)
		die(EXIT_IO, "out of memory");
	jv_free(v);
	rt.jobs = (int)mnum(rt.m, "limits", "jobs");
	if (rt.jobs < 1)
		rt.jobs = 1;
	if (rt.jobs > SEALER_MAXJOBS)
		die_usage(USAGE, "--jobs: at most %d", SEALER_MAXJOBS);
	rt.stderr_pass = mstreq(rt.m, "stderr", "pass");
	r->plain_in = mbool(rt.m, "input", "plain");
	r->plain_out = mbool(rt.m, "output", "plain");
	load_program(&rt, &w);
	w.jo.raw_output = mbool(rt.m, "jq", "raw_output");
	w.jo.null_input = mbool(rt.m, "jq", "null_input");
	w.jo.slurp = mbool(rt.m, "jq", "slurp");
	w.jo.exit_status = mbool(rt.m, "jq", "exit_status");
	w.jo.stderr_pass = rt.stderr_pass;
	w.positional = jv_object_get(jv_copy(rt.m), jv_string("argv"));
	if (jv_get_kind(w.positional) != JV_KIND_ARRAY)
		w.positional = (jv_free(w.positional), jv_array());
	/* Named inputs in the manifest's order, each with its file. */
	v = jv_object_get(jv_copy(rt.m), jv_string("inputs"));
	w.nnamed = jv_get_kind(v) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(v)) : 0;
	if (w.nnamed > SEALER_MAXNAMED)
		die_usage(USAGE, "at most %d named inputs", SEALER_MAXNAMED);
	for (k = 0; k < w.nnamed; k++) {
		jv s = jv_array_get(jv_copy(v), k);
		for (i = 0; i < (int)rt.ro.nslurp; i++)
			if (jv_get_kind(s) == JV_KIND_STRING &&
			    strcmp(jv_string_value(s), rt.ro.slurp[i].name) == 0)
				break;
		if (i == (int)rt.ro.nslurp)
			die_usage(USAGE, "the manifest's named inputs need "
			    "--slurpfile NAME FILE each");
		jv_free(s);
		w.names[k] = rt.ro.slurp[i].name;
		named_path[k] = rt.ro.slurp[i].path;
	}
	jv_free(v);
	if (rt.exec) {
		if (rt.jobs > 1)
			die_usage(USAGE, "--jobs needs a jq program");
	} else {
		w.prog = (const char *)rt.prog;
		w.vars = jq_vars(rt.m);
		if (rt.jobs > 1 && (w.jo.null_input || w.jo.slurp ||
		    strstr(w.prog, "input") != NULL))
			die_usage(USAGE, "--jobs needs a program that takes "
			    "each record on its own (no -n, -s or input)");
		if (jqrun_check(w.prog, &e) != 0)
			die_err(&e);
	}
	if (!r->plain_out) {
		if ((to = age_keys_new()) == NULL)
			die(EXIT_IO, "out of memory");
		v = jv_object_get(jv_copy(rt.m), jv_string("to"));
		for (k = 0; jv_get_kind(v) == JV_KIND_ARRAY &&
		    k < jv_array_length(jv_copy(v)); k++) {
			jv s = jv_array_get(jv_copy(v), k);
			if (age_add_recipient(to, jv_string_value(s), &e) != 0)
				die_err(&e);
			jv_free(s);
		}
		jv_free(v);
		if (age_keys_count(to) == 0)
			die_usage(USAGE, "no recipient: give --to or --to-file "
			    "(or --plain-out)");
	}
	v = jv_object_get(jv_copy(rt.m), jv_string("from"));
	r->oa.o.from_any = jv_get_kind(v) == JV_KIND_STRING;
	for (k = 0; jv_get_kind(v) == JV_KIND_ARRAY &&
	    k < jv_array_length(jv_copy(v)) && k < SEALER_MAXFROM; k++) {
		jv s = jv_array_get(jv_copy(v), k);
		if (sig_signer_parse(jv_string_value(s), r->oa.o.from[k],
		    &e) != 0)
			die_err(&e);
		r->oa.o.nfrom++;
		jv_free(s);
	}
	jv_free(v);
	if (!r->plain_in && !r->oa.o.from_any && r->oa.o.nfrom == 0)
		die_usage(USAGE, "no sender: give --from KEYFILE, --from any "
		    "or --plain-in");
	/* The named inputs are opened here, before anything starts. */
	for (k = 0; k < w.nnamed; k++) {
		if ((r->oa.o.named_fd[k] = open(named_path[k],
		    O_RDONLY | O_CLOEXEC)) < 0)
			die_errno(EXIT_IO, "%s", named_path[k]);
		r->oa.o.named_name[k] = w.names[k];
	}
	r->oa.o.nnamed = w.nnamed;
	r->oa.o.plain_in = r->plain_in;
	r->oa.o.allow_empty = w.jo.null_input;
	r->oa.o.jq = r->sa.o.jq = !rt.exec;
	r->oa.o.jobs = r->sa.o.jobs = rt.jobs;
	r->sa.o.plain_out = r->plain_out;
	v = jv_object_get(jv_copy(rt.m), jv_string("output"));
	r->sa.o.split = mstreq(v, "mode", "split");
	jv_free(v);
	r->sa.o.pad = (size_t)mnum(rt.m, "output", "pad");
	r->sa.o.to = to;
	r->outfd = xtmpfile();
	signal(SIGPIPE, SIG_IGN);

	start_programs(&rt, &w, r);
	/* Compiled here too, meanwhile, for jq's message on an error. */
	if (!rt.exec)
		compile_check(&w);
	start_keepers(&rt, r, home);
	free(home);
	finish(&rt, &w, r, (double)t0.tv_sec + (double)t0.tv_nsec / 1e9);
	copy_out(r->outfd);
	close(r->outfd);
	age_keys_free(to);
	jv_free(w.vars);
	jv_free(w.positional);
	free(rt.prog);
	free(rt.backend);
	runopts_fini(&rt.ro);
	free(r);
	close_stdout();
	return 0;
}
