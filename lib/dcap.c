#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "dcap.h"
#include "exitcode.h"
#include "hwevidence.h"

/* Sizes of the quote's parts (Intel SGX/TDX DCAP Quoting Library API). */
enum {
	HDR_LEN = 48, SGX_BODY_LEN = 384, TD10_BODY_LEN = 584,
	TD15_BODY_LEN = 648, QE_REPORT_LEN = 384, SIG_LEN = 64, KEY_LEN = 64,
	CERT_PCK_CHAIN = 5, CERT_QE_REPORT = 6,
};

/* Offsets in an SGX report body (the enclave's and the QE's). */
enum {
	R_CPUSVN = 0, R_MISCSELECT = 16, R_ATTRIBUTES = 48, R_MRENCLAVE = 64,
	R_MRSIGNER = 128, R_ISVPRODID = 256, R_ISVSVN = 258,
	R_REPORT_DATA = 320,
};

/* Offsets in a TD report body. */
enum {
	T_TEE_TCB_SVN = 0, T_MRSEAM = 16, T_MRSIGNERSEAM = 64,
	T_SEAM_ATTRIBUTES = 112, T_TD_ATTRIBUTES = 120, T_XFAM = 128,
	T_MRTD = 136, T_MRCONFIGID = 184, T_MROWNER = 232,
	T_MROWNERCONFIG = 280, T_RTMR0 = 328, T_REPORT_DATA = 520,
	T_TEE_TCB_SVN2 = 584, T_MRSERVICETD = 600,
};

struct quote {
	int tee;		/* HWEV_SGX or HWEV_TDX */
	unsigned version;
	const unsigned char *b;	/* the quote */
	size_t signed_len;	/* header and body */
	const unsigned char *body;
	size_t bodylen;
	const unsigned char *sig, *attkey, *qe_report, *qe_sig, *auth;
	size_t authlen;
	const unsigned char *cert;
	size_t certlen;
	unsigned certtype;
};

