#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cbor.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "exitcode.h"
#include "hwevidence.h"
#include "nitro.h"

/* COSE algorithm ES384 (RFC 9053). */
#define COSE_ES384 (-35)

/* The parts of a COSE_Sign1 document, borrowed from its decoded item. */
struct doc {
	cbor_item_t *root;	/* owns everything below */
	const unsigned char *prot, *payload, *sig;
	size_t protlen, payloadlen, siglen;
	cbor_item_t *map;	/* the decoded payload, owned */
};

static void
doc_fini(struct doc *d)
{
	if (d->root != NULL)
		cbor_decref(&d->root);
	if (d->map != NULL)
		cbor_decref(&d->map);
}

/* Decode exactly n bytes of CBOR into one item. NULL on any error. */
static cbor_item_t *
load(const unsigned char *b, size_t n)
{
	struct cbor_load_result res;
	cbor_item_t *it;

	it = cbor_load(b, n, &res);
	if (it == NULL)
		return NULL;
	if (res.error.code != CBOR_ERR_NONE || res.read != n) {
		cbor_decref(&it);
		return NULL;
	}
	return it;
}

static int
bstr(cbor_item_t *it, const unsigned char **p, size_t *n)
{
	if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
		return -1;
	*p = cbor_bytestring_handle(it);
	*n = cbor_bytestring_length(it);
	if (*p == NULL)
		*p = (const unsigned char *)"";
	return 0;
}

static int
tstr_is(cbor_item_t *it, const char *s)
{
	return cbor_isa_string(it) && cbor_string_is_definite(it) &&
	    cbor_string_length(it) == strlen(s) &&
	    memcmp(cbor_string_handle(it), s, strlen(s)) == 0;
}

/* The value of text key k in map m, or NULL. */
static cbor_item_t *
get(cbor_item_t *m, const char *k)
{
	struct cbor_pair *p = cbor_map_handle(m);
	size_t i;

	for (i = 0; i < cbor_map_size(m); i++)
		if (tstr_is(p[i].key, k))
			return p[i].value;
	return NULL;
}

static int
doc_open(struct doc *d, const unsigned char *b, size_t n, struct err *e)
{
	cbor_item_t *a, *t, **v, *hdr, *alg = NULL;
	struct cbor_pair *p;
	size_t i;

	memset(d, 0, sizeof(*d));
	if ((d->root = load(b, n)) == NULL)
		return err_set(e, EXIT_DATA, "nitro: not a CBOR document");
	a = d->root;
	if (cbor_isa_tag(a)) {
		if (cbor_tag_value(a) != 18)
			goto bad;
		t = cbor_tag_item(a);	/* a new reference */
		a = t;
		cbor_decref(&t);	/* a stays alive through root */
	}
	if (!cbor_isa_array(a) || !cbor_array_is_definite(a) ||
	    cbor_array_size(a) != 4)
		goto bad;
	v = cbor_array_handle(a);
	if (bstr(v[0], &d->prot, &d->protlen) != 0 || !cbor_isa_map(v[1]) ||
	    bstr(v[2], &d->payload, &d->payloadlen) != 0 ||
	    bstr(v[3], &d->sig, &d->siglen) != 0)
		goto bad;
	/* The protected header: a map with alg (1) = ES384. */
	if ((hdr = load(d->prot, d->protlen)) == NULL)
		goto bad;
	if (cbor_isa_map(hdr)) {
		p = cbor_map_handle(hdr);
		for (i = 0; i < cbor_map_size(hdr); i++)
			if (cbor_isa_uint(p[i].key) && cbor_get_int(p[i].key) ==
			    1)
				alg = p[i].value;
	}
	if (alg == NULL || !cbor_isa_negint(alg) ||
	    cbor_get_int(alg) != (uint64_t)(-1 - COSE_ES384)) {
		cbor_decref(&hdr);
		doc_fini(d);
		return err_set(e, EXIT_NO, "nitro: protected header does "
		    "not name ES384");
	}
	cbor_decref(&hdr);
	if ((d->map = load(d->payload, d->payloadlen)) == NULL ||
	    !cbor_isa_map(d->map))
		goto bad;
	return 0;
bad:
	doc_fini(d);
	return err_set(e, EXIT_DATA, "nitro: malformed COSE_Sign1 document");
}

static jv
set(jv o, const char *k, jv v)
{
	return jv_object_set(o, jv_string(k), v);
}

