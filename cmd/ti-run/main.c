#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jq.h>
#include <jv.h>
#include <openssl/sha.h>

#include "age.h"
#include "die.h"
#include "evidence.h"
#include "io.h"
#include "jqrun.h"
#include "keys.h"
#include "manifest.h"
#include "sealer.h"
#include "sig.h"
#include "version.h"

const char *PROG = "ti-run";

#define USAGE \
"usage: ti-run [OPTIONS] PROGRAM.jq [--args ARG...]\n" \
"       ti-run [OPTIONS] --exec PROGRAM [ARG...]\n" \
"       ti-run --manifest FILE [--slurpfile NAME FILE]...\n" \
"       ti-run --print-manifest [OPTIONS] PROGRAM...\n" \
"jq:      -r -n -s -e --arg NAME VALUE --argjson NAME JSON --args\n" \
"         --slurpfile NAME FILE\n" \
"data:    --to RECIPIENT  --to-file FILE  --from KEYFILE|any  --split\n" \
"         --pad BYTES  --plain-in  --plain-out  --stderr drop|pass\n" \
"limits:  --timeout SECS  --memory BYTES  --jobs N  --backend NAME\n" \
"other:   --stats  --print-manifest  --manifest FILE  -h  -V\n"

#define PROGRAM_MAX (1024 * 1024)

/* A program compartment's or the sealer's process. */
struct child {
	pid_t pid;
	int status;
};

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
	jv m;				/* the manifest */
	char measurement[MEASUREMENT_LEN];
	int exec;
	int jobs;
	int stats;
	int print;
	int stderr_pass;
	unsigned char *prog;		/* jq program text */
	size_t proglen;
	size_t nnamed;
	const char *named_file[SEALER_MAXNAMED];
	const char *named_name[SEALER_MAXNAMED];
};

/* ---- option parsing ------------------------------------------------- */

/*
 * STAND-IN for lib/runopts until it is merged: ti-run's options into a
 * manifest (schema manifest/v1) and the runtime options.
 */
static jv
obj_set(jv o, const char *path1, const char *key, jv v)
{
	jv sub = jv_object_get(jv_copy(o), jv_string(path1));

	return jv_object_set(o, jv_string(path1),
	    jv_object_set(sub, jv_string(key), v));
}