static unsigned
le16(const unsigned char *p)
{
	return p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Take n bytes at *p (before end) into *out. 0, or -1 if too short. */
static int
take(const unsigned char **p, const unsigned char *end, size_t n,
    const unsigned char **out)
{
	if ((size_t)(end - *p) < n)
		return -1;
	*out = *p;
	*p += n;
	return 0;
}

/* QE report, its signature, QE auth data and the certification data. */
static int
qe_part(struct quote *q, const unsigned char **p, const unsigned char *end)
{
	const unsigned char *t;

	if (take(p, end, QE_REPORT_LEN, &q->qe_report) != 0 ||
	    take(p, end, SIG_LEN, &q->qe_sig) != 0 ||
	    take(p, end, 2, &t) != 0)
		return -1;
	q->authlen = le16(t);
	if (take(p, end, q->authlen, &q->auth) != 0 ||
	    take(p, end, 6, &t) != 0)
		return -1;
	q->certtype = le16(t);
	q->certlen = le32(t + 2);
	return take(p, end, q->certlen, &q->cert);
}

static int
quote_parse(struct quote *q, const unsigned char *b, size_t n, struct err *e)
{
	const unsigned char *p = b + HDR_LEN, *end = b + n, *t, *sigend;
	uint32_t siglen;
	unsigned btype;

	memset(q, 0, sizeof(*q));
	q->b = b;
	if (n < HDR_LEN)
		goto bad;
	q->version = le16(b);
	if (le16(b + 2) != 2)
		return err_set(e, EXIT_DATA, "dcap: attestation key type %u "
		    "is not ECDSA P-256", le16(b + 2));
	if (q->version == 3 && le32(b + 4) == 0) {
		q->tee = HWEV_SGX;
		q->bodylen = SGX_BODY_LEN;
	} else if ((q->version == 4 || q->version == 5) &&
	    le32(b + 4) == 0x81) {
		q->tee = HWEV_TDX;
		q->bodylen = TD10_BODY_LEN;
	} else
		return err_set(e, EXIT_DATA, "dcap: unsupported quote "
		    "version %u, TEE type %#x", q->version,
		    (unsigned)le32(b + 4));
	if (q->version == 5) {
		if (take(&p, end, 6, &t) != 0)
			goto bad;
		btype = le16(t);
		q->bodylen = btype == 2 ? TD10_BODY_LEN : btype == 3 ?
		    TD15_BODY_LEN : 0;
		if (q->bodylen == 0 || le32(t + 2) != q->bodylen)
			return err_set(e, EXIT_DATA, "dcap: unsupported "
			    "quote body type %u", btype);
	}
	if (take(&p, end, q->bodylen, &q->body) != 0)
		goto bad;
	q->signed_len = (size_t)(p - b);
	if (take(&p, end, 4, &t) != 0)
		goto bad;
	siglen = le32(t);
	if (siglen > (size_t)(end - p))
		goto bad;
	sigend = p + siglen;
	if (take(&p, sigend, SIG_LEN, &q->sig) != 0 ||
	    take(&p, sigend, KEY_LEN, &q->attkey) != 0)
		goto bad;
	if (q->version == 3) {
		if (qe_part(q, &p, sigend) != 0)
			goto bad;
	} else {
		/* Certification data type 6 wraps the QE report part. */
		if (take(&p, sigend, 6, &t) != 0)
			goto bad;
		if (le16(t) != CERT_QE_REPORT)
			return err_set(e, EXIT_DATA, "dcap: certification "
			    "data type %u is not a QE report", le16(t));
		if (le32(t + 2) > (size_t)(sigend - p))
			goto bad;
		sigend = p + le32(t + 2);
		if (qe_part(q, &p, sigend) != 0)
			goto bad;
	}
	if (p != sigend)
		goto bad;
	return 0;
bad:
	return err_set(e, EXIT_DATA, "dcap: truncated or malformed quote");
}

static jv
set(jv o, const char *k, jv v)
{
	return jv_object_set(o, jv_string(k), v);
}

static jv
hex(const unsigned char *p, size_t n)
{
	return hwevidence_hex(p, n);
}

static jv
claims_of(const struct quote *q)
{
	const unsigned char *r = q->body;
	jv c = jv_object(), rt;
	int i;

	c = set(c, "tee", jv_string(hwevidence_name(q->tee)));
	if (q->tee == HWEV_SGX) {
		c = set(c, "measurement", hex(r + R_MRENCLAVE, 32));
		c = set(c, "debug", jv_bool(r[R_ATTRIBUTES] & 0x02));
	} else {
		c = set(c, "measurement", hex(r + T_MRTD, 48));
		c = set(c, "debug", jv_bool(r[T_TD_ATTRIBUTES] & 0x01));
	}
	c = set(c, "tcb_status", jv_string("unknown"));
	c = set(c, "advisories", jv_array());
	c = set(c, "report_data", hex(r + (q->tee == HWEV_SGX ?
	    R_REPORT_DATA : T_REPORT_DATA), 64));
	c = set(c, "bound", jv_false());
	c = set(c, "quote_version", jv_number(q->version));
	if (q->tee == HWEV_SGX) {
		c = set(c, "mrenclave", hex(r + R_MRENCLAVE, 32));
		c = set(c, "mrsigner", hex(r + R_MRSIGNER, 32));
		c = set(c, "isvprodid", jv_number(le16(r + R_ISVPRODID)));
		c = set(c, "isvsvn", jv_number(le16(r + R_ISVSVN)));
		c = set(c, "attributes", hex(r + R_ATTRIBUTES, 16));
		c = set(c, "miscselect", hex(r + R_MISCSELECT, 4));
		c = set(c, "cpusvn", hex(r + R_CPUSVN, 16));
		c = set(c, "qe_svn", jv_number(le16(q->b + 8)));
		c = set(c, "pce_svn", jv_number(le16(q->b + 10)));
		return c;
	}
	c = set(c, "mrtd", hex(r + T_MRTD, 48));
	rt = jv_array();
	for (i = 0; i < 4; i++)
		rt = jv_array_append(rt, hex(r + T_RTMR0 + 48 * i, 48));
	c = set(c, "rtmrs", rt);
	c = set(c, "mrconfigid", hex(r + T_MRCONFIGID, 48));
	c = set(c, "mrowner", hex(r + T_MROWNER, 48));
	c = set(c, "mrownerconfig", hex(r + T_MROWNERCONFIG, 48));
	c = set(c, "mrseam", hex(r + T_MRSEAM, 48));
	c = set(c, "mrsignerseam", hex(r + T_MRSIGNERSEAM, 48));
	c = set(c, "seam_attributes", hex(r + T_SEAM_ATTRIBUTES, 8));
	c = set(c, "td_attributes", hex(r + T_TD_ATTRIBUTES, 8));
	c = set(c, "xfam", hex(r + T_XFAM, 8));
	c = set(c, "tee_tcb_svn", hex(r + T_TEE_TCB_SVN, 16));
	if (q->bodylen == TD15_BODY_LEN) {
		c = set(c, "tee_tcb_svn2", hex(r + T_TEE_TCB_SVN2, 16));
		c = set(c, "mrservicetd", hex(r + T_MRSERVICETD, 48));
	}
	return c;
}

int
dcap_parse(const unsigned char *b, size_t n, jv *claims, struct err *e)
{
	struct quote q;

	if (quote_parse(&q, b, n, e) != 0)
		return -1;
	*claims = claims_of(&q);
	return 0;
}

/* Verify a raw r || s P-256 signature of msg by pk (SHA-256). */
static int
ecdsa_raw(EVP_PKEY *pk, const unsigned char *sig, const unsigned char *msg,
    size_t n)
{
	unsigned char *der = NULL;
	ECDSA_SIG *s;
	BIGNUM *r = NULL, *ss = NULL;
	EVP_MD_CTX *md = NULL;
	int len, ok = 0;

	if ((s = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(sig, 32, NULL)) == NULL ||
	    (ss = BN_bin2bn(sig + 32, 32, NULL)) == NULL ||
	    !ECDSA_SIG_set0(s, r, ss)) {
		BN_free(r);
		BN_free(ss);
		goto out;
	}
	if ((len = i2d_ECDSA_SIG(s, &der)) > 0 &&
	    (md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, der, (size_t)len, msg, n) == 1)
		ok = 1;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(s);
	return ok ? 0 : -1;
}

/* The attestation key (raw x || y) as a P-256 public key. */
static EVP_PKEY *
attkey(const unsigned char *xy)
{
	/* SubjectPublicKeyInfo of an uncompressed P-256 point. */
	static const unsigned char spki[] = {
		0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
		0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
	};
	unsigned char der[sizeof(spki) + KEY_LEN];
	const unsigned char *p = der;
	EVP_PKEY *pk;

	memcpy(der, spki, sizeof(spki));
	memcpy(der + sizeof(spki), xy, KEY_LEN);
	pk = d2i_PUBKEY(NULL, &p, sizeof(der));
	ERR_clear_error();
	return pk;
}

static int
unhex(const char *s, unsigned char **out, size_t *n)
{
	size_t i, l = strlen(s);
	unsigned v;

	if (l % 2 != 0 || (*out = malloc(l / 2 + 1)) == NULL)
		return -1;
	for (i = 0; i < l / 2; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1) {
			free(*out);
			return -1;
		}
		(*out)[i] = (unsigned char)v;
	}
	*n = l / 2;
	return 0;
}

