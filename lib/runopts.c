#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agekey.h"
#include "exitcode.h"
#include "io.h"
#include "manifest.h"
#include "runopts.h"
#include "sig.h"

const char runopts_usage[] =
"usage: ti-run [OPTIONS] PROGRAM.jq [--args ARG...]\n"
"       ti-run [OPTIONS] --exec PROGRAM [ARG...]\n"
"       ti-run --manifest FILE [--slurpfile NAME FILE]... [--stats]\n"
"jq options:\n"
"  -r, --raw-output      -n, --null-input      -s, --slurp\n"
"  -e, --exit-status     -c (output is always compact)\n"
"  --arg NAME VALUE      --argjson NAME JSON   --args (positionals to $ARGS)\n"
"  --slurpfile NAME FILE (a further named input; FILE is read at run time)\n"
"where data can go:\n"
"  --to RECIPIENT        --to-file FILE        (age recipients of the output)\n"
"  --from KEYFILE        --from any            (senders accepted)\n"
"  --split               --plain-in            --plain-out\n"
"  --stderr drop|pass    --timeout SECS        --memory SIZE[K|M|G]\n"
"  --pad BYTES           --jobs N              --backend NAME\n"
"run time:\n"
"  --manifest FILE       --print-manifest      --stats\n"
"  -h, --help            --version\n";

/*
 * Options are parsed by hand rather than with getopt_long: --arg, --argjson
 * and --slurpfile take two arguments, and everything after --exec PROGRAM
 * belongs to the program.
 */

enum {
	O_RAW = 1, O_NULL, O_SLURP, O_EXIT, O_COMPACT, O_ARGS, O_SPLIT,
	O_PLAIN_IN, O_PLAIN_OUT, O_STATS, O_PRINT, O_HELP, O_VERSION,
	O_TO, O_TO_FILE, O_FROM, O_STDERR, O_TIMEOUT, O_MEMORY, O_PAD, O_JOBS,
	O_BACKEND, O_MANIFEST, O_EXEC, O_ARG, O_ARGJSON, O_SLURPFILE,
};

struct opt {
	const char *name;
	char shortname;
	int id, nargs;
	int runtime;	/* allowed with --manifest */
};

static const struct opt opts[] = {
	{ "raw-output", 'r', O_RAW, 0, 0 },
	{ "null-input", 'n', O_NULL, 0, 0 },
	{ "slurp", 's', O_SLURP, 0, 0 },
	{ "exit-status", 'e', O_EXIT, 0, 0 },
	{ "compact-output", 'c', O_COMPACT, 0, 0 },
	{ "args", 0, O_ARGS, 0, 0 },
	{ "split", 0, O_SPLIT, 0, 0 },
	{ "plain-in", 0, O_PLAIN_IN, 0, 0 },
	{ "plain-out", 0, O_PLAIN_OUT, 0, 0 },
	{ "stats", 0, O_STATS, 0, 1 },
	{ "print-manifest", 0, O_PRINT, 0, 1 },
	{ "help", 'h', O_HELP, 0, 1 },
	{ "version", 0, O_VERSION, 0, 1 },
	{ "to", 0, O_TO, 1, 0 },
	{ "to-file", 0, O_TO_FILE, 1, 0 },
	{ "from", 0, O_FROM, 1, 0 },
	{ "stderr", 0, O_STDERR, 1, 0 },
	{ "timeout", 0, O_TIMEOUT, 1, 0 },
	{ "memory", 0, O_MEMORY, 1, 0 },
	{ "pad", 0, O_PAD, 1, 0 },
	{ "jobs", 0, O_JOBS, 1, 0 },
	{ "backend", 0, O_BACKEND, 1, 0 },
	{ "manifest", 0, O_MANIFEST, 1, 1 },
	{ "exec", 0, O_EXEC, 1, 0 },
	{ "arg", 0, O_ARG, 2, 0 },
	{ "argjson", 0, O_ARGJSON, 2, 0 },
	{ "slurpfile", 0, O_SLURPFILE, 2, 1 },
	{ NULL, 0, 0, 0, 0 },
};