/* An optional byte string field as hex, or null. -1 if of another type. */
static int
optbytes(cbor_item_t *m, const char *k, jv *out)
{
	cbor_item_t *v = get(m, k);
	const unsigned char *p;
	size_t n;

	if (v == NULL || (cbor_isa_float_ctrl(v) && cbor_is_null(v))) {
		*out = jv_null();
		return 0;
	}
	if (bstr(v, &p, &n) != 0 || n > 1024)
		return -1;
	*out = hwevidence_hex(p, n);
	return 0;
}

static int
claims_of(struct doc *d, jv *claims, X509 **leaf, STACK_OF(X509) **bundle,
    struct err *e)
{
	cbor_item_t *m = d->map, *v, **arr;
	struct cbor_pair *pp;
	const unsigned char *p, *q, *pcr0 = NULL;
	size_t i, n, j;
	jv c, pcrs, pk, ud, nonce;
	int debug = 1;
	char key[24];
	X509 *x;

	*leaf = NULL;
	*bundle = NULL;
	c = jv_object();
	pcrs = jv_object();
	if ((v = get(m, "module_id")) == NULL || !cbor_isa_string(v) ||
	    !cbor_string_is_definite(v) || cbor_string_length(v) > 256)
		goto bad;
	c = set(c, "tee", jv_string("nitro"));
	c = set(c, "module_id", jv_string_sized((const char *)
	    cbor_string_handle(v), (int)cbor_string_length(v)));
	if ((v = get(m, "digest")) == NULL || !tstr_is(v, "SHA384"))
		goto bad;
	c = set(c, "digest", jv_string("SHA384"));
	if ((v = get(m, "timestamp")) == NULL || !cbor_isa_uint(v))
		goto bad;
	c = set(c, "timestamp", jv_number((double)cbor_get_int(v)));
	if ((v = get(m, "pcrs")) == NULL || !cbor_isa_map(v) ||
	    cbor_map_size(v) == 0 || cbor_map_size(v) > 32)
		goto bad;
	pp = cbor_map_handle(v);
	for (i = 0; i < cbor_map_size(v); i++) {
		if (!cbor_isa_uint(pp[i].key) || cbor_get_int(pp[i].key) > 31 ||
		    bstr(pp[i].value, &p, &n) != 0 ||
		    (n != 32 && n != 48 && n != 64))
			goto bad;
		snprintf(key, sizeof(key), "%u",
		    (unsigned)cbor_get_int(pp[i].key));
		pcrs = set(pcrs, key, hwevidence_hex(p, n));
		if (cbor_get_int(pp[i].key) == 0)
			pcr0 = p;
		if (cbor_get_int(pp[i].key) <= 2)
			for (j = 0; j < n; j++)
				debug &= p[j] == 0;
	}
	if (pcr0 == NULL)
		goto bad;
	c = set(c, "measurement", jv_object_get(jv_copy(pcrs),
	    jv_string("0")));
	c = set(c, "pcrs", pcrs);
	pcrs = jv_invalid();
	c = set(c, "debug", jv_bool(debug));
	c = set(c, "tcb_status", jv_string("unknown"));
	c = set(c, "advisories", jv_array());
	if (optbytes(m, "public_key", &pk) != 0)
		goto bad;
	if (optbytes(m, "user_data", &ud) != 0) {
		jv_free(pk);
		goto bad;
	}
	if (optbytes(m, "nonce", &nonce) != 0) {
		jv_free(pk);
		jv_free(ud);
		goto bad;
	}
	c = set(c, "report_data", jv_copy(ud));
	c = set(c, "bound", jv_false());
	c = set(c, "public_key", pk);
	c = set(c, "user_data", ud);
	c = set(c, "nonce", nonce);
	if ((v = get(m, "certificate")) == NULL || bstr(v, &p, &n) != 0)
		goto bad;
	q = p;
	if ((*leaf = d2i_X509(NULL, &q, (long)n)) == NULL || q != p + n)
		goto bad;
	if ((v = get(m, "cabundle")) == NULL || !cbor_isa_array(v) ||
	    cbor_array_size(v) == 0 || cbor_array_size(v) > 16 ||
	    (*bundle = sk_X509_new_null()) == NULL)
		goto bad;
	arr = cbor_array_handle(v);
	for (i = 0; i < cbor_array_size(v); i++) {
		if (bstr(arr[i], &p, &n) != 0)
			goto bad;
		q = p;
		if ((x = d2i_X509(NULL, &q, (long)n)) == NULL)
			goto bad;
		if (q != p + n || !sk_X509_push(*bundle, x)) {
			X509_free(x);
			goto bad;
		}
	}
	*claims = c;
	return 0;
bad:
	ERR_clear_error();
	jv_free(c);
	jv_free(pcrs);
	X509_free(*leaf);
	sk_X509_pop_free(*bundle, X509_free);
	*leaf = NULL;
	*bundle = NULL;
	return err_set(e, EXIT_DATA, "nitro: malformed attestation document");
}