/* The PCK certificate's SGX extension: FMSPC, PCE ID and TCB. */
struct pck {
	unsigned char fmspc[6], pceid[2];
	int comp[16];
	int pcesvn;
};

/* OID 1.2.840.113741.1.13.1 (SGX extensions), DER contents. */
static const unsigned char sgx_oid[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01,
};

/* Is DER OID contents o (n bytes) sgx_oid followed by suffix? */
static int
oid_is(const unsigned char *o, size_t n, const unsigned char *suffix,
    size_t sn)
{
	return n == sizeof(sgx_oid) + sn &&
	    memcmp(o, sgx_oid, sizeof(sgx_oid)) == 0 &&
	    memcmp(o + sizeof(sgx_oid), suffix, sn) == 0;
}

static int
der_int(int tag, const unsigned char *v, size_t n)
{
	int r = 0;
	size_t i;

	if (tag != 0x02 || n == 0 || n > 3)
		return -1;
	for (i = 0; i < n; i++)
		r = r << 8 | v[i];
	return r;
}

static int
pck_ext(X509 *x, struct pck *k, struct err *e)
{
	ASN1_OBJECT *o = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
	const ASN1_OCTET_STRING *s;
	const unsigned char *p, *end, *v, *q, *qend, *ov, *vv, *w, *wend;
	size_t len, on, vn, l2;
	int tag, i, got = 0, j;
	unsigned char sfx[2];

	i = o ? X509_get_ext_by_OBJ(x, o, -1) : -1;
	ASN1_OBJECT_free(o);
	if (i < 0)
		return err_set(e, EXIT_NO, "dcap: PCK certificate has no SGX "
		    "extension");
	s = X509_EXTENSION_get_data(X509_get_ext(x, i));
	p = ASN1_STRING_get0_data(s);
	end = p + ASN1_STRING_length(s);
	memset(k, 0, sizeof(*k));
	k->pcesvn = -1;
	for (j = 0; j < 16; j++)
		k->comp[j] = -1;
	if (hwevidence_der(&p, end, &tag, &v, &len) != 0 || tag != 0x30)
		goto bad;
	for (p = v, end = v + len; p < end;) {
		/* Each entry: SEQUENCE { OID, value }. */
		if (hwevidence_der(&p, end, &tag, &q, &len) != 0 ||
		    tag != 0x30)
			goto bad;
		qend = q + len;
		if (hwevidence_der(&q, qend, &tag, &ov, &on) != 0 ||
		    tag != 0x06 || hwevidence_der(&q, qend, &tag, &vv, &vn) !=
		    0)
			goto bad;
		if (oid_is(ov, on, (const unsigned char *)"\x03", 1) &&
		    tag == 0x04 && vn == 2) {
			memcpy(k->pceid, vv, 2);
			got |= 1;
		} else if (oid_is(ov, on, (const unsigned char *)"\x04", 1) &&
		    tag == 0x04 && vn == 6) {
			memcpy(k->fmspc, vv, 6);
			got |= 2;
		} else if (oid_is(ov, on, (const unsigned char *)"\x02", 1) &&
		    tag == 0x30) {
			got |= 4;
			for (w = vv, wend = vv + vn; w < wend;) {
				if (hwevidence_der(&w, wend, &tag, &q, &len) !=
				    0 || tag != 0x30)
					goto bad;
				qend = q + len;
				if (hwevidence_der(&q, qend, &tag, &ov, &on) !=
				    0 || tag != 0x06 ||
				    hwevidence_der(&q, qend, &tag, &vv, &l2) !=
				    0)
					goto bad;
				sfx[0] = 0x02;
				for (j = 1; j <= 17; j++) {
					sfx[1] = (unsigned char)j;
					if (!oid_is(ov, on, sfx, 2))
						continue;
					if (j <= 16)
						k->comp[j - 1] = der_int(tag,
						    vv, l2);
					else
						k->pcesvn = der_int(tag, vv,
						    l2);
				}
			}
		}
	}
	for (j = 0; j < 16; j++)
		if (k->comp[j] < 0)
			goto bad;
	if (got != 7 || k->pcesvn < 0)
		goto bad;
	return 0;
bad:
	return err_set(e, EXIT_NO, "dcap: malformed SGX extension in the "
	    "PCK certificate");
}