#define DEF_TIMEOUT 60
#define DEF_MEMORY (512ull * 1024 * 1024)
#define MAX_NAMES 256

struct strset {
	char *v[MAX_NAMES];
	size_t n;
};

struct build {
	int raw, null, slurp, exit, args, split, plain_in, plain_out;
	int from_any, pass_stderr, described;
	unsigned long long timeout, memory, pad, jobs;
	const char *backend, *program;
	struct strset to, from;
	jv arg, argjson, positional;
	char **exec_args;
	int nexec;
};

static int
usage(struct err *e, const char *fmt, const char *arg)
{
	return err_set(e, EXIT_USAGE, fmt, arg);
}

static int
strset_add(struct strset *s, const char *v, struct err *e)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return 0;
	if (s->n == MAX_NAMES)
		return err_set(e, EXIT_USAGE, "too many keys (max %d)",
		    MAX_NAMES);
	if ((s->v[s->n] = strdup(v)) == NULL)
		return err_errno(e, EXIT_IO, "strdup");
	s->n++;
	return 0;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static jv
strset_jv(struct strset *s)
{
	jv a = jv_array();
	size_t i;

	qsort(s->v, s->n, sizeof(s->v[0]), cmpstr);
	for (i = 0; i < s->n; i++)
		a = jv_array_append(a, jv_string(s->v[i]));
	return a;
}

static void
strset_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

/* A decimal count with an optional K, M or G (binary) suffix. */
static int
parse_size(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1024; end++; break;
	case 'm': case 'M': mul = 1024 * 1024; end++; break;
	case 'g': case 'G': mul = 1024 * 1024 * 1024; end++; break;
	}
	if (mul > 1 && (*end == 'i' || *end == 'I') && (end[1] == 'B' ||
	    end[1] == 'b'))
		end += 2;
	if (*end != '\0' || v > max / mul || v * mul < min || v * mul > max)
		return -1;
	*out = v * mul;
	return 0;
}

static int
parse_count(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' || *out < min || *out > max ? -1 : 0;
}

/* A $NAME may be bound once, by --arg, --argjson or --slurpfile. */
static int
new_name(struct build *b, const struct runopts *o, const char *name,
    struct err *e)
{
	size_t i;

	if (!manifest_name_ok(name))
		return usage(e, "malformed variable name: %.64s", name);
	if (jv_object_has(jv_copy(b->arg), jv_string(name)) ||
	    jv_object_has(jv_copy(b->argjson), jv_string(name)))
		return usage(e, "$%.64s given twice", name);
	for (i = 0; i < o->nslurp; i++)
		if (strcmp(o->slurp[i].name, name) == 0)
			return usage(e, "$%.64s given twice", name);
	return 0;
}

static int
add_recipient(struct build *b, const char *s, struct err *e)
{
	unsigned char pub[32];

	if (age_recipient_parse(s, pub, e) != 0)
		return -1;
	return strset_add(&b->to, s, e);
}

static int
add_recipients_file(struct build *b, const char *path, struct err *e)
{
	unsigned char *buf = NULL;
	char *line, *save = NULL, *p, *q;
	size_t n, count = 0;
	int rc = 0;

	if (io_slurp(path, 1024 * 1024, &buf, &n, e) != 0)
		return -1;
	for (line = strtok_r((char *)buf, "\n", &save);
	    line != NULL && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		for (q = p + strlen(p); q > p && (q[-1] == ' ' ||
		    q[-1] == '\t' || q[-1] == '\r'); q--)
			;
		*q = '\0';
		if (*p == '#' || *p == '\0')
			continue;
		if ((rc = add_recipient(b, p, e)) != 0)
			err_prefix(e, "%s", path);
		count++;
	}
	free(buf);
	if (rc == 0 && count == 0)
		rc = err_set(e, EXIT_DATA, "%s: no recipients", path);
	return rc;
}