int
nitro_parse(const unsigned char *b, size_t n, jv *claims, struct err *e)
{
	struct doc d;
	STACK_OF(X509) *bundle;
	X509 *leaf;
	int r;

	if (doc_open(&d, b, n, e) != 0)
		return -1;
	r = claims_of(&d, claims, &leaf, &bundle, e);
	X509_free(leaf);
	sk_X509_pop_free(bundle, X509_free);
	doc_fini(&d);
	return r;
}

/* Append a CBOR major-type head for len to buf at *at. */
static void
head(unsigned char *buf, size_t *at, int major, size_t len)
{
	unsigned char *p = buf + *at;
	int i, k;

	if (len < 24) {
		*p = (unsigned char)(major << 5 | len);
		*at += 1;
		return;
	}
	k = len <= 0xff ? 1 : len <= 0xffff ? 2 : len <= 0xffffffffUL ? 4 : 8;
	*p = (unsigned char)(major << 5 | (k == 1 ? 24 : k == 2 ? 25 :
	    k == 4 ? 26 : 27));
	for (i = 0; i < k; i++)
		p[1 + i] = (unsigned char)((uint64_t)len >> 8 * (k - 1 - i));
	*at += 1 + (size_t)k;
}

static int
sig_check(struct doc *d, X509 *leaf, struct err *e)
{
	unsigned char *tbs = NULL, *der = NULL;
	size_t at = 0;
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pk = X509_get0_pubkey(leaf);
	int len, ret = -1;

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_bits(pk) != 384)
		return err_set(e, EXIT_NO, "nitro: certificate key is not "
		    "P-384");
	if (d->siglen != 96)
		return err_set(e, EXIT_NO, "nitro: signature is not ES384");
	/* Sig_structure = ["Signature1", protected, h'', payload]. */
	if ((tbs = malloc(32 + d->protlen + d->payloadlen)) == NULL)
		return err_set(e, EXIT_IO, "out of memory");
	head(tbs, &at, 4, 4);
	head(tbs, &at, 3, 10);
	memcpy(tbs + at, "Signature1", 10);
	at += 10;
	head(tbs, &at, 2, d->protlen);
	memcpy(tbs + at, d->prot, d->protlen);
	at += d->protlen;
	head(tbs, &at, 2, 0);
	head(tbs, &at, 2, d->payloadlen);
	memcpy(tbs + at, d->payload, d->payloadlen);
	at += d->payloadlen;
	if ((sig = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(d->sig, 48, NULL)) == NULL ||
	    (s = BN_bin2bn(d->sig + 48, 48, NULL)) == NULL ||
	    !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		err_set(e, EXIT_IO, "out of memory");
		goto out;
	}
	if ((len = i2d_ECDSA_SIG(sig, &der)) <= 0 ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pk) != 1) {
		err_set(e, EXIT_IO, "nitro: cannot set up verification");
		goto out;
	}
	if (EVP_DigestVerify(md, der, (size_t)len, tbs, at) != 1) {
		err_set(e, EXIT_NO, "nitro: document signature does not "
		    "verify");
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	free(tbs);
	return ret;
}

int
nitro_verify(const unsigned char *b, size_t n, STACK_OF(X509) *roots,
    time_t at, jv *claims, struct err *e)
{
	struct doc d;
	STACK_OF(X509) *bundle;
	X509 *leaf;
	jv c;
	int r = -1;

	if (doc_open(&d, b, n, e) != 0)
		return -1;
	if (claims_of(&d, &c, &leaf, &bundle, e) != 0) {
		doc_fini(&d);
		return -1;
	}
	if (sig_check(&d, leaf, e) == 0 &&
	    hwevidence_chain("nitro", leaf, bundle, roots, NULL, at, e) == 0) {
		*claims = c;
		c = jv_invalid();
		r = 0;
	}
	jv_free(c);
	X509_free(leaf);
	sk_X509_pop_free(bundle, X509_free);
	doc_fini(&d);
	return r;
}

