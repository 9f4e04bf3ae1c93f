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
#include <openssl/crypto.h>
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

#define MAXFDS 8	/* descriptors a compartment is given */

/* STAND-IN for lib/compartment until it is merged. */
struct comp {
	pid_t pid;
};

/* Put fds[i] at descriptor i (-1: /dev/null) and close every other one. */
static void
place_fds(const int *fds, int n)
{
	int tmp[MAXFDS], i;

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
 * STAND-IN for compartment_start until lib/compartment is merged: a plain
 * fork with the descriptors placed and nothing else confined.
 */
static void
comp_start(struct comp *c, int (*fn)(void *), void *arg, const char *path,
    char **argv, const int *fds, int n)
{
	char *envp[] = { NULL };

	if (n > MAXFDS)
		die(EXIT_USAGE, "too many descriptors for a compartment");
	if ((c->pid = fork()) < 0)
		die_errno(EXIT_IO, "fork");
	if (c->pid > 0)
		return;
	place_fds(fds, n);
	signal(SIGPIPE, SIG_DFL);
	if (fn != NULL)
		_exit(fn(arg));
	execve(path, argv, envp);
	_exit(127);
}

/* The exit code and message of an ended compartment (0: exited 0). */
static int
comp_wait(struct comp *c, char *msg, size_t len)
{
	int st;

	while (waitpid(c->pid, &st, 0) < 0)
		if (errno != EINTR)
			die_errno(EXIT_IO, "waitpid");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(msg, len, "program exited with status %d",
		    WEXITSTATUS(st));
	else
		snprintf(msg, len, "program killed by signal %d", WTERMSIG(st));
	return EXIT_PROGRAM;
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
	struct comp prog[SEALER_MAXJOBS];
	struct comp opener, sealer;
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
			comp_start(&r->prog[i], NULL, NULL, w->path, w->argv,
			    fds, nf);
		else
			comp_start(&r->prog[i], jq_worker, w, NULL, NULL, fds,
			    nf);
		close(pin[0]);
		close(pout[1]);
		for (k = 3; k < nf; k++)
			close(fds[k]);
		r->oa.o.prog_in[i] = pin[1];
		r->sa.o.prog_out[i] = pout[0];
	}
}

/* The opener and the sealer, each given only its own keys. */
static void
start_keepers(struct rt *rt, struct run *r, const char *home)
{
	struct tikeys keys;
	unsigned char run_key[32];
	int fds[MAXFDS], prun[2], prep[2], nf, i, k;
	struct err e;

	memset(&keys, 0, sizeof(keys));
	if (!(r->plain_in && r->plain_out) &&
	    evidence_keys(home, rt->measurement, &keys, &e) != 0)
		die_err(&e);
	sealer_run_key(keys.ed_seed, run_key);
	r->oa.o.x_priv = r->plain_in ? NULL : keys.x_priv;
	r->oa.o.run_key = r->plain_out ? NULL : run_key;
	r->sa.o.ed_seed = r->plain_out ? NULL : keys.ed_seed;
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
	comp_start(&r->opener, opener_child, &r->oa, NULL, NULL, fds, nf);
	close(prep[1]);
	r->orep_fd = prep[0];
	for (i = 3; i < nf; i++)
		close(fds[i]);
	close(0);

	/* The sealer: 0 output file, 1 report, 2 run id, program outputs. */
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
	comp_start(&r->sealer, sealer_child, &r->sa, NULL, NULL, fds, nf);
	close(prep[1]);
	r->srep_fd = prep[0];
	for (i = 3; i < nf; i++)
		close(fds[i]);
	if (prun[0] >= 0) {
		close(prun[0]);
		close(prun[1]);
	}
	keys_wipe(&keys);
	OPENSSL_cleanse(run_key, sizeof(run_key));
}

/* Wait for everything and decide; returns only when the run succeeded. */
static void
finish(struct rt *rt, struct worker *w, struct run *r, double t0)
{
	char pmsg[SEALER_MAXJOBS][160], msg[160];
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
		pcode[i] = comp_wait(&r->prog[i], pmsg[i], sizeof(pmsg[i]));
	ocode = comp_wait(&r->opener, msg, sizeof(msg));
	scode = comp_wait(&r->sealer, msg, sizeof(msg));
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
		die(ocode, "opener: %s", msg);
	if (scode == EXIT_VIOLATION || scode == EXIT_LIMIT)
		die(scode, "sealer: %s", msg);
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
	char *home, *canon;
	size_t clen;
	int i, k;
	jv v;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&rt, 0, sizeof(rt));
	memset(&w, 0, sizeof(w));
	if ((r = calloc(1, sizeof(*r))) == NULL)
		die(EXIT_IO, "out of memory");
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
		free(rt.prog);
		free(r);
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
		if ((w.argv = calloc(clen + 2, sizeof(char *))) == NULL)
			die(EXIT_IO, "out of memory");
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
	for (k = 0; k < (int)rt.nnamed; k++) {
		if ((r->oa.o.named_fd[k] = open(rt.named_file[k],
		    O_RDONLY | O_CLOEXEC)) < 0)
			die_errno(EXIT_IO, "%s", rt.named_file[k]);
		r->oa.o.named_name[k] = rt.named_name[k];
	}
	r->oa.o.nnamed = (int)rt.nnamed;
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
	start_keepers(&rt, r, home);
	free(home);
	finish(&rt, &w, r, (double)t0.tv_sec + (double)t0.tv_nsec / 1e9);
	copy_out(r->outfd);
	close(r->outfd);
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
	free(r);
	close_stdout();
	return 0;
}
