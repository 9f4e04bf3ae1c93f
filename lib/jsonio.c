#include <limits.h>

#include "exitcode.h"
#include "jsonio.h"

jv
jsonio_parse(const char *buf, size_t n, const char *what, struct err *e)
{
	struct jv_parser *p;
	jv v, w;

	if (n > INT_MAX) {
		err_set(e, EXIT_DATA, "%s: too large", what);
		return jv_invalid();
	}
	p = jv_parser_new(0);
	jv_parser_set_buf(p, buf, (int)n, 0);
	v = jv_parser_next(p);
	if (jv_is_valid(v)) {
		w = jv_parser_next(p);
		if (jv_is_valid(w) || jv_invalid_has_msg(jv_copy(w))) {
			jv_free(v);
			v = jv_invalid_with_msg(jv_string(
			    "unexpected data after the JSON value"));
		}
		jv_free(w);
	} else if (!jv_invalid_has_msg(jv_copy(v))) {
		jv_free(v);
		v = jv_invalid_with_msg(jv_string("no JSON value"));
	}
	jv_parser_free(p);
	if (!jv_is_valid(v) && e != NULL) {
		jv msg = jv_invalid_get_msg(jv_copy(v));
		err_set(e, EXIT_DATA, "%s: %s", what,
		    jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) :
		    "malformed JSON");
		jv_free(msg);
	}
	return v;
}
