#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>
#include <openssl/sha.h>

#include "b64.h"
#include "exitcode.h"
#include "jsonio.h"
#include "message.h"
#include "sig.h"

static int
field_str(jv o, const char *k, const char **s, struct err *e)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));

	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return err_set(e, EXIT_DATA, "message: missing or bad \"%s\"",
		    k);
	}
	/* o keeps the string alive; v is a second reference. */
	*s = jv_string_value(v);
	jv_free(v);
	return 0;
}

static int
b64url_exact(const char *s, unsigned char *out, size_t want)
{
	size_t n, sl = strlen(s);
	unsigned char buf[128];

	if (sl > b64_enclen(want, B64_URL) ||
	    b64_decode(buf, &n, s, sl, B64_URL) != 0 || n != want)
		return -1;
	memcpy(out, buf, want);
	return 0;
}

int
message_parse(const char *line, size_t n, struct message *m, struct err *e)
{
	jv o, v;
	const char *s;
	double d;
	size_t i, sl;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n > MESSAGE_MAX)
		return err_set(e, EXIT_DATA, "message too large (max %u bytes)",
		    MESSAGE_MAX);
	o = jsonio_parse(line, n, "message", e);
	if (!jv_is_valid(o)) {
		jv_free(o);
		return -1;
	}
	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		return err_set(e, EXIT_DATA, "not a message (expected a JSON object)");
	}
	v = jv_object_get(jv_copy(o), jv_string("v"));
	if (jv_get_kind(v) != JV_KIND_NUMBER || jv_number_value(v) != 1) {
		jv_free(v);
		err_set(e, EXIT_DATA, "message: unsupported or missing version \"v\"");
		goto out;
	}
	jv_free(v);
	if (field_str(o, "run", &s, e) != 0)
		goto out;
	sl = strlen(s);
	if (sl == 0 || sl > MESSAGE_RUN_MAX) {
		err_set(e, EXIT_DATA, "message: bad \"run\"");
		goto out;
	}
	for (i = 0; i < sl; i++)
		if (!(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' && s[i] != '_') {
			err_set(e, EXIT_DATA, "message: bad \"run\"");
			goto out;
		}
	memcpy(m->run, s, sl + 1);
	v = jv_object_get(jv_copy(o), jv_string("seq"));
	d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
	jv_free(v);
	if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(uint64_t)d) {
		err_set(e, EXIT_DATA, "message: bad \"seq\"");
		goto out;
	}
	m->seq = (uint64_t)d;
	v = jv_object_get(jv_copy(o), jv_string("last"));
	if (jv_get_kind(v) != JV_KIND_TRUE && jv_get_kind(v) != JV_KIND_FALSE) {
		jv_free(v);
		err_set(e, EXIT_DATA, "message: bad \"last\"");
		goto out;
	}
	m->last = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	if (field_str(o, "signer", &s, e) != 0)
		goto out;
	if (sig_signer_parse(s, m->signer, e) != 0) {
		err_set(e, EXIT_DATA, "message: bad \"signer\"");
		goto out;
	}
	if (field_str(o, "sig", &s, e) != 0)
		goto out;
	if (b64url_exact(s, m->sig, 64) != 0) {
		err_set(e, EXIT_DATA, "message: bad \"sig\"");
		goto out;
	}
	if (field_str(o, "sealed", &s, e) != 0)
		goto out;
	sl = strlen(s);
	if ((m->sealed = malloc(b64_declen(sl))) == NULL) {
		err_set(e, EXIT_IO, "message: out of memory");
		goto out;
	}
	if (b64_decode(m->sealed, &m->sealedlen, s, sl, B64_STD) != 0 ||
	    m->sealedlen == 0) {
		err_set(e, EXIT_DATA, "message: bad \"sealed\" (not base64)");
		goto out;
	}
	rc = 0;
out:
	jv_free(o);
	if (rc != 0)
		message_fini(m);
	return rc;
}

void
message_fini(struct message *m)
{
	free(m->sealed);
	m->sealed = NULL;
	m->sealedlen = 0;
}

size_t
message_tbs(const struct message *m, char *out)
{
	unsigned char d[32];
	char hex[65];
	int i;

	SHA256(m->sealed, m->sealedlen, d);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return (size_t)snprintf(out, MESSAGE_TBS_MAX, "ti-message/v1\n%s\n%" PRIu64
	    "\n%s\n%s", m->run, m->seq, m->last ? "true" : "false", hex);
}

int
message_sign(struct message *m, const unsigned char seed[32], struct err *e)
{
	char tbs[MESSAGE_TBS_MAX];
	size_t n = message_tbs(m, tbs);

	if (sig_public(seed, m->signer) != 0 ||
	    sig_sign(seed, tbs, n, m->sig) != 0)
		return err_set(e, EXIT_IO, "message: signing failed");
	return 0;
}

int
message_verify(const struct message *m, const unsigned char *want,
    struct err *e)
{
	char tbs[MESSAGE_TBS_MAX], who[SIG_SIGNER_LEN];
	size_t n;

	if (want != NULL && memcmp(want, m->signer, 32) != 0) {
		sig_signer_string(who, m->signer);
		return err_set(e, EXIT_NO, "message from unexpected signer %s",
		    who);
	}
	n = message_tbs(m, tbs);
	if (sig_verify(m->signer, tbs, n, m->sig) != 0)
		return err_set(e, EXIT_NO, "message signature does not verify");
	return 0;
}

char *
message_format(const struct message *m, size_t *len)
{
	char signer[SIG_SIGNER_LEN], sig[90];
	size_t cap = b64_enclen(m->sealedlen, B64_STD) + 400, n;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	sig_signer_string(signer, m->signer);
	b64_encode(sig, m->sig, 64, B64_URL);
	n = (size_t)snprintf(s, cap, "{\"v\":1,\"run\":\"%s\",\"seq\":%" PRIu64
	    ",\"last\":%s,\"signer\":\"%s\",\"sig\":\"%s\",\"sealed\":\"",
	    m->run, m->seq, m->last ? "true" : "false", signer, sig);
	b64_encode(s + n, m->sealed, m->sealedlen, B64_STD);
	n += b64_enclen(m->sealedlen, B64_STD);
	memcpy(s + n, "\"}", 3);
	if (len != NULL)
		*len = n + 2;
	return s;
}

void
message_run_id(char *out, const unsigned char digest[32])
{
	b64_encode(out, digest, 16, B64_URL);
}
