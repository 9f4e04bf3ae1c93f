#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "exitcode.h"
#include "jsonio.h"
#include "policy.h"

#define POLICY_MAX_CLAIMS 32

/*
 * Words a policy may not contain anywhere (even inside strings: the check
 * is deliberately cruder than jq's lexer): module loading, and builtins
 * whose result depends on something other than the claims. Right after a
 * "." a word is a field name (".debug", the claim), never a call: jq
 * lexes ".word" as a field, and "..word" does not compile.
 */
static const char *const refused[] = {
	"import", "include", "modulemeta", "get_search_list", "env", "ENV",
	"input", "inputs", "input_filename", "input_line_number", "now",
	"halt", "halt_error", "debug", "stderr", "get_prog_origin",
	"get_jq_origin", NULL,
};

/*
 * An object policy is compiled into one jq program (libjq 1.6 spends most
 * of a compilation on its builtins, so one compile is much cheaper than
 * one per claim) that yields an array of booleans, one per claim:
 *   def _ti_p0: PREDICATE0
 *   ; ...
 *   [(try ([.["claim0"] | _ti_p0] | length == 1 and .[0] == true)
 *     catch false), ...]
 */
struct policy {
	jq_state *jq;
	int n;				/* claims; 0: a plain expression */
	char *claim[POLICY_MAX_CLAIMS];	/* sorted */
};

static int
isword(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

static const char *
refused_word(const char *s)
{
	const char *p;
	size_t i, n;

	for (i = 0; refused[i] != NULL; i++) {
		const char *w = refused[i];
		n = strlen(w);
		for (p = s; (p = strstr(p, w)) != NULL; p += n)
			if ((p == s || (!isword(p[-1]) && p[-1] != '.')) &&
			    !isword(p[n]))
				return w;
	}
	return NULL;
}

static void
quiet(void *data, jv msg)
{
	(void)data;
	jv_free(msg);
}

static jq_state *
compile(const char *text, int check, struct err *e, const char *what)
{
	const char *w, *home;
	char *saved = NULL;
	jq_state *jq;
	int ok;

	if (check && (w = refused_word(text)) != NULL) {
		err_set(e, EXIT_USAGE, "policy%s%s: %s is not allowed in a "
		    "policy", what ? " for " : "", what ? what : "", w);
		return NULL;
	}
	if ((jq = jq_init()) == NULL) {
		err_set(e, EXIT_IO, "out of memory");
		return NULL;
	}
	jq_set_error_cb(jq, quiet, NULL);
	jq_set_attr(jq, jv_string("JQ_LIBRARY_PATHS"), jv_array());
	/*
	 * libjq 1.6 imports $HOME/.jq into every program it compiles; with
	 * HOME unset it imports nothing.
	 */
	if ((home = getenv("HOME")) != NULL && (saved = strdup(home)) == NULL) {
		jq_teardown(&jq);
		err_set(e, EXIT_IO, "out of memory");
		return NULL;
	}
	unsetenv("HOME");
	ok = jq_compile_args(jq, text, jv_array());
	if (saved != NULL) {
		setenv("HOME", saved, 1);
		free(saved);
	}
	if (!ok) {
		jq_teardown(&jq);
		err_set(e, EXIT_USAGE, "policy%s%s: not a valid jq expression",
		    what ? " for " : "", what ? what : "");
		return NULL;
	}
	return jq;
}

static int
claim_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i > 0 && i <= 64;
}