static int
add_from(struct build *b, const char *path, struct err *e)
{
	unsigned char pub[32];
	char s[SIG_SIGNER_LEN];

	if (strcmp(path, "any") == 0) {
		b->from_any = 1;
		return 0;
	}
	if (sig_signer_load(path, pub, e) != 0)
		return -1;
	sig_signer_string(s, pub);
	return strset_add(&b->from, s, e);
}

/* Stream a file through SHA-256 into hex (65 bytes). */
static int
sha256_file(const char *path, char hex[65], struct err *e)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char buf[IO_BUFSZ], md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	struct stat st;
	ssize_t r;
	int fd, rc = -1, i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_errno(e, EXIT_IO, "unable to open %s", path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_set(e, EXIT_DATA, "%s: not a regular file", path);
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err_set(e, EXIT_IO, "SHA-256 failed");
		goto out;
	}
	while ((r = readall(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	if (r < 0) {
		err_errno(e, EXIT_IO, "unable to read %s", path);
		goto out;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

/* The absolute, symlink-free path of an executable, searched in PATH. */
static char *
resolve_exec(const char *prog, struct err *e)
{
	const char *path = getenv("PATH");
	char cand[PATH_MAX], *dirs, *d, *save = NULL, *r;
	struct stat st;

	if (strchr(prog, '/') != NULL) {
		if ((r = realpath(prog, NULL)) == NULL)
			err_errno(e, EXIT_IO, "%s", prog);
		return r;
	}
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	if ((dirs = strdup(path)) == NULL) {
		err_errno(e, EXIT_IO, "strdup");
		return NULL;
	}
	for (d = strtok_r(dirs, ":", &save); d != NULL;
	    d = strtok_r(NULL, ":", &save)) {
		if (*d != '/')
			continue;	/* relative PATH entries are ignored */
		if ((size_t)snprintf(cand, sizeof(cand), "%s/%s", d, prog) >=
		    sizeof(cand))
			continue;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(cand, X_OK) == 0) {
			free(dirs);
			if ((r = realpath(cand, NULL)) == NULL)
				err_errno(e, EXIT_IO, "%s", cand);
			return r;
		}
	}
	free(dirs);
	err_set(e, EXIT_USAGE, "%.200s: command not found in PATH", prog);
	return NULL;
}

static const struct opt *
lookup(const char *arg, const char **inl)
{
	const struct opt *p;
	size_t n;

	*inl = NULL;
	if (arg[1] != '-') {
		for (p = opts; p->name != NULL; p++)
			if (p->shortname == arg[1])
				return p;
		return NULL;
	}
	n = strcspn(arg + 2, "=");
	for (p = opts; p->name != NULL; p++)
		if (strlen(p->name) == n && strncmp(p->name, arg + 2, n) == 0) {
			if (arg[2 + n] == '=')
				*inl = arg + 3 + n;
			return p;
		}
	return NULL;
}

static int
apply(struct build *b, struct runopts *o, const struct opt *p, char **v,
    struct err *e)
{
	jv j;

	if (!p->runtime)
		b->described = 1;
	switch (p->id) {
	case O_RAW: b->raw = 1; break;
	case O_NULL: b->null = 1; break;
	case O_SLURP: b->slurp = 1; break;
	case O_EXIT: b->exit = 1; break;
	case O_COMPACT: break;
	case O_ARGS: b->args = 1; break;
	case O_SPLIT: b->split = 1; break;
	case O_PLAIN_IN: b->plain_in = 1; break;
	case O_PLAIN_OUT: b->plain_out = 1; break;
	case O_STATS: o->stats = 1; break;
	case O_PRINT: o->print_manifest = 1; break;
	case O_TO: return add_recipient(b, v[0], e);
	case O_TO_FILE: return add_recipients_file(b, v[0], e);
	case O_FROM: return add_from(b, v[0], e);
	case O_STDERR:
		if (strcmp(v[0], "drop") == 0)
			b->pass_stderr = 0;
		else if (strcmp(v[0], "pass") == 0)
			b->pass_stderr = 1;
		else
			return usage(e, "--stderr: expected drop or pass, "
			    "not %.64s", v[0]);
		break;
	case O_TIMEOUT:
		if (parse_count(v[0], 1, 7 * 86400, &b->timeout) != 0)
			return usage(e, "--timeout: expected seconds (1 to "
			    "604800), not %.64s", v[0]);
		break;
	case O_MEMORY:
		if (parse_size(v[0], 1024 * 1024, 1ull << 40, &b->memory) != 0)
			return usage(e, "--memory: expected a size from 1M to "
			    "1024G, not %.64s", v[0]);
		break;
	case O_PAD:
		if (parse_size(v[0], 0, 1ull << 30, &b->pad) != 0)
			return usage(e, "--pad: expected a size up to 1G, not "
			    "%.64s", v[0]);
		break;
	case O_JOBS:
		if (parse_count(v[0], 1, 256, &b->jobs) != 0)
			return usage(e, "--jobs: expected 1 to 256, not %.64s",
			    v[0]);
		break;
	case O_BACKEND:
		b->backend = v[0];
		break;
	case O_MANIFEST:
		o->manifest_path = v[0];
		break;
	case O_ARG:
		if (new_name(b, o, v[0], e) != 0)
			return -1;
		b->arg = jv_object_set(b->arg, jv_string(v[0]),
		    jv_string(v[1]));
		break;
	case O_ARGJSON:
		if (new_name(b, o, v[0], e) != 0)
			return -1;
		j = jv_parse(v[1]);
		if (!jv_is_valid(j)) {
			jv_free(j);
			return usage(e, "--argjson %.64s: invalid JSON text",
			    v[0]);
		}
		b->argjson = jv_object_set(b->argjson, jv_string(v[0]), j);
		break;
	case O_SLURPFILE:
		if (new_name(b, o, v[0], e) != 0)
			return -1;
		if (o->nslurp == RUNOPTS_SLURP_MAX)
			return usage(e, "too many --slurpfile (max %s)", "16");
		o->slurp[o->nslurp].name = v[0];
		o->slurp[o->nslurp].path = v[1];
		o->nslurp++;
		break;
	}
	return 0;
}

static int
build_manifest(struct build *b, struct runopts *o, struct err *e)
{
	char hex[65];
	jv m, names, prog;
	size_t i;
	int jq = b->exec_args == NULL;

	if (b->program == NULL)
		return usage(e, "no program given%s", "");
	if (jq && (o->program_path = strdup(b->program)) == NULL)
		return err_errno(e, EXIT_IO, "strdup");
	if (!jq && (o->program_path = resolve_exec(b->program, e)) == NULL)
		return -1;
	if (!jq && (b->raw || b->null || b->slurp || b->exit || b->args ||
	    jv_object_length(jv_copy(b->arg)) > 0 ||
	    jv_object_length(jv_copy(b->argjson)) > 0))
		return usage(e, "jq options do not apply to --exec%s", "");
	if (b->from_any && b->from.n > 0)
		return usage(e, "--from any cannot be combined with key "
		    "files%s", "");
	if (b->plain_out && b->to.n > 0)
		return usage(e, "--to cannot be combined with --plain-out%s",
		    "");
	if (!b->plain_out && b->to.n == 0)
		return usage(e, "sealed output needs at least one --to "
		    "RECIPIENT (or --plain-out)%s", "");
	if (!b->plain_in && !b->from_any && b->from.n == 0 &&
	    !(jq && b->null && o->nslurp == 0))
		return usage(e, "sealed input needs --from KEYFILE or --from "
		    "any (or --plain-in)%s", "");
	if (b->plain_in && (b->from_any || b->from.n > 0))
		return usage(e, "--from cannot be combined with --plain-in%s",
		    "");
	if (sha256_file(o->program_path, hex, e) != 0)
		return -1;

	prog = jv_object_set(jv_object(), jv_string("path"),
	    jv_string(o->program_path));
	prog = jv_object_set(prog, jv_string("sha256"), jv_string(hex));
	m = jv_object_set(jv_object(), jv_string("ti"),
	    jv_string("manifest/v1"));
	m = jv_object_set(m, jv_string("kind"), jv_string(jq ? "jq" : "exec"));
	m = jv_object_set(m, jv_string("program"), prog);
	if (jq) {
		jv q = jv_object();
		m = jv_object_set(m, jv_string("argv"),
		    jv_copy(b->positional));
		q = jv_object_set(q, jv_string("raw_output"), jv_bool(b->raw));
		q = jv_object_set(q, jv_string("null_input"), jv_bool(b->null));
		q = jv_object_set(q, jv_string("slurp"), jv_bool(b->slurp));
		q = jv_object_set(q, jv_string("exit_status"),
		    jv_bool(b->exit));
		q = jv_object_set(q, jv_string("arg"), jv_copy(b->arg));
		q = jv_object_set(q, jv_string("argjson"), jv_copy(b->argjson));
		m = jv_object_set(m, jv_string("jq"), q);
	} else {
		jv a = jv_array();
		for (i = 0; i < (size_t)b->nexec; i++)
			a = jv_array_append(a, jv_string(b->exec_args[i]));
		m = jv_object_set(m, jv_string("argv"), a);
	}
	names = jv_array();
	for (i = 0; i < o->nslurp; i++)
		names = jv_array_append(names, jv_string(o->slurp[i].name));
	m = jv_object_set(m, jv_string("inputs"), jv_sort(names,
	    jv_copy(names)));
	m = jv_object_set(m, jv_string("from"), b->from_any ?
	    jv_string("any") : strset_jv(&b->from));
	m = jv_object_set(m, jv_string("to"), strset_jv(&b->to));
	m = jv_object_set(m, jv_string("output"), JV_OBJECT(
	    jv_string("mode"), jv_string(b->split ? "split" : "one"),
	    jv_string("plain"), jv_bool(b->plain_out),
	    jv_string("pad"), jv_number((double)b->pad)));
	m = jv_object_set(m, jv_string("input"), JV_OBJECT(
	    jv_string("plain"), jv_bool(b->plain_in)));
	m = jv_object_set(m, jv_string("stderr"),
	    jv_string(b->pass_stderr ? "pass" : "drop"));
	m = jv_object_set(m, jv_string("limits"), JV_OBJECT(
	    jv_string("timeout_s"), jv_number((double)b->timeout),
	    jv_string("memory_bytes"), jv_number((double)b->memory),
	    jv_string("jobs"), jv_number((double)b->jobs)));
	m = jv_object_set(m, jv_string("backend"), jv_string(b->backend));
	o->manifest = m;
	return 0;
}

/* o->exec_argv: the program path, then n arguments. */
static int
set_exec_argv(struct runopts *o, char **args, jv jargs, int n, struct err *e)
{
	int j;

	if ((o->exec_argv = calloc((size_t)n + 2, sizeof(char *))) == NULL)
		return err_errno(e, EXIT_IO, "calloc");
	if ((o->exec_argv[0] = strdup(o->program_path)) == NULL)
		return err_errno(e, EXIT_IO, "strdup");
	for (j = 0; j < n; j++) {
		if (args != NULL) {
			o->exec_argv[j + 1] = strdup(args[j]);
		} else {
			jv x = jv_array_get(jv_copy(jargs), j);
			o->exec_argv[j + 1] = strdup(jv_string_value(x));
			jv_free(x);
		}
		if (o->exec_argv[j + 1] == NULL)
			return err_errno(e, EXIT_IO, "strdup");
	}
	return 0;
}

/* --manifest: load it, check the runtime options against it. */
static int
load_manifest(struct runopts *o, struct err *e)
{
	jv names, kind, prog, argv;
	size_t i;
	int j, n, found;

	if (manifest_load(o->manifest_path, &o->manifest, e) != 0)
		return -1;
	names = jv_object_get(jv_copy(o->manifest), jv_string("inputs"));
	n = jv_array_length(jv_copy(names));
	for (i = 0; i < o->nslurp; i++) {
		found = 0;
		for (j = 0; j < n && !found; j++) {
			jv x = jv_array_get(jv_copy(names), j);
			found = strcmp(jv_string_value(x), o->slurp[i].name) == 0;
			jv_free(x);
		}
		if (!found) {
			jv_free(names);
			return usage(e, "--slurpfile %.64s: not an input of the "
			    "manifest", o->slurp[i].name);
		}
	}
	for (j = 0; j < n; j++) {
		jv x = jv_array_get(jv_copy(names), j);
		found = 0;
		for (i = 0; i < o->nslurp && !found; i++)
			found = strcmp(jv_string_value(x), o->slurp[i].name) == 0;
		if (!found && !o->print_manifest) {
			err_set(e, EXIT_USAGE, "the manifest's input %.64s needs "
			    "--slurpfile %.64s FILE", jv_string_value(x),
			    jv_string_value(x));
			jv_free(x);
			jv_free(names);
			return -1;
		}
		jv_free(x);
	}
	jv_free(names);
	prog = jv_object_get(jv_copy(o->manifest), jv_string("program"));
	prog = jv_object_get(prog, jv_string("path"));
	o->program_path = strdup(jv_string_value(prog));
	jv_free(prog);
	if (o->program_path == NULL)
		return err_errno(e, EXIT_IO, "strdup");
	kind = jv_object_get(jv_copy(o->manifest), jv_string("kind"));
	if (strcmp(jv_string_value(kind), "exec") == 0) {
		argv = jv_object_get(jv_copy(o->manifest), jv_string("argv"));
		n = jv_array_length(jv_copy(argv));
		if (set_exec_argv(o, NULL, argv, n, e) != 0) {
			jv_free(argv);
			jv_free(kind);
			return -1;
		}
		jv_free(argv);
	}
	jv_free(kind);
	return 0;
}

static int
parse(int argc, char **argv, struct build *b, struct runopts *o,
    struct err *e)
{
	const struct opt *p;
	const char *inl;
	char *v[2];
	int i, k, only_pos = 0;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (b->program == NULL)
				b->program = a;
			else if (b->args)
				b->positional = jv_array_append(b->positional,
				    jv_string(a));
			else
				return usage(e, "unexpected argument %.200s "
				    "(input comes on standard input; --args "
				    "makes positional arguments)", a);
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (a[1] != '-' && a[2] != '\0') {	/* -rn */
			for (k = 1; a[k] != '\0'; k++) {
				char one[3] = { '-', a[k], '\0' };
				if ((p = lookup(one, &inl)) == NULL ||
				    p->nargs != 0)
					return usage(e, "unknown option -%.1s",
					    a + k);
				if (apply(b, o, p, NULL, e) != 0)
					return -1;
			}
			continue;
		}
		if ((p = lookup(a, &inl)) == NULL)
			return usage(e, "unknown option %.64s", a);
		if (p->id == O_HELP || p->id == O_VERSION) {
			o->help = p->id == O_HELP;
			o->version = p->id == O_VERSION;
			return 1;
		}
		if (inl != NULL && p->nargs != 1)
			return usage(e, "option --%s takes no value after '='",
			    p->name);
		for (k = 0; k < p->nargs; k++) {
			if (k == 0 && inl != NULL) {
				v[0] = (char *)inl;
				continue;
			}
			if (++i >= argc)
				return usage(e, "option --%s needs an argument",
				    p->name);
			v[k] = argv[i];
		}
		if (p->id == O_EXEC) {
			if (b->program != NULL)
				return usage(e, "--exec with a jq program "
				    "(%.200s)", b->program);
			b->described = 1;
			b->program = v[0];
			b->exec_args = argv + i + 1;
			b->nexec = argc - i - 1;
			return 0;
		}
		if (apply(b, o, p, v, e) != 0)
			return -1;
	}
	return 0;
}

int
runopts_parse(int argc, char **argv, struct runopts *o, struct err *e)
{
	struct build b;
	int rc;

	memset(o, 0, sizeof(*o));
	o->manifest = jv_invalid();
	memset(&b, 0, sizeof(b));
	b.timeout = DEF_TIMEOUT;
	b.memory = DEF_MEMORY;
	b.jobs = 1;
	b.backend = "linux";
	b.arg = jv_object();
	b.argjson = jv_object();
	b.positional = jv_array();

	rc = parse(argc, argv, &b, o, e);
	if (rc == 1) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	if (o->manifest_path != NULL) {
		if (b.described || b.program != NULL)
			rc = usage(e, "with --manifest, only --slurpfile, "
			    "--stats and --print-manifest may be given%s", "");
		else
			rc = load_manifest(o, e);
	} else {
		rc = build_manifest(&b, o, e);
		if (rc == 0 && b.exec_args != NULL)
			rc = set_exec_argv(o, b.exec_args, jv_null(), b.nexec,
			    e);
		if (rc == 0 && manifest_check(jv_copy(o->manifest), e) != 0)
			rc = -1;
	}
	if (rc == 0)
		rc = manifest_measure(jv_copy(o->manifest), o->measurement, e);
out:
	strset_free(&b.to);
	strset_free(&b.from);
	jv_free(b.arg);
	jv_free(b.argjson);
	jv_free(b.positional);
	return rc;
}

void
runopts_fini(struct runopts *o)
{
	size_t i;

	jv_free(o->manifest);
	o->manifest = jv_invalid();
	if (o->exec_argv != NULL) {
		for (i = 0; o->exec_argv[i] != NULL; i++)
			free(o->exec_argv[i]);
		free(o->exec_argv);
	}
	o->exec_argv = NULL;
	free(o->program_path);
	o->program_path = NULL;
}

int
runopts_program(jv m, unsigned char **buf, size_t *len, struct err *e)
{
	unsigned char md[32], want[32];
	unsigned int mdlen = 0;
	jv prog, path, sum;
	const char *h;
	int i, rc = -1;

	*buf = NULL;
	prog = jv_object_get(jv_copy(m), jv_string("program"));
	path = jv_object_get(jv_copy(prog), jv_string("path"));
	sum = jv_object_get(prog, jv_string("sha256"));
	if (jv_get_kind(path) != JV_KIND_STRING ||
	    jv_get_kind(sum) != JV_KIND_STRING ||
	    jv_string_length_bytes(jv_copy(sum)) != 64) {
		err_set(e, EXIT_DATA, "manifest: malformed program");
		goto out;
	}
	h = jv_string_value(sum);
	for (i = 0; i < 32; i++) {
		unsigned hi, lo;
		if (sscanf(h + 2 * i, "%1x%1x", &hi, &lo) != 2) {
			err_set(e, EXIT_DATA, "manifest: malformed program.sha256");
			goto out;
		}
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	if (io_slurp(jv_string_value(path), 256u * 1024 * 1024, buf, len,
	    e) != 0)
		goto out;
	if (EVP_Digest(*buf, *len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    CRYPTO_memcmp(md, want, 32) != 0) {
		err_set(e, EXIT_DATA, "%s: does not match the manifest's "
		    "program.sha256", jv_string_value(path));
		free(*buf);
		*buf = NULL;
		goto out;
	}
	rc = 0;
out:
	jv_free(path);
	jv_free(sum);
	return rc;
}
