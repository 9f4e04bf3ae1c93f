/*
 * TEMPORARY stand-in for manifest.c, evidence.c and age.c until they are
 * merged; removed then. Not a format of record.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jq.h>
#include <jv.h>
#include <openssl/sha.h>

#include "age.h"
#include "b64.h"
#include "evidence.h"
#include "exitcode.h"
#include "io.h"
#include "keyfile.h"
#include "manifest.h"
#include "sig.h"

int
manifest_load(const char *path, jv *m, struct err *e)
{
	unsigned char *buf;
	size_t n;

	if (io_slurp(path, MANIFEST_MAX, &buf, &n, e) != 0)
		return -1;
	*m = jv_parse_sized((char *)buf, (int)n);
	free(buf);
	if (jv_get_kind(*m) != JV_KIND_OBJECT) {
		jv_free(*m);
		return err_set(e, EXIT_DATA, "%s: not a manifest", path);
	}
	return 0;
}

int
manifest_measure(jv m, char *out, struct err *e)
{
	jv s = jv_dump_string(m, JV_PRINT_SORTED);
	unsigned char d[32];
	int i;

	(void)e;
	SHA256((const unsigned char *)jv_string_value(s),
	    strlen(jv_string_value(s)), d);
	jv_free(s);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
	return 0;
}

char *
evidence_home(void)
{
	const char *h = getenv("TI_HOME"), *home = getenv("HOME");
	char *s;

	if (h != NULL && *h != '\0')
		return strdup(h);
	if (home == NULL)
		home = "/";
	if ((s = malloc(strlen(home) + 32)) != NULL)
		sprintf(s, "%s/.local/share/ti", home);
	return s;
}

int
evidence_secret(const char *home, unsigned char secret[32], struct err *e)
{
	char path[4096];
	unsigned char *buf;
	size_t n;

	snprintf(path, sizeof(path), "%s/platform.key", home);
	if (keyfile_read(path, &buf, &n, e) != 0)
		return -1;
	SHA256(buf, n, secret);
	keyfile_free(buf, n);
	return 0;
}

int
evidence_keys(const char *home, const char *measurement, struct tikeys *k,
    struct err *e)
{
	unsigned char s[32];
	int rc;

	if (evidence_secret(home, s, e) != 0)
		return -1;
	rc = keys_derive(s, 32, measurement, k, e);
	wipe(s, 32);
	return rc;
}

int
evidence_quote(const char *home, const char *measurement,
    const unsigned char *nonce, size_t noncelen, const unsigned char *data,
    char **out, struct err *e)
{
	struct tikeys k, p;
	char rcp[AGE_RECIPIENT_LEN], sk[SIG_SIGNER_LEN], *nb, *pl, *sg;
	unsigned char sig[64];
	jv c;
	const char *js;
	time_t now = time(NULL);

	(void)data;
	if (evidence_keys(home, measurement, &k, e) != 0)
		return -1;
	if (evidence_keys(home, "sha256:0000000000000000000000000000000000000000000000000000000000000000", &p, e) != 0) {
		keys_wipe(&k);
		return -1;
	}
	age_recipient_string(rcp, k.x_pub);
	sig_signer_string(sk, k.ed_pub);
	nb = b64_encode_alloc(nonce, noncelen, B64_URL);
	c = JV_OBJECT(jv_string("tee"), jv_string("sim"),
	    jv_string("measurement"), jv_string(measurement),
	    jv_string("recipient"), jv_string(rcp), jv_string("sig_key"),
	    jv_string(sk), jv_string("nonce"), jv_string(nb),
	    jv_string("iat"), jv_number((double)now),
	    jv_string("exp"), jv_number((double)now + 300));
	free(nb);
	c = jv_dump_string(c, 0);
	js = jv_string_value(c);
	pl = b64_encode_alloc((const unsigned char *)js, strlen(js), B64_URL);
	sig_sign(p.ed_seed, pl, strlen(pl), sig);
	sg = b64_encode_alloc(sig, 64, B64_URL);
	*out = malloc(strlen(pl) + strlen(sg) + 16);
	sprintf(*out, "standin.%s.%s", pl, sg);
	free(pl);
	free(sg);
	jv_free(c);
	keys_wipe(&k);
	keys_wipe(&p);
	return 0;
}

struct verifier {
	unsigned char root[32];
	jq_state *jq;
	time_t at;
};

struct verifier *
verifier_new(const struct verifier_opts *o, struct err *e)
{
	struct verifier *v = calloc(1, sizeof(*v));

	if (sig_signer_load(o->trust, v->root, e) != 0) {
		free(v);
		return NULL;
	}
	v->at = o->at;
	v->jq = jq_init();
	if (!jq_compile(v->jq, o->policy ? o->policy : "true")) {
		jq_teardown(&v->jq);
		free(v);
		err_set(e, EXIT_DATA, "bad policy");
		return NULL;
	}
	return v;
}

void
verifier_free(struct verifier *v)
{
	if (v == NULL)
		return;
	jq_teardown(&v->jq);
	free(v);
}

int
verifier_check(struct verifier *v, const char *ev, size_t len,
    const unsigned char *nonce, size_t noncelen, jv *claims, struct err *e)
{
	char *s = strndup(ev, len), *d1, *d2, *nb;
	unsigned char *pl = NULL, sig[80];
	size_t pln, sn;
	jv c = jv_invalid(), r, nv;
	int rc = -1, ntrue = 0, nres = 0;
	time_t now = v->at ? v->at : time(NULL);

	if (strncmp(s, "standin.", 8) != 0 || (d1 = strchr(s + 8, '.')) == NULL) {
		err_set(e, EXIT_DATA, "malformed evidence");
		goto out;
	}
	*d1++ = '\0';
	d2 = s + 8;
	pl = malloc(b64_declen(strlen(d2)) + 1);
	if (b64_decode(pl, &pln, d2, strlen(d2), B64_URL) != 0 ||
	    b64_decode(sig, &sn, d1, strlen(d1), B64_URL) != 0 || sn != 64) {
		err_set(e, EXIT_DATA, "malformed evidence");
		goto out;
	}
	if (sig_verify(v->root, d2, strlen(d2), sig) != 0) {
		err_set(e, EXIT_NO, "evidence signature does not verify");
		goto out;
	}
	c = jv_parse_sized((char *)pl, (int)pln);
	if (jv_get_kind(c) != JV_KIND_OBJECT) {
		err_set(e, EXIT_DATA, "malformed evidence");
		goto out;
	}
	r = jv_object_get(jv_copy(c), jv_string("exp"));
	if (jv_get_kind(r) != JV_KIND_NUMBER || jv_number_value(r) < now) {
		jv_free(r);
		err_set(e, EXIT_NO, "evidence expired");
		goto out;
	}
	jv_free(r);
	if (nonce != NULL) {
		nb = b64_encode_alloc(nonce, noncelen, B64_URL);
		nv = jv_object_get(jv_copy(c), jv_string("nonce"));
		if (jv_get_kind(nv) != JV_KIND_STRING ||
		    strcmp(jv_string_value(nv), nb) != 0) {
			free(nb);
			jv_free(nv);
			err_set(e, EXIT_NO, "nonce mismatch");
			goto out;
		}
		free(nb);
		jv_free(nv);
	}
	jq_start(v->jq, jv_copy(c), 0);
	while (jv_is_valid(r = jq_next(v->jq))) {
		nres++;
		if (jv_get_kind(r) == JV_KIND_TRUE)
			ntrue++;
		jv_free(r);
	}
	jv_free(r);
	if (nres != 1 || ntrue != 1) {
		err_set(e, EXIT_NO, "policy denied: measurement");
		goto out;
	}
	*claims = jv_copy(c);
	rc = 0;
out:
	jv_free(c);
	free(pl);
	free(s);
	return rc;
}

int
age_seal_mem(const void *in, size_t n, const struct age_keys *k, int armor,
    unsigned char **out, size_t *outlen, struct err *e)
{
	static const char hdr[] = "age-encryption.org/v1\n-> X25519 x\n--- x\n";

	(void)k;
	(void)armor;
	(void)e;
	*out = malloc(sizeof(hdr) + n);
	memcpy(*out, hdr, sizeof(hdr) - 1);
	memcpy(*out + sizeof(hdr) - 1, in, n);
	*outlen = sizeof(hdr) - 1 + n;
	return 0;
}

struct age_keys {
	int n;
};

struct age_keys *
age_keys_new(void)
{
	return calloc(1, sizeof(struct age_keys));
}

void
age_keys_free(struct age_keys *k)
{
	free(k);
}

int
age_add_x25519_recipient(struct age_keys *k, const unsigned char pub[32],
    struct err *e)
{
	(void)pub;
	(void)e;
	k->n++;
	return 0;
}
