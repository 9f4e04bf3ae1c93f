#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "exitcode.h"
#include "jsonio.h"
#include "jws.h"
#include "manifest.h"

/* Decode one base64url part into a new NUL-terminated buffer. */
static unsigned char *
part(const char *s, size_t n, size_t *len)
{
	unsigned char *b = malloc(b64_declen(n) + 1);

	if (b == NULL)
		return NULL;
	if (b64_decode(b, len, s, n, B64_URL) != 0) {
		free(b);
		return NULL;
	}
	b[*len] = '\0';
	return b;
}

static jv
object(const char *s, size_t n, const char *what, struct err *e)
{
	unsigned char *b;
	size_t len;
	jv v;

	if ((b = part(s, n, &len)) == NULL) {
		err_set(e, EXIT_DATA, "malformed evidence: %s is not base64url",
		    what);
		return jv_invalid();
	}
	v = jsonio_parse((const char *)b, len, what, e);
	free(b);
	if (!jv_is_valid(v)) {
		err_prefix(e, "malformed evidence");
		return v;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		err_set(e, EXIT_DATA, "malformed evidence: %s is not a JSON "
		    "object", what);
		return jv_invalid();
	}
	return v;
}

int
jws_parse(const char *s, size_t n, struct jws *j, struct err *e)
{
	const char *d1, *d2;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	jv alg;

	memset(j, 0, sizeof(*j));
	j->header = jv_invalid();
	j->payload = jv_invalid();
	if (n > JWS_MAX)
		return err_set(e, EXIT_DATA, "evidence too large (max %d bytes)",
		    JWS_MAX);
	if (memchr(s, '\0', n) != NULL ||
	    (d1 = memchr(s, '.', n)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - s))) == NULL ||
	    memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - s)) != NULL)
		return err_set(e, EXIT_DATA, "malformed evidence: not a compact "
		    "JWS");
	j->header = object(s, (size_t)(d1 - s), "JWS header", e);
	if (!jv_is_valid(j->header))
		return -1;
	alg = jv_object_get(jv_copy(j->header), jv_string("alg"));
	if (jv_get_kind(alg) != JV_KIND_STRING) {
		jv_free(alg);
		return err_set(e, EXIT_DATA, "malformed evidence: no alg");
	}
	if (strcmp(jv_string_value(alg), "EdDSA") != 0) {
		err_set(e, EXIT_NO, "evidence algorithm %.32s refused (only "
		    "EdDSA)", jv_string_value(alg));
		jv_free(alg);
		return -1;
	}
	jv_free(alg);
	if (jv_object_has(jv_copy(j->header), jv_string("crit")))
		return err_set(e, EXIT_NO, "evidence has critical header "
		    "parameters");
	j->payload = object(d1 + 1, (size_t)(d2 - d1 - 1), "JWS payload", e);
	if (!jv_is_valid(j->payload))
		return -1;
	sig = part(d2 + 1, n - (size_t)(d2 + 1 - s), &siglen);
	if (sig == NULL || siglen != 64) {
		free(sig);
		return err_set(e, EXIT_DATA, "malformed evidence: signature is "
		    "not 64 bytes of base64url");
	}
	memcpy(j->sig, sig, 64);
	free(sig);
	j->input = s;
	j->inputlen = (size_t)(d2 - s);
	return 0;
}

void
jws_fini(struct jws *j)
{
	jv_free(j->header);
	jv_free(j->payload);
	j->header = jv_invalid();
	j->payload = jv_invalid();
}

int
jws_verify(const struct jws *j, EVP_PKEY *pk)
{
	EVP_MD_CTX *ctx;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, j->sig, 64, (const unsigned char *)j->input,
	    j->inputlen) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
jws_sign(jv header, jv payload, EVP_PKEY *pk, char **out, struct err *e)
{
	char *h = NULL, *p = NULL, *buf = NULL;
	size_t hl, pl, n, siglen = 64;
	unsigned char sig[64];
	EVP_MD_CTX *ctx = NULL;
	int rc = -1;

	if (manifest_canonical(header, &h, &hl, e) != 0) {
		jv_free(payload);
		return -1;
	}
	if (manifest_canonical(payload, &p, &pl, e) != 0)
		goto out;
	n = b64_enclen(hl, B64_URL) + 1 + b64_enclen(pl, B64_URL) + 1 +
	    b64_enclen(64, B64_URL) + 1;
	if ((buf = malloc(n)) == NULL) {
		err_set(e, EXIT_IO, "out of memory");
		goto out;
	}
	b64_encode(buf, (unsigned char *)h, hl, B64_URL);
	strcat(buf, ".");
	b64_encode(buf + strlen(buf), (unsigned char *)p, pl, B64_URL);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)buf,
	    strlen(buf)) != 1 || siglen != 64) {
		err_set(e, EXIT_IO, "signing evidence failed");
		goto out;
	}
	strcat(buf, ".");
	b64_encode(buf + strlen(buf), sig, 64, B64_URL);
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(h);
	free(p);
	free(buf);
	return rc;
}