int
nitro_xfer_dev(void *ctx, const unsigned char *req, size_t reqlen,
    unsigned char *resp, size_t *resplen, struct err *e)
{
	/* <linux/nsm.h>: struct nsm_raw and NSM_IOCTL_RAW. */
	struct {
		uint64_t req_addr, req_len, resp_addr, resp_len;
	} raw;
	const char *path = ctx;
	int fd;

	if (path == NULL && (path = getenv("TI_NSM_DEV")) == NULL)
		path = "/dev/nsm";
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return err_errno(e, EXIT_IO, "nitro: %s", path);
	raw.req_addr = (uintptr_t)req;
	raw.req_len = reqlen;
	raw.resp_addr = (uintptr_t)resp;
	raw.resp_len = *resplen;
	if (ioctl(fd, _IOWR(0x0a, 0, raw), &raw) != 0) {
		err_errno(e, EXIT_IO, "nitro: %s: request", path);
		close(fd);
		return -1;
	}
	close(fd);
	if (raw.resp_len > *resplen)
		return err_set(e, EXIT_IO, "nitro: response too large");
	*resplen = raw.resp_len;
	return 0;
}

static cbor_item_t *
optbstr(const unsigned char *p, size_t n)
{
	return p == NULL ? cbor_new_null() : cbor_build_bytestring(p, n);
}

int
nitro_quote_with(nitro_xfer_fn xfer, void *ctx, const unsigned char *ud,
    size_t udlen, const unsigned char *nonce, size_t noncelen,
    const unsigned char *pk, size_t pklen, unsigned char **doc, size_t *n,
    struct err *e)
{
	cbor_item_t *req = NULL, *att = NULL, *resp = NULL, *v, *d;
	unsigned char *buf = NULL, *rb = NULL;
	size_t buflen, len, rlen = NITRO_RESPONSE_MAX;
	const unsigned char *p;
	int r = -1;

	if (udlen > 512 || noncelen > 512 || pklen > 1024)
		return err_set(e, EXIT_DATA, "nitro: request field too long");
	/* {"Attestation": {"user_data": .., "nonce": .., "public_key": ..}} */
	if ((att = cbor_new_definite_map(3)) == NULL ||
	    !cbor_map_add(att, (struct cbor_pair){
	    cbor_move(cbor_build_string("user_data")),
	    cbor_move(optbstr(ud, udlen)) }) ||
	    !cbor_map_add(att, (struct cbor_pair){
	    cbor_move(cbor_build_string("nonce")),
	    cbor_move(optbstr(nonce, noncelen)) }) ||
	    !cbor_map_add(att, (struct cbor_pair){
	    cbor_move(cbor_build_string("public_key")),
	    cbor_move(optbstr(pk, pklen)) }) ||
	    (req = cbor_new_definite_map(1)) == NULL ||
	    !cbor_map_add(req, (struct cbor_pair){
	    cbor_move(cbor_build_string("Attestation")), att }) ||
	    (len = cbor_serialize_alloc(req, &buf, &buflen)) == 0 ||
	    (rb = malloc(rlen)) == NULL) {
		err_set(e, EXIT_IO, "out of memory");
		goto out;
	}
	if (xfer(ctx, buf, len, rb, &rlen, e) != 0)
		goto out;
	if ((resp = load(rb, rlen)) == NULL || !cbor_isa_map(resp)) {
		err_set(e, EXIT_DATA, "nitro: malformed NSM response");
		goto out;
	}
	if ((v = get(resp, "Error")) != NULL) {
		if (cbor_isa_string(v) && cbor_string_is_definite(v))
			err_set(e, EXIT_IO, "nitro: NSM error: %.*s",
			    (int)(cbor_string_length(v) > 64 ? 64 :
			    cbor_string_length(v)), cbor_string_handle(v));
		else
			err_set(e, EXIT_IO, "nitro: NSM error");
		goto out;
	}
	if ((v = get(resp, "Attestation")) == NULL || !cbor_isa_map(v) ||
	    (d = get(v, "document")) == NULL || bstr(d, &p, &len) != 0 ||
	    len == 0) {
		err_set(e, EXIT_DATA, "nitro: NSM response has no document");
		goto out;
	}
	if ((*doc = malloc(len)) == NULL) {
		err_set(e, EXIT_IO, "out of memory");
		goto out;
	}
	memcpy(*doc, p, len);
	*n = len;
	r = 0;
out:
	if (req != NULL)
		cbor_decref(&req);
	if (att != NULL)
		cbor_decref(&att);
	if (resp != NULL)
		cbor_decref(&resp);
	free(buf);
	free(rb);
	return r;
}

int
nitro_quote(const unsigned char report_data[64], unsigned char **doc,
    size_t *n, struct err *e)
{
	return nitro_quote_with(nitro_xfer_dev, NULL, report_data, 64, NULL, 0,
	    NULL, 0, doc, n, e);
}