/* Collateral, decoded. */
struct coll {
	jv all, tcb, qe;
	STACK_OF(X509_CRL) *crls;
	STACK_OF(X509) *extra;	/* the PCK CRL issuer chain */
};

static void
coll_fini(struct coll *c)
{
	jv_free(c->all);
	jv_free(c->tcb);
	jv_free(c->qe);
	sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
	sk_X509_pop_free(c->extra, X509_free);
}

/* The string field k of o, borrowed from o, or NULL. */
static const char *
str(jv o, const char *k)
{
	jv v;
	const char *s;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return NULL;
	v = jv_object_get(jv_copy(o), jv_string(k));
	s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
	jv_free(v);	/* the string lives on in o */
	return s;
}

static int
add_crl(struct coll *c, const char *k, struct err *e)
{
	const char *h = str(c->all, k);
	unsigned char *d;
	const unsigned char *p;
	size_t n;
	X509_CRL *crl;

	if (h == NULL || unhex(h, &d, &n) != 0)
		return err_set(e, EXIT_DATA, "dcap: collateral: %s missing "
		    "or not hex", k);
	p = d;
	crl = d2i_X509_CRL(NULL, &p, (long)n);
	free(d);
	ERR_clear_error();
	if (crl == NULL)
		return err_set(e, EXIT_DATA, "dcap: collateral: %s is not a "
		    "CRL", k);
	if (!sk_X509_CRL_push(c->crls, crl)) {
		X509_CRL_free(crl);
		return err_set(e, EXIT_IO, "out of memory");
	}
	return 0;
}

/*
 * Check a signed collateral item (name: "tcb_info" or "qe_identity"): its
 * issuer chain to roots with the root CA CRL, its signature over the exact
 * JSON text, its validity at at. *out is the parsed JSON.
 */