/* The jq program of an object policy, malloc'd; NULL with e filled. */
static char *
object_program(struct policy *p, jv obj, struct err *e)
{
	jv keys = jv_keys(jv_copy(obj)), prog = jv_string("");
	const char *w;
	char *out = NULL;
	int i;

	p->n = jv_array_length(jv_copy(keys));
	if (p->n == 0 || p->n > POLICY_MAX_CLAIMS) {
		err_set(e, EXIT_USAGE, "policy: an object of 1 to %d claims",
		    POLICY_MAX_CLAIMS);
		p->n = 0;
		goto out;
	}
	for (i = 0; i < p->n; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		jv v = jv_object_get(jv_copy(obj), jv_copy(k));
		p->claim[i] = strdup(jv_string_value(k));
		if (p->claim[i] == NULL || !claim_ok(p->claim[i]) ||
		    jv_get_kind(v) != JV_KIND_STRING ||
		    (w = refused_word(jv_string_value(v))) != NULL) {
			if (p->claim[i] == NULL)
				err_set(e, EXIT_IO, "out of memory");
			else if (!claim_ok(p->claim[i]))
				err_set(e, EXIT_USAGE, "policy: malformed claim "
				    "name %.64s", p->claim[i]);
			else if (jv_get_kind(v) != JV_KIND_STRING)
				err_set(e, EXIT_USAGE, "policy for %.64s: not a "
				    "string", p->claim[i]);
			else
				err_set(e, EXIT_USAGE, "policy for %.64s: %s is "
				    "not allowed in a policy", p->claim[i], w);
			jv_free(k);
			jv_free(v);
			p->n = i + 1;
			goto out;
		}
		prog = jv_string_concat(prog, jv_string_fmt("def _ti_p%d: ", i));
		prog = jv_string_concat(prog, jv_string_fmt("%s\n;\n",
		    jv_string_value(v)));
		jv_free(k);
		jv_free(v);
	}
	prog = jv_string_append_str(prog, "[");
	for (i = 0; i < p->n; i++)
		prog = jv_string_concat(prog, jv_string_fmt("%s(try ([.[\"%s\"] "
		    "| _ti_p%d] | length == 1 and .[0] == true) catch false)",
		    i ? ", " : "", p->claim[i], i));
	prog = jv_string_append_str(prog, "]");
	if ((out = strdup(jv_string_value(prog))) == NULL)
		err_set(e, EXIT_IO, "out of memory");
out:
	jv_free(keys);
	jv_free(prog);
	return out;
}

struct policy *
policy_new(const char *text, struct err *e)
{
	struct policy *p;
	jv obj = jv_invalid();
	const char *t = text;
	char *prog = NULL;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		err_set(e, EXIT_IO, "out of memory");
		return NULL;
	}
	while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
		t++;
	if (*t == '{')
		obj = jsonio_parse(text, strlen(text), "policy", NULL);
	if (jv_get_kind(obj) == JV_KIND_OBJECT) {
		if ((prog = object_program(p, obj, e)) == NULL)
			goto fail;
		/* Predicates were checked one by one; claim names are data. */
		p->jq = compile(prog, 0, e, NULL);
	} else {
		p->jq = compile(text, 1, e, NULL);
	}
	if (p->jq == NULL)
		goto fail;
	free(prog);
	jv_free(obj);
	return p;
fail:
	free(prog);
	jv_free(obj);
	policy_free(p);
	return NULL;
}

void
policy_free(struct policy *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->claim[i]);
	if (p->jq != NULL)
		jq_teardown(&p->jq);
	free(p);
}

/* NULL if jq yields exactly one true on input, else why not. */
static const char *
run(jq_state *jq, jv input)
{
	const char *why = NULL;
	jv r;
	int n = 0;

	jq_start(jq, input, 0);
	for (;;) {
		r = jq_next(jq);
		if (!jv_is_valid(r)) {
			if (jv_invalid_has_msg(jv_copy(r)))
				why = "error";
			jv_free(r);
			break;
		}
		n++;
		if (n == 1 && jv_get_kind(r) != JV_KIND_TRUE)
			why = "not true";
		jv_free(r);
		if (n > 1) {
			why = "more than one value";
			break;
		}
	}
	if (why == NULL && n == 0)
		why = "no value";
	return why;
}

int
policy_check(struct policy *p, jv claims, struct err *e)
{
	char names[400];
	size_t used = 0;
	const char *why;
	jv r, x;
	int i;

	if (p->n == 0) {
		if ((why = run(p->jq, jv_copy(claims))) != NULL)
			return err_set(e, EXIT_NO, "policy denied (%s)", why);
		return 0;
	}
	jq_start(p->jq, jv_copy(claims), 0);
	r = jq_next(p->jq);
	if (jv_get_kind(r) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(r)) != p->n) {
		jv_free(r);
		return err_set(e, EXIT_NO, "policy denied (error)");
	}
	names[0] = '\0';
	for (i = 0; i < p->n; i++) {
		x = jv_array_get(jv_copy(r), i);
		if (jv_get_kind(x) != JV_KIND_TRUE) {
			used += (size_t)snprintf(names + used, sizeof(names) - used,
			    "%s%s", used ? ", " : "", p->claim[i]);
			if (used >= sizeof(names))
				used = sizeof(names) - 1;
		}
		jv_free(x);
	}
	jv_free(r);
	if (used > 0)
		return err_set(e, EXIT_NO, "policy denied: %s", names);
	return 0;
}