static void
hexdigest(const unsigned char *p, size_t n, char out[65])
{
	unsigned char d[32];
	int i;

	SHA256(p, n, d);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
parse_options(int argc, char **argv, struct rt *rt)
{
	enum { O_ARG = 256, O_ARGJSON, O_ARGS, O_SLURPFILE, O_TO, O_TOFILE,
	    O_FROM, O_SPLIT, O_PLAININ, O_PLAINOUT, O_STDERR, O_TIMEOUT,
	    O_MEMORY, O_PAD, O_JOBS, O_BACKEND, O_STATS, O_PRINT, O_MANIFEST,
	    O_EXEC };
	static const struct option lo[] = {
		{ "raw-output", no_argument, NULL, 'r' },
		{ "null-input", no_argument, NULL, 'n' },
		{ "slurp", no_argument, NULL, 's' },
		{ "exit-status", no_argument, NULL, 'e' },
		{ "arg", required_argument, NULL, O_ARG },
		{ "argjson", required_argument, NULL, O_ARGJSON },
		{ "args", no_argument, NULL, O_ARGS },
		{ "slurpfile", required_argument, NULL, O_SLURPFILE },
		{ "to", required_argument, NULL, O_TO },
		{ "to-file", required_argument, NULL, O_TOFILE },
		{ "from", required_argument, NULL, O_FROM },
		{ "split", no_argument, NULL, O_SPLIT },
		{ "plain-in", no_argument, NULL, O_PLAININ },
		{ "plain-out", no_argument, NULL, O_PLAINOUT },
		{ "stderr", required_argument, NULL, O_STDERR },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "pad", required_argument, NULL, O_PAD },
		{ "jobs", required_argument, NULL, O_JOBS },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "stats", no_argument, NULL, O_STATS },
		{ "print-manifest", no_argument, NULL, O_PRINT },
		{ "manifest", required_argument, NULL, O_MANIFEST },
		{ "exec", no_argument, NULL, O_EXEC },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	jv m, to = jv_array(), from = jv_array(), pos = jv_array(), v;
	jv inputs = jv_array();
	const char *manifest = NULL, *val;
	unsigned char pub[32];
	char signer[SIG_SIGNER_LEN], hex[65], *end;
	struct err e;
	unsigned char *buf;
	size_t len;
	int c, i, n, exec_at = argc, args = 0, from_any = 0, flags = 0;
	long l;

	m = JV_OBJECT(jv_string("ti"), jv_string("manifest/v1"),
	    jv_string("kind"), jv_string("jq"));
	m = jv_object_set(m, jv_string("jq"), JV_OBJECT(
	    jv_string("raw_output"), jv_false(),
	    jv_string("null_input"), jv_false(),
	    jv_string("slurp"), jv_false(),
	    jv_string("exit_status"), jv_false(),
	    jv_string("arg"), jv_object(), jv_string("argjson"), jv_object()));
	m = jv_object_set(m, jv_string("output"), JV_OBJECT(
	    jv_string("mode"), jv_string("one"), jv_string("plain"),
	    jv_false(), jv_string("pad"), jv_number(0)));
	m = jv_object_set(m, jv_string("input"),
	    JV_OBJECT(jv_string("plain"), jv_false()));
	m = jv_object_set(m, jv_string("stderr"), jv_string("drop"));
	m = jv_object_set(m, jv_string("limits"), JV_OBJECT(
	    jv_string("timeout_s"), jv_number(0),
	    jv_string("memory_bytes"), jv_number(0),
	    jv_string("jobs"), jv_number(1)));
	m = jv_object_set(m, jv_string("backend"), jv_string("linux"));
	/* Everything after --exec PROGRAM belongs to the program. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--exec") == 0) {
			exec_at = i + 2 < argc ? i + 2 : argc;
			break;
		}
	}
	while ((c = getopt_long(exec_at, argv, "rnsehV", lo, NULL)) != -1) {
		switch (c) {
		case 'r': m = obj_set(m, "jq", "raw_output", jv_true()); break;
		case 'n': m = obj_set(m, "jq", "null_input", jv_true()); break;
		case 's': m = obj_set(m, "jq", "slurp", jv_true()); break;
		case 'e': m = obj_set(m, "jq", "exit_status", jv_true()); break;
		case O_ARG:
		case O_ARGJSON:
		case O_SLURPFILE:
			if (optind >= exec_at)
				die_usage(USAGE, "%s needs two arguments",
				    argv[optind - 2]);
			val = argv[optind++];
			if (c == O_SLURPFILE) {
				if (rt->nnamed == SEALER_MAXNAMED)
					die_usage(USAGE, "too many --slurpfile");
				rt->named_name[rt->nnamed] = optarg;
				rt->named_file[rt->nnamed++] = val;
				inputs = jv_array_append(inputs,
				    jv_string(optarg));
				break;
			}
			if (c == O_ARG) {
				v = jv_string(val);
			} else {
				v = jv_parse(val);
				if (!jv_is_valid(v))
					die_usage(USAGE, "--argjson %s: "
					    "invalid JSON", optarg);
			}
			v = jv_object_set(jv_object_get(jv_object_get(
			    jv_copy(m), jv_string("jq")), jv_string(
			    c == O_ARG ? "arg" : "argjson")),
			    jv_string(optarg), v);
			m = obj_set(m, "jq", c == O_ARG ? "arg" : "argjson", v);
			break;
		case O_ARGS: args = 1; break;
		case O_TO: to = jv_array_append(to, jv_string(optarg)); break;
		case O_TOFILE:
			if (io_slurp(optarg, 1 << 20, &buf, &len, &e) != 0)
				die_err(&e);
			for (end = strtok((char *)buf, "\n"); end != NULL;
			    end = strtok(NULL, "\n"))
				if (*end != '#' && *end != '\0')
					to = jv_array_append(to,
					    jv_string(end));
			free(buf);
			break;
		case O_FROM:
			if (strcmp(optarg, "any") == 0) {
				from_any = 1;
				break;
			}
			if (sig_signer_load(optarg, pub, &e) != 0)
				die_err(&e);
			sig_signer_string(signer, pub);
			from = jv_array_append(from, jv_string(signer));
			break;
		case O_SPLIT: m = obj_set(m, "output", "mode", jv_string("split")); break;
		case O_PLAININ: m = obj_set(m, "input", "plain", jv_true()); break;
		case O_PLAINOUT: m = obj_set(m, "output", "plain", jv_true()); break;
		case O_STDERR:
			if (strcmp(optarg, "drop") != 0 &&
			    strcmp(optarg, "pass") != 0)
				die_usage(USAGE, "--stderr drop|pass");
			m = jv_object_set(m, jv_string("stderr"),
			    jv_string(optarg));
			break;
		case O_TIMEOUT:
		case O_MEMORY:
		case O_PAD:
		case O_JOBS:
			errno = 0;
			l = strtol(optarg, &end, 10);
			if (errno || *end != '\0' || l < 0 ||
			    (c == O_JOBS && (l < 1 || l > SEALER_MAXJOBS)))
				die_usage(USAGE, "bad number: %s", optarg);
			if (c == O_PAD)
				m = obj_set(m, "output", "pad", jv_number(l));
			else
				m = obj_set(m, "limits", c == O_TIMEOUT ?
				    "timeout_s" : c == O_MEMORY ?
				    "memory_bytes" : "jobs", jv_number(l));
			break;
		case O_BACKEND:
			m = jv_object_set(m, jv_string("backend"),
			    jv_string(optarg));
			break;
		case O_STATS: rt->stats = 1; break;
		case O_PRINT: rt->print = 1; break;
		case O_MANIFEST: manifest = optarg; break;
		case O_EXEC: rt->exec = 1; break;
		case 'h':
			fputs(USAGE, stdout);
			close_stdout();
			exit(0);
		case 'V':
			puts("ti-run " TI_VERSION);
			close_stdout();
			exit(0);
		default:
			die_usage(USAGE, "unknown option");
		}
		flags++;
	}
	if (manifest != NULL) {
		jv_free(m);
		jv_free(to);
		jv_free(from);
		jv_free(pos);
		jv_free(inputs);
		if (optind != argc)
			die_usage(USAGE, "--manifest takes no program");
		if (manifest_load(manifest, &rt->m, &e) != 0)
			die_err(&e);
		return;
	}
	if (optind >= argc)
		die_usage(USAGE, "no program");
	if (rt->exec) {
		m = jv_object_set(m, jv_string("kind"), jv_string("exec"));
		for (i = optind + 1; i < argc; i++)
			pos = jv_array_append(pos, jv_string(argv[i]));
	} else {
		n = argc - optind - 1;
		if (n > 0 && !args)
			die_usage(USAGE, "input files are not supported; "
			    "use stdin or --slurpfile (or --args)");
		for (i = optind + 1; i < argc; i++)
			pos = jv_array_append(pos, jv_string(argv[i]));
	}
	if (io_slurp(argv[optind], PROGRAM_MAX, &buf, &len, &e) != 0)
		die_err(&e);
	hexdigest(buf, len, hex);
	/* Kept: the program may be a pipe that cannot be read twice. */
	rt->prog = buf;
	rt->proglen = len;
	m = jv_object_set(m, jv_string("program"), JV_OBJECT(
	    jv_string("path"), jv_string(argv[optind]),
	    jv_string("sha256"), jv_string(hex)));
	m = jv_object_set(m, jv_string("argv"), pos);
	m = jv_object_set(m, jv_string("inputs"), inputs);
	m = jv_object_set(m, jv_string("from"),
	    from_any ? (jv_free(from), jv_string("any")) : from);
	m = jv_object_set(m, jv_string("to"), to);
	(void)flags;
	rt->m = m;
}