static int
signed_item(struct coll *c, const char *name, STACK_OF(X509) *roots,
    time_t at, jv *out, struct err *e)
{
	char k[64];
	const char *text, *chain, *sig, *d1, *d2;
	STACK_OF(X509) *certs = NULL, *inter = NULL;
	unsigned char *sb = NULL;
	size_t sn;
	jv j;
	time_t t1, t2;
	int i, r = -1;

	snprintf(k, sizeof(k), "%s_issuer_chain", name);
	chain = str(c->all, k);
	snprintf(k, sizeof(k), "%s_signature", name);
	sig = str(c->all, k);
	text = str(c->all, name);
	if (chain == NULL || sig == NULL || text == NULL)
		return err_set(e, EXIT_DATA, "dcap: collateral lacks %s",
		    name);
	if (unhex(sig, &sb, &sn) != 0 || sn != SIG_LEN) {
		free(sb);
		return err_set(e, EXIT_DATA, "dcap: collateral: malformed "
		    "%s signature", name);
	}
	if (hwevidence_certs_parse((const unsigned char *)chain,
	    strlen(chain), &certs, e) != 0) {
		err_prefix(e, "dcap: collateral: %s issuer chain", name);
		goto out;
	}
	if ((inter = sk_X509_new_null()) == NULL)
		goto out;
	for (i = 1; i < sk_X509_num(certs); i++)
		if (!sk_X509_push(inter, sk_X509_value(certs, i)))
			goto out;
	snprintf(k, sizeof(k), "dcap: %s signer", name);
	/* Only the root CA CRL covers the TCB signing chain. */
	if (hwevidence_chain(k, sk_X509_value(certs, 0), inter, roots,
	    c->crls, at, e) != 0)
		goto out;
	if (ecdsa_raw(X509_get0_pubkey(sk_X509_value(certs, 0)), sb,
	    (const unsigned char *)text, strlen(text)) != 0) {
		err_set(e, EXIT_NO, "dcap: %s signature does not verify",
		    name);
		goto out;
	}
	j = jv_parse(text);
	if (jv_get_kind(j) != JV_KIND_OBJECT) {
		jv_free(j);
		err_set(e, EXIT_DATA, "dcap: collateral: %s is not a JSON "
		    "object", name);
		goto out;
	}
	d1 = str(j, "issueDate");
	d2 = str(j, "nextUpdate");
	if (d1 == NULL || d2 == NULL || hwevidence_time(d1, &t1) != 0 ||
	    hwevidence_time(d2, &t2) != 0) {
		jv_free(j);
		err_set(e, EXIT_DATA, "dcap: collateral: %s dates malformed",
		    name);
		goto out;
	}
	if ((at ? at : time(NULL)) < t1) {
		err_set(e, EXIT_NO, "dcap: collateral not yet valid: %s "
		    "issued %s", name, d1);
		jv_free(j);
		goto out;
	}
	if ((at ? at : time(NULL)) >= t2) {
		err_set(e, EXIT_NO, "dcap: collateral expired: %s "
		    "nextUpdate %s", name, d2);
		jv_free(j);
		goto out;
	}
	*out = j;
	r = 0;
out:
	if (r != 0 && e != NULL && e->code == 0)
		err_set(e, EXIT_IO, "out of memory");
	free(sb);
	sk_X509_free(inter);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

static int
coll_load(struct coll *c, const char *text, STACK_OF(X509) *roots, time_t at,
    struct err *e)
{
	const char *chain;

	c->all = jv_parse(text);
	c->tcb = jv_invalid();
	c->qe = jv_invalid();
	c->crls = NULL;
	c->extra = NULL;
	if (jv_get_kind(c->all) != JV_KIND_OBJECT)
		return err_set(e, EXIT_DATA, "dcap: collateral is not a JSON "
		    "object");
	if ((c->crls = sk_X509_CRL_new_null()) == NULL)
		return err_set(e, EXIT_IO, "out of memory");
	if (add_crl(c, "root_ca_crl", e) != 0)
		return -1;
	if (signed_item(c, "tcb_info", roots, at, &c->tcb, e) != 0 ||
	    signed_item(c, "qe_identity", roots, at, &c->qe, e) != 0)
		return -1;
	if (add_crl(c, "pck_crl", e) != 0)
		return -1;
	if ((chain = str(c->all, "pck_crl_issuer_chain")) != NULL &&
	    hwevidence_certs_parse((const unsigned char *)chain,
	    strlen(chain), &c->extra, e) != 0)
		return err_prefix(e, "dcap: collateral: pck_crl_issuer_chain");
	return 0;
}

/* Intel's order of badness when statuses combine. */
static const char *
converge(const char *platform, const char *other)
{
	if (strcmp(other, "Revoked") == 0)
		return "Revoked";
	if (strcmp(other, "OutOfDate") == 0) {
		if (strcmp(platform, "UpToDate") == 0 ||
		    strcmp(platform, "SWHardeningNeeded") == 0)
			return "OutOfDate";
		if (strcmp(platform, "ConfigurationNeeded") == 0 ||
		    strcmp(platform, "ConfigurationAndSWHardeningNeeded") == 0)
			return "OutOfDateConfigurationNeeded";
	}
	return platform;
}

static int
num(jv o, const char *k)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));
	int r = jv_get_kind(v) == JV_KIND_NUMBER ? (int)jv_number_value(v) :
	    -1;

	jv_free(v);
	return r;
}

/* The svn of element i of component array k of o, or -1. */
static int
comp(jv o, const char *k, int i)
{
	jv a = jv_object_get(jv_copy(o), jv_string(k));
	int r = -1;

	if (jv_get_kind(a) == JV_KIND_ARRAY &&
	    i < jv_array_length(jv_copy(a))) {
		jv x = jv_array_get(jv_copy(a), i);

		r = num(x, "svn");
		jv_free(x);
	}
	jv_free(a);
	return r;
}

