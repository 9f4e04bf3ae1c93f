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
 * whose result depends on something other than the claims.
 */
static const char *const refused[] = {
	"import", "include", "modulemeta", "get_search_list", "env", "ENV",
	"input", "inputs", "input_filename", "input_line_number", "now",
	"halt", "halt_error", "debug", "stderr", "get_prog_origin",
	"get_jq_origin", NULL,
};

struct pred {
	char *claim;		/* NULL: the whole expression */
	jq_state *jq;
};

struct policy {
	struct pred p[POLICY_MAX_CLAIMS];
	int n;
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
			if ((p == s || !isword(p[-1])) && !isword(p[n]))
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
compile(const char *text, struct err *e, const char *what)
{
	const char *w, *home;
	char *saved = NULL;
	jq_state *jq;
	int ok;

	if ((w = refused_word(text)) != NULL) {
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
cmpclaim(const void *a, const void *b)
{
	return strcmp(((const struct pred *)a)->claim,
	    ((const struct pred *)b)->claim);
}

struct policy *
policy_new(const char *text, struct err *e)
{
	struct policy *p;
	jv obj = jv_invalid(), keys = jv_invalid();
	int i, len;
	const char *t = text;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		err_set(e, EXIT_IO, "out of memory");
		return NULL;
	}
	while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
		t++;
	if (*t == '{')
		obj = jsonio_parse(text, strlen(text), "policy", NULL);
	if (jv_get_kind(obj) == JV_KIND_OBJECT) {
		keys = jv_keys(jv_copy(obj));
		len = jv_array_length(jv_copy(keys));
		if (len == 0 || len > POLICY_MAX_CLAIMS) {
			err_set(e, EXIT_USAGE, "policy: an object of 1 to %d "
			    "claims", POLICY_MAX_CLAIMS);
			goto fail;
		}
		for (i = 0; i < len; i++) {
			jv k = jv_array_get(jv_copy(keys), i);
			jv v = jv_object_get(jv_copy(obj), jv_copy(k));
			if (jv_get_kind(v) != JV_KIND_STRING) {
				err_set(e, EXIT_USAGE, "policy for %.64s: not a "
				    "string", jv_string_value(k));
				jv_free(k);
				jv_free(v);
				goto fail;
			}
			p->p[i].claim = strdup(jv_string_value(k));
			p->p[i].jq = p->p[i].claim == NULL ? NULL :
			    compile(jv_string_value(v), e, p->p[i].claim);
			p->n = i + 1;
			jv_free(k);
			jv_free(v);
			if (p->p[i].jq == NULL)
				goto fail;
		}
		qsort(p->p, (size_t)p->n, sizeof(p->p[0]), cmpclaim);
	} else {
		if ((p->p[0].jq = compile(text, e, NULL)) == NULL)
			goto fail;
		p->n = 1;
	}
	jv_free(obj);
	jv_free(keys);
	return p;
fail:
	jv_free(obj);
	jv_free(keys);
	policy_free(p);
	return NULL;
}

void
policy_free(struct policy *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->p[i].claim);
		if (p->p[i].jq != NULL)
			jq_teardown(&p->p[i].jq);
	}
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
	const char *why;
	size_t used = 0;
	int i;

	if (p->n == 1 && p->p[0].claim == NULL) {
		if ((why = run(p->p[0].jq, jv_copy(claims))) != NULL)
			return err_set(e, EXIT_NO, "policy denied (%s)", why);
		return 0;
	}
	names[0] = '\0';
	for (i = 0; i < p->n; i++) {
		jv v = jv_object_get(jv_copy(claims), jv_string(p->p[i].claim));
		if (!jv_is_valid(v))
			v = jv_null();
		if (run(p->p[i].jq, v) == NULL)
			continue;
		used += (size_t)snprintf(names + used, sizeof(names) - used,
		    "%s%s", used ? ", " : "", p->p[i].claim);
		if (used >= sizeof(names))
			used = sizeof(names) - 1;
	}
	if (used > 0)
		return err_set(e, EXIT_NO, "policy denied: %s", names);
	return 0;
}