/* ---- processes ------------------------------------------------------ */

/* Put fds[i] at descriptor i (-1: /dev/null) and close every other one. */
static void
place_fds(const int *fds, int n)
{
	int tmp[SEALER_MAXJOBS * (SEALER_MAXNAMED + 3) + 8];
	int i;

	for (i = 0; i < n; i++) {
		if (fds[i] < 0)
			tmp[i] = open("/dev/null", O_RDWR);
		else
			tmp[i] = fcntl(fds[i], F_DUPFD, n + 3);
		if (tmp[i] < 0)
			_exit(EXIT_IO);
	}
	for (i = 0; i < n; i++)
		if (dup2(tmp[i], i) < 0)
			_exit(EXIT_IO);
	close_range((unsigned)n, ~0U, 0);
}

/*
 * STAND-IN for lib/compartment until it is merged: a plain fork with the
 * descriptors placed and nothing else confined.
 */
static pid_t
spawn(int (*fn)(void *), void *arg, const int *fds, int n)
{
	pid_t pid = fork();

	if (pid < 0)
		die_errno(EXIT_IO, "fork");
	if (pid > 0)
		return pid;
	place_fds(fds, n);
	signal(SIGPIPE, SIG_DFL);
	_exit(fn(arg));
}

/* A jq worker: named inputs on fds 4..., status on fd 3. */
static int
jq_worker(void *arg)
{
	struct worker *w = arg;
	struct jqrun_status st;
	jv vars = w->vars, arr, v;
	unsigned char *buf;
	size_t len;
	jv_parser *p;
	int k, rc;

	for (k = 0; k < w->nnamed; k++) {
		if (io_slurp_fd(4 + k, w->names[k], SEALER_NAMED_MAX, &buf, &len,
		    NULL) != 0)
			_exit(EXIT_IO);
		close(4 + k);
		arr = jv_array();
		p = jv_parser_new(0);
		jv_parser_set_buf(p, (const char *)buf, (int)len, 0);
		while (jv_is_valid(v = jv_parser_next(p)))
			arr = jv_array_append(arr, v);
		jv_parser_free(p);
		free(buf);
		if (jv_invalid_has_msg(v)) {
			jv_free(arr);
			memset(&st, 0, sizeof(st));
			st.code = JQRUN_PARSE;
			st.reserved = (uint32_t)k + 1;
			writeall(3, &st, sizeof(st));
			return EXIT_PROGRAM;
		}
		jv_free(v);
		vars = jv_object_set(vars, jv_string(w->names[k]), arr);
	}
	rc = jqrun_main(w->prog, vars, w->positional, &w->jo, 0, 1, &st);
	writeall(3, &st, sizeof(st));
	return rc;
}