static jv
add_advisories(jv adv, jv level)
{
	jv a = jv_object_get(jv_copy(level), jv_string("advisoryIDs"));
	int i, j, n, have;

	if (jv_get_kind(a) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(a));
		for (i = 0; i < n; i++) {
			jv id = jv_array_get(jv_copy(a), i);

			have = 0;
			for (j = 0; j < jv_array_length(jv_copy(adv)); j++)
				have |= jv_equal(jv_array_get(jv_copy(adv), j),
				    jv_copy(id));
			adv = have ? (jv_free(id), adv) :
			    jv_array_append(adv, id);
		}
	}
	jv_free(a);
	return adv;
}

static int
hexeq(const char *h, const unsigned char *b, size_t n)
{
	unsigned char *d;
	size_t dn;
	int r;

	if (h == NULL || unhex(h, &d, &dn) != 0)
		return 0;
	r = dn == n && memcmp(d, b, n) == 0;
	free(d);
	return r;
}

/* Does masked value b (n bytes) equal h under mask m (both hex)? */
static int
masked_eq(const char *h, const char *m, const unsigned char *b, size_t n)
{
	unsigned char *hd = NULL, *md = NULL;
	size_t hn, mn, i;
	int r = 0;

	if (h == NULL || m == NULL || unhex(h, &hd, &hn) != 0)
		return 0;
	if (unhex(m, &md, &mn) == 0 && hn == n && mn == n) {
		r = 1;
		for (i = 0; i < n; i++)
			r &= (b[i] & md[i]) == hd[i];
	}
	free(hd);
	free(md);
	return r;
}

/* QE Identity: the QE that signed is Intel's, and its TCB level. */
static int
qe_check(const struct quote *q, jv qe, const char **status, jv *adv,
    struct err *e)
{
	const unsigned char *r = q->qe_report;
	const char *id = str(qe, "id");
	jv levels, lv, t;
	int i, n, svn = le16(r + R_ISVSVN);

	if (id == NULL || strcmp(id, q->tee == HWEV_SGX ? "QE" : "TD_QE") != 0)
		return err_set(e, EXIT_NO, "dcap: QE identity is for %s, not "
		    "this quote", id ? id : "nothing");
	if (!hexeq(str(qe, "mrsigner"), r + R_MRSIGNER, 32) ||
	    num(qe, "isvprodid") != (int)le16(r + R_ISVPRODID) ||
	    !masked_eq(str(qe, "miscselect"), str(qe, "miscselectMask"),
	    r + R_MISCSELECT, 4) ||
	    !masked_eq(str(qe, "attributes"), str(qe, "attributesMask"),
	    r + R_ATTRIBUTES, 16))
		return err_set(e, EXIT_NO, "dcap: the quoting enclave does not "
		    "match its QE identity");
	levels = jv_object_get(jv_copy(qe), jv_string("tcbLevels"));
	n = jv_get_kind(levels) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(levels)) : 0;
	for (i = 0; i < n; i++) {
		lv = jv_array_get(jv_copy(levels), i);
		t = jv_object_get(jv_copy(lv), jv_string("tcb"));
		if (num(t, "isvsvn") >= 0 && num(t, "isvsvn") <= svn) {
			jv_free(t);
			*status = str(lv, "tcbStatus");
			if (*status == NULL)
				*status = "unknown";
			*status = strcmp(*status, "UpToDate") == 0 ? "UpToDate" :
			    strcmp(*status, "OutOfDate") == 0 ? "OutOfDate" :
			    strcmp(*status, "Revoked") == 0 ? "Revoked" :
			    "unknown";
			*adv = add_advisories(*adv, lv);
			jv_free(lv);
			jv_free(levels);
			return 0;
		}
		jv_free(t);
		jv_free(lv);
	}
	jv_free(levels);
	*status = "Revoked";
	return 0;
}

/* Statuses Intel publishes, as static strings. */
static const char *
status_name(const char *s)
{
	static const char *const known[] = {
		"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
		"ConfigurationAndSWHardeningNeeded", "OutOfDate",
		"OutOfDateConfigurationNeeded", "Revoked",
	};
	size_t i;

	for (i = 0; s != NULL && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(s, known[i]) == 0)
			return known[i];
	return NULL;
}

/* TDX module identity (TCB Info v3): the SEAM module's TCB level. */
static int
module_check(const struct quote *q, jv tcb, const char **status, jv *adv,
    struct err *e)
{
	const unsigned char *r = q->body;
	jv ids, m = jv_invalid(), levels, lv, t;
	char want[16];
	const char *id;
	int i, n;

	if (r[T_TEE_TCB_SVN + 1] == 0)
		return 0;
	snprintf(want, sizeof(want), "TDX_%02X", r[T_TEE_TCB_SVN + 1]);
	ids = jv_object_get(jv_copy(tcb), jv_string("tdxModuleIdentities"));
	n = jv_get_kind(ids) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ids)) :
	    0;
	for (i = 0; i < n; i++) {
		jv x = jv_array_get(jv_copy(ids), i);

		id = str(x, "id");
		if (id != NULL && strcasecmp(id, want) == 0) {
			m = x;
			break;
		}
		jv_free(x);
	}
	jv_free(ids);
	if (!jv_is_valid(m))
		return err_set(e, EXIT_NO, "dcap: no TDX module identity %s",
		    want);
	if (!hexeq(str(m, "mrsigner"), r + T_MRSIGNERSEAM, 48) ||
	    !masked_eq(str(m, "attributes"), str(m, "attributesMask"),
	    r + T_SEAM_ATTRIBUTES, 8)) {
		jv_free(m);
		return err_set(e, EXIT_NO, "dcap: TDX module does not match "
		    "its identity");
	}
	levels = jv_object_get(jv_copy(m), jv_string("tcbLevels"));
	jv_free(m);
	n = jv_get_kind(levels) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(levels)) : 0;
	for (i = 0; i < n; i++) {
		lv = jv_array_get(jv_copy(levels), i);
		t = jv_object_get(jv_copy(lv), jv_string("tcb"));
		if (num(t, "isvsvn") >= 0 &&
		    num(t, "isvsvn") <= r[T_TEE_TCB_SVN]) {
			*status = status_name(str(lv, "tcbStatus"));
			*adv = add_advisories(*adv, lv);
			jv_free(t);
			jv_free(lv);
			jv_free(levels);
			if (*status == NULL)
				return err_set(e, EXIT_DATA, "dcap: unknown "
				    "TDX module TCB status");
			return 0;
		}
		jv_free(t);
		jv_free(lv);
	}
	jv_free(levels);
	return err_set(e, EXIT_NO, "dcap: TDX module TCB level not "
	    "supported");
}

/* Match the platform TCB to a level of the TCB Info. */
static int
tcb_check(const struct quote *q, const struct pck *k, jv tcb,
    const char **status, jv *adv, struct err *e)
{
	const char *id = str(tcb, "id"), *fmspc = str(tcb, "fmspc");
	const char *want = q->tee == HWEV_SGX ? "SGX" : "TDX";
	jv levels, lv, t;
	int i, j, n, start, ok;

	if ((id == NULL && q->tee != HWEV_SGX) ||
	    (id != NULL && strcmp(id, want) != 0))
		return err_set(e, EXIT_NO, "dcap: TCB info is for %s, not %s",
		    id ? id : "SGX", want);
	if (!hexeq(fmspc, k->fmspc, 6) || !hexeq(str(tcb, "pceId"), k->pceid,
	    2))
		return err_set(e, EXIT_NO, "dcap: TCB info is for another "
		    "platform (FMSPC or PCE ID differs)");
	/* A TDX module of major version > 0 is judged by its identity. */
	start = q->tee == HWEV_TDX && q->body[T_TEE_TCB_SVN + 1] > 0 &&
	    num(tcb, "version") >= 3 ? 2 : 0;
	levels = jv_object_get(jv_copy(tcb), jv_string("tcbLevels"));
	n = jv_get_kind(levels) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(levels)) : 0;
	for (i = 0; i < n; i++) {
		lv = jv_array_get(jv_copy(levels), i);
		t = jv_object_get(jv_copy(lv), jv_string("tcb"));
		ok = num(t, "pcesvn") >= 0 && num(t, "pcesvn") <= k->pcesvn;
		for (j = 0; ok && j < 16; j++) {
			int s = comp(t, "sgxtcbcomponents", j);

			ok = s >= 0 && s <= k->comp[j];
		}
		for (j = start; ok && q->tee == HWEV_TDX && j < 16; j++) {
			int s = comp(t, "tdxtcbcomponents", j);

			ok = s >= 0 && s <= q->body[T_TEE_TCB_SVN + j];
		}
		jv_free(t);
		if (ok) {
			*status = status_name(str(lv, "tcbStatus"));
			*adv = add_advisories(*adv, lv);
			jv_free(lv);
			jv_free(levels);
			if (*status == NULL)
				return err_set(e, EXIT_DATA, "dcap: unknown "
				    "TCB status in TCB info");
			return 0;
		}
		jv_free(lv);
	}
	jv_free(levels);
	return err_set(e, EXIT_NO, "dcap: platform TCB level not supported "
	    "by the TCB info");
}