static int
exec_worker(void *arg)
{
	struct worker *w = arg;
	char *envp[] = { NULL };

	execve(w->path, w->argv, envp);
	return 127;
}

struct sealer_arg {
	struct sealer_opts o;
	int report_fd;
};

static int
sealer_child(void *arg)
{
	struct sealer_arg *a = arg;
	struct sealer_report rep;

	sealer_main(&a->o, &rep);
	writeall(a->report_fd, &rep, sizeof(rep));
	return 0;
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
}

static int
mbool(jv m, const char *a, const char *b)
{
	jv v = jv_object_get(jv_object_get(jv_copy(m), jv_string(a)),
	    jv_string(b));
	int r = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return r;
}

static double
mnum(jv m, const char *a, const char *b)
{
	jv v = jv_object_get(jv_object_get(jv_copy(m), jv_string(a)),
	    jv_string(b));
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
	jv p = jv_object_get(jv_copy(rt->m), jv_string("program"));
	jv path = jv_object_get(jv_copy(p), jv_string("path"));
	jv sum = jv_object_get(p, jv_string("sha256"));
	char hex[65];
	size_t len;
	struct err e;

	if (jv_get_kind(path) != JV_KIND_STRING ||
	    jv_get_kind(sum) != JV_KIND_STRING)
		die(EXIT_DATA, "manifest: bad \"program\"");
	if (rt->prog != NULL)
		len = rt->proglen;
	else if (io_slurp(jv_string_value(path), PROGRAM_MAX, &rt->prog, &len,
	    &e) != 0)
		die_err(&e);
	hexdigest(rt->prog, len, hex);
	if (strcmp(hex, jv_string_value(sum)) != 0)
		die(EXIT_DATA, "%s: does not match the manifest's sha256",
		    jv_string_value(path));
	w->path = strdup(jv_string_value(path));
	jv_free(path);
	jv_free(sum);
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
	struct err e;
	int k;

	if (jqrun_check(w->prog, &e) != 0)
		die_err(&e);
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
program_failed(const struct sealer_report *r, const struct worker *w,
    const struct rt *rt)
{
	uint64_t rec = r->prog_record;
	char where[80];

	if (w->jo.slurp)
		snprintf(where, sizeof(where), "on the slurped input");
	else if (rec == 0)
		snprintf(where, sizeof(where), "before any input record");
	else
		snprintf(where, sizeof(where), "at input record %" PRIu64, rec);
	(void)rt;
	switch (r->prog_code) {
	case JQRUN_PARSE:
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
		die(EXIT_PROGRAM, "program failed: I/O error %s", where);
	default:
		die(EXIT_PROGRAM, "program failed %s", where);
	}
}

int
main(int argc, char **argv)
{
	struct rt rt;
	struct worker w;
	struct sealer_arg sa;
	struct sealer_report rep;
	struct child kids[SEALER_MAXJOBS + 1];
	struct tikeys keys;
	struct age_keys *to = NULL;
	struct timespec t0, t1;
	struct err e;
	char *home;
	int fds[SEALER_MAXJOBS * (SEALER_MAXNAMED + 3) + 8];
	int pin[2], pout[2], pst[2], prep[2], pn[2], outfd, i, k, nf, nkids;
	int plain_in, plain_out;
	jv v;
	double sec;
	size_t clen;
	char *canon;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&rt, 0, sizeof(rt));
	memset(&w, 0, sizeof(w));
	memset(&sa, 0, sizeof(sa));
	memset(&rep, 0, sizeof(rep));
	parse_options(argc, argv, &rt);
	if (manifest_check(jv_copy(rt.m), &e) != 0)
		die_err(&e);
	if (rt.print) {
		if (manifest_canonical(jv_copy(rt.m), &canon, &clen, &e) != 0)
			die_err(&e);
		fwrite(canon, 1, clen, stdout);
		putchar('\n');
		free(canon);
		jv_free(rt.m);
		close_stdout();
		return 0;
	}
	if (manifest_measure(jv_copy(rt.m), rt.measurement, &e) != 0)
		die_err(&e);
	home = evidence_home();
	/* libjq 1.6 reads $HOME/.jq when compiling: never let it. */
	unsetenv("HOME");
	rt.exec = mstreq(rt.m, "kind", "exec");
	rt.jobs = (int)mnum(rt.m, "limits", "jobs");
	if (rt.jobs < 1)
		rt.jobs = 1;
	rt.stderr_pass = mstreq(rt.m, "stderr", "pass");
	plain_in = mbool(rt.m, "input", "plain");
	plain_out = mbool(rt.m, "output", "plain");
	load_program(&rt, &w);
	w.jo.raw_output = mbool(rt.m, "jq", "raw_output");
	w.jo.null_input = mbool(rt.m, "jq", "null_input");
	w.jo.slurp = mbool(rt.m, "jq", "slurp");
	w.jo.exit_status = mbool(rt.m, "jq", "exit_status");
	w.jo.stderr_pass = rt.stderr_pass;
	w.jo.batched = rt.jobs > 1;
	w.positional = jv_object_get(jv_copy(rt.m), jv_string("argv"));
	if (jv_get_kind(w.positional) != JV_KIND_ARRAY)
		w.positional = (jv_free(w.positional), jv_array());
	v = jv_object_get(jv_copy(rt.m), jv_string("inputs"));
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		w.nnamed = jv_array_length(jv_copy(v));
		if ((size_t)w.nnamed != rt.nnamed)
			die_usage(USAGE, "the manifest names %d inputs: give "
			    "each with --slurpfile NAME FILE", w.nnamed);
		for (k = 0; k < w.nnamed; k++) {
			jv s = jv_array_get(jv_copy(v), k);
			if (jv_get_kind(s) != JV_KIND_STRING ||
			    strcmp(jv_string_value(s), rt.named_name[k]) != 0)
				die_usage(USAGE, "--slurpfile names differ "
				    "from the manifest's inputs");
			jv_free(s);
			w.names[k] = rt.named_name[k];
		}
	}
	jv_free(v);
	if (rt.exec) {
		if (rt.jobs > 1)
			die_usage(USAGE, "--jobs needs a jq program");
		clen = (size_t)jv_array_length(jv_copy(w.positional));
		w.argv = calloc(clen + 2, sizeof(char *));
		w.argv[0] = (char *)w.path;
		for (i = 0; i < (int)clen; i++) {
			jv s = jv_array_get(jv_copy(w.positional), i);
			w.argv[i + 1] = strdup(jv_string_value(s));
			jv_free(s);
		}
	} else {
		w.prog = (const char *)rt.prog;
		w.vars = jq_vars(rt.m);
		if (rt.jobs > 1 && (w.jo.null_input || w.jo.slurp ||
		    strstr(w.prog, "input") != NULL))
			die_usage(USAGE, "--jobs needs a program that takes "
			    "each record on its own (no -n, -s or input)");
		compile_check(&w);
	}
	if (!plain_out) {
		if ((to = age_keys_new()) == NULL)
			die(EXIT_IO, "out of memory");
		v = jv_object_get(jv_copy(rt.m), jv_string("to"));
		for (k = 0; k < jv_array_length(jv_copy(v)); k++) {
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
	sa.o.from_any = jv_get_kind(v) == JV_KIND_STRING;
	for (k = 0; jv_get_kind(v) == JV_KIND_ARRAY &&
	    k < jv_array_length(jv_copy(v)) && k < SEALER_MAXFROM; k++) {
		jv s = jv_array_get(jv_copy(v), k);
		if (sig_signer_parse(jv_string_value(s), sa.o.from[k], &e) != 0)
			die_err(&e);
		sa.o.nfrom++;
		jv_free(s);
	}
	jv_free(v);
	if (!plain_in && !sa.o.from_any && sa.o.nfrom == 0)
		die_usage(USAGE, "no sender: give --from KEYFILE, --from any "
		    "or --plain-in");
	/* The named inputs are opened here, before anything starts. */
	for (k = 0; k < (int)rt.nnamed; k++) {
		if ((sa.o.named_fd[k] = open(rt.named_file[k],
		    O_RDONLY | O_CLOEXEC)) < 0)
			die_errno(EXIT_IO, "%s", rt.named_file[k]);
		sa.o.named_name[k] = rt.named_name[k];
	}
	sa.o.nnamed = (int)rt.nnamed;
	outfd = xtmpfile();
	signal(SIGPIPE, SIG_IGN);

	/* The program compartments first: no key has been loaded yet. */
	nkids = 0;
	for (i = 0; i < rt.jobs; i++) {
		xpipe(pin);
		xpipe(pout);
		nf = 0;
		fds[nf++] = pin[0];
		fds[nf++] = pout[1];
		fds[nf++] = rt.stderr_pass ? 2 : -1;
		if (!rt.exec) {
			xpipe(pst);
			fds[nf++] = pst[1];
		}
		for (k = 0; k < w.nnamed; k++) {
			xpipe(pn);
			fds[nf++] = pn[0];
			sa.o.prog_named[i][k] = pn[1];
		}
		kids[nkids++].pid = spawn(rt.exec ? exec_worker : jq_worker, &w,
		    fds, nf);
		close(pin[0]);
		close(pout[1]);
		for (k = 3 + !rt.exec; k < nf; k++)
			close(fds[k]);
		sa.o.prog_in[i] = pin[1];
		sa.o.prog_out[i] = pout[0];
		if (!rt.exec) {
			close(pst[1]);
			sa.o.prog_status[i] = pst[0];
		} else
			sa.o.prog_status[i] = -1;
	}

	/* Then the keys, and the sealer that holds them. */
	memset(&keys, 0, sizeof(keys));
	if (!(plain_in && plain_out) &&
	    evidence_keys(home, rt.measurement, &keys, &e) != 0)
		die_err(&e);
	free(home);
	sa.o.jobs = rt.jobs;
	sa.o.plain_in = plain_in;
	sa.o.plain_out = plain_out;
	sa.o.allow_empty = w.jo.null_input;
	v = jv_object_get(jv_copy(rt.m), jv_string("output"));
	sa.o.split = mstreq(v, "mode", "split");
	jv_free(v);
	sa.o.pad = (size_t)mnum(rt.m, "output", "pad");
	sa.o.to = to;
	sa.o.measurement = rt.measurement;
	sa.o.keys = plain_in && plain_out ? NULL : &keys;
	xpipe(prep);
	/* Renumber: the sealer sees its descriptors from 0 up. */
	nf = 0;
	fds[nf++] = 0;
	sa.o.in_fd = 0;
	fds[nf++] = outfd;
	sa.o.out_fd = 1;
	fds[nf++] = 2;
	fds[nf] = prep[1];
	sa.report_fd = nf++;
	for (k = 0; k < sa.o.nnamed; k++) {
		fds[nf] = sa.o.named_fd[k];
		sa.o.named_fd[k] = nf++;
	}
	for (i = 0; i < rt.jobs; i++) {
		fds[nf] = sa.o.prog_in[i];
		sa.o.prog_in[i] = nf++;
		fds[nf] = sa.o.prog_out[i];
		sa.o.prog_out[i] = nf++;
		if (sa.o.prog_status[i] >= 0) {
			fds[nf] = sa.o.prog_status[i];
			sa.o.prog_status[i] = nf++;
		}
		for (k = 0; k < w.nnamed; k++) {
			fds[nf] = sa.o.prog_named[i][k];
			sa.o.prog_named[i][k] = nf++;
		}
	}
	kids[nkids++].pid = spawn(sealer_child, &sa, fds, nf);
	keys_wipe(&keys);
	close(prep[1]);
	close(0);
	for (i = 4; i < nf; i++)
		close(fds[i]);

	if (readall(prep[0], &rep, sizeof(rep)) != (ssize_t)sizeof(rep)) {
		memset(&rep, 0, sizeof(rep));
		rep.code = EXIT_IO;
		snprintf(rep.msg, sizeof(rep.msg), "the sealer ended early");
	}
	for (i = 0; i < nkids; i++)
		while (waitpid(kids[i].pid, &kids[i].status, 0) < 0)
			if (errno != EINTR)
				die_errno(EXIT_IO, "waitpid");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sec = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rt.stats)
		fprintf(stderr, "ti-run: stats: records=%" PRIu64 " results=%"
		    PRIu64 " bytes_in=%" PRIu64 " bytes_out=%" PRIu64
		    " messages_in=%" PRIu64 " messages_out=%" PRIu64
		    " jobs=%d seconds=%.3f records_per_s=%.0f\n",
		    rep.records, rep.results, rep.bytes_in, rep.bytes_out,
		    rep.messages_in, rep.messages_out, rt.jobs, sec,
		    sec > 0 ? (double)rep.records / sec : 0.0);
	/* Failures of the input come first: the program saw a prefix at most. */
	if (rep.code == EXIT_NO || rep.code == EXIT_DATA)
		die(rep.code, "%s", rep.msg);
	if (rep.prog_code > 0)
		program_failed(&rep, &w, &rt);
	if (rt.exec && WIFEXITED(kids[0].status) &&
	    WEXITSTATUS(kids[0].status) != 0)
		die(EXIT_PROGRAM, "program exited with status %d",
		    WEXITSTATUS(kids[0].status));
	for (i = 0; i < nkids - 1; i++)
		if (WIFSIGNALED(kids[i].status))
			die(EXIT_PROGRAM, "program killed by signal %d",
			    WTERMSIG(kids[i].status));
	if (rep.code != 0 || rep.prog_code != 0)
		die(rep.code ? rep.code : EXIT_PROGRAM, "%s", rep.msg[0] ?
		    rep.msg : "program failed");
	if (!WIFEXITED(kids[nkids - 1].status) ||
	    WEXITSTATUS(kids[nkids - 1].status) != 0)
		die(EXIT_IO, "the sealer failed");
	copy_out(outfd);
	close(outfd);
	age_keys_free(to);
	jv_free(w.vars);
	jv_free(w.positional);
	jv_free(rt.m);
	free(rt.prog);
	free((char *)w.path);
	if (w.argv != NULL) {
		for (i = 1; w.argv[i] != NULL; i++)
			free(w.argv[i]);
		free(w.argv);
	}
	close_stdout();
	return 0;
}