static int
chain_certs(const struct quote *q, STACK_OF(X509) **certs, struct err *e)
{
	if (q->certtype != CERT_PCK_CHAIN)
		return err_set(e, EXIT_NO, "dcap: certification data type %u "
		    "is not a PCK certificate chain", q->certtype);
	if (hwevidence_certs_parse(q->cert, q->certlen, certs, e) != 0)
		return err_prefix(e, "dcap: PCK certificate chain");
	return 0;
}

int
dcap_verify(const unsigned char *b, size_t n, STACK_OF(X509) *roots,
    const char *collateral, time_t at, jv *claims, struct err *e)
{
	struct quote q;
	struct coll c = { jv_invalid(), jv_invalid(), jv_invalid(), NULL,
	    NULL };
	struct pck k;
	STACK_OF(X509) *certs = NULL, *inter = NULL;
	EVP_PKEY *ak = NULL;
	unsigned char h[32];
	unsigned int hl;
	EVP_MD_CTX *md = NULL;
	const char *st = "unknown", *qst = "unknown", *mst;
	jv adv = jv_array(), cl;
	int i, r = -1;

	if (quote_parse(&q, b, n, e) != 0 || chain_certs(&q, &certs, e) != 0)
		goto out;
	if (collateral != NULL && coll_load(&c, collateral, roots, at, e) != 0)
		goto out;
	if ((inter = sk_X509_new_null()) == NULL)
		goto oom;
	for (i = 1; i < sk_X509_num(certs); i++)
		if (!sk_X509_push(inter, sk_X509_value(certs, i)))
			goto oom;
	for (i = 0; c.extra != NULL && i < sk_X509_num(c.extra); i++)
		if (!sk_X509_push(inter, sk_X509_value(c.extra, i)))
			goto oom;
	if (hwevidence_chain("dcap: PCK", sk_X509_value(certs, 0), inter,
	    roots, c.crls, at, e) != 0)
		goto out;
	if (ecdsa_raw(X509_get0_pubkey(sk_X509_value(certs, 0)), q.qe_sig,
	    q.qe_report, QE_REPORT_LEN) != 0) {
		err_set(e, EXIT_NO, "dcap: QE report signature does not "
		    "verify");
		goto out;
	}
	/* QE report_data = SHA-256(attestation key || QE auth data) || 0*32 */
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, q.attkey, KEY_LEN) != 1 ||
	    EVP_DigestUpdate(md, q.auth, q.authlen) != 1 ||
	    EVP_DigestFinal_ex(md, h, &hl) != 1)
		goto oom;
	for (i = 32; i < 64 && q.qe_report[R_REPORT_DATA + i] == 0; i++)
		;
	if (memcmp(h, q.qe_report + R_REPORT_DATA, 32) != 0 || i != 64) {
		err_set(e, EXIT_NO, "dcap: QE report does not bind the "
		    "attestation key");
		goto out;
	}
	if ((ak = attkey(q.attkey)) == NULL) {
		err_set(e, EXIT_NO, "dcap: attestation key is not a P-256 "
		    "point");
		goto out;
	}
	if (ecdsa_raw(ak, q.sig, b, q.signed_len) != 0) {
		err_set(e, EXIT_NO, "dcap: quote signature does not verify");
		goto out;
	}
	if (collateral != NULL) {
		if (pck_ext(sk_X509_value(certs, 0), &k, e) != 0 ||
		    tcb_check(&q, &k, c.tcb, &st, &adv, e) != 0)
			goto out;
		if (q.tee == HWEV_TDX) {
			mst = NULL;
			if (module_check(&q, c.tcb, &mst, &adv, e) != 0)
				goto out;
			if (mst != NULL)
				st = converge(st, mst);
		}
		if (qe_check(&q, c.qe, &qst, &adv, e) != 0)
			goto out;
		st = converge(st, qst);
	}
	cl = claims_of(&q);
	cl = set(cl, "tcb_status", jv_string(st));
	cl = set(cl, "advisories", adv);
	adv = jv_invalid();
	if (collateral != NULL) {
		cl = set(cl, "fmspc", hex(k.fmspc, 6));
		cl = set(cl, "pcesvn", jv_number(k.pcesvn));
	}
	*claims = cl;
	r = 0;
	goto out;
oom:
	err_set(e, EXIT_IO, "out of memory");
out:
	jv_free(adv);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(ak);
	coll_fini(&c);
	sk_X509_free(inter);
	sk_X509_pop_free(certs, X509_free);
	return r;
}
