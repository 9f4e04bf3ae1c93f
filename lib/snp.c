#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "exitcode.h"
#include "hwevidence.h"
#include "snp.h"

/* Offsets in the report (AMD SEV-SNP ABI, ATTESTATION_REPORT). */
enum {
	O_VERSION = 0x00, O_GUEST_SVN = 0x04, O_POLICY = 0x08,
	O_FAMILY = 0x10, O_IMAGE = 0x20, O_VMPL = 0x30, O_SIGALGO = 0x34,
	O_CURRENT_TCB = 0x38, O_PLATFORM_INFO = 0x40, O_KEYINFO = 0x48,
	O_REPORT_DATA = 0x50, O_MEASUREMENT = 0x90, O_HOST_DATA = 0xc0,
	O_ID_KEY = 0xe0, O_AUTHOR_KEY = 0x110, O_REPORT_ID = 0x140,
	O_REPORT_ID_MA = 0x160, O_REPORTED_TCB = 0x180, O_CHIP_ID = 0x1a0,
	O_COMMITTED_TCB = 0x1e0, O_CURRENT_VER = 0x1e8,
	O_COMMITTED_VER = 0x1ec, O_LAUNCH_TCB = 0x1f0, O_SIG = 0x2a0,
};

/* Guest policy bits. */
enum {
	POL_SMT = 16, POL_RESERVED1 = 17, POL_MIGRATE_MA = 18, POL_DEBUG = 19,
	POL_SINGLE_SOCKET = 20,
};

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)le64((const unsigned char[8]){ p[0], p[1], p[2],
	    p[3], 0, 0, 0, 0 });
}

static jv
hex(const unsigned char *r, size_t off, size_t n)
{
	return hwevidence_hex(r + off, n);
}

static jv
tcb(const unsigned char *p)
{
	jv o = jv_object();

	/* Milan and Genoa layout: bootloader, tee, 4 reserved, snp, microcode. */
	o = jv_object_set(o, jv_string("bootloader"), jv_number(p[0]));
	o = jv_object_set(o, jv_string("tee"), jv_number(p[1]));
	o = jv_object_set(o, jv_string("snp"), jv_number(p[6]));
	o = jv_object_set(o, jv_string("microcode"), jv_number(p[7]));
	return jv_object_set(o, jv_string("raw"), hwevidence_hex(p, 8));
}

static jv
set(jv o, const char *k, jv v)
{
	return jv_object_set(o, jv_string(k), v);
}

int
snp_parse(const unsigned char *r, size_t n, jv *claims, struct err *e)
{
	uint64_t pol;
	uint32_t ver;
	jv c, p;
	char v[32];

	if (n != SNP_REPORT_LEN)
		return err_set(e, EXIT_DATA, "sev-snp: report is %zu bytes, "
		    "not %d", n, SNP_REPORT_LEN);
	ver = le32(r + O_VERSION);
	if (ver < 2 || ver > 5)
		return err_set(e, EXIT_DATA, "sev-snp: unsupported report "
		    "version %u", (unsigned)ver);
	if (le32(r + O_SIGALGO) != 1)
		return err_set(e, EXIT_DATA, "sev-snp: unsupported signature "
		    "algorithm %u", (unsigned)le32(r + O_SIGALGO));
	pol = le64(r + O_POLICY);
	p = jv_object();
	p = set(p, "abi_major", jv_number((double)(pol >> 8 & 0xff)));
	p = set(p, "abi_minor", jv_number((double)(pol & 0xff)));
	p = set(p, "smt", jv_bool(pol >> POL_SMT & 1));
	p = set(p, "migrate_ma", jv_bool(pol >> POL_MIGRATE_MA & 1));
	p = set(p, "debug", jv_bool(pol >> POL_DEBUG & 1));
	p = set(p, "single_socket", jv_bool(pol >> POL_SINGLE_SOCKET & 1));
	p = set(p, "raw", hex(r, O_POLICY, 8));
	c = jv_object();
	c = set(c, "tee", jv_string("sev-snp"));
	c = set(c, "measurement", hex(r, O_MEASUREMENT, 48));
	c = set(c, "debug", jv_bool(pol >> POL_DEBUG & 1));
	c = set(c, "tcb_status", jv_string("unknown"));
	c = set(c, "advisories", jv_array());
	c = set(c, "report_data", hex(r, O_REPORT_DATA, 64));
	c = set(c, "bound", jv_false());
	c = set(c, "version", jv_number(ver));
	c = set(c, "guest_svn", jv_number(le32(r + O_GUEST_SVN)));
	c = set(c, "policy", p);
	c = set(c, "family_id", hex(r, O_FAMILY, 16));
	c = set(c, "image_id", hex(r, O_IMAGE, 16));
	c = set(c, "vmpl", jv_number(le32(r + O_VMPL)));
	c = set(c, "current_tcb", tcb(r + O_CURRENT_TCB));
	c = set(c, "reported_tcb", tcb(r + O_REPORTED_TCB));
	c = set(c, "committed_tcb", tcb(r + O_COMMITTED_TCB));
	c = set(c, "launch_tcb", tcb(r + O_LAUNCH_TCB));
	c = set(c, "platform_info", hex(r, O_PLATFORM_INFO, 8));
	c = set(c, "signing_key", jv_string((le32(r + O_KEYINFO) >> 2 & 7) ==
	    0 ? "vcek" : (le32(r + O_KEYINFO) >> 2 & 7) == 1 ? "vlek" :
	    "none"));
	c = set(c, "host_data", hex(r, O_HOST_DATA, 32));
	c = set(c, "id_key_digest", hex(r, O_ID_KEY, 48));
	c = set(c, "author_key_digest", hex(r, O_AUTHOR_KEY, 48));
	c = set(c, "report_id", hex(r, O_REPORT_ID, 32));
	c = set(c, "report_id_ma", hex(r, O_REPORT_ID_MA, 32));
	c = set(c, "chip_id", hex(r, O_CHIP_ID, 64));
	snprintf(v, sizeof(v), "%u.%u.%u", r[O_CURRENT_VER + 2],
	    r[O_CURRENT_VER + 1], r[O_CURRENT_VER]);
	c = set(c, "firmware", jv_string(v));
	*claims = c;
	return 0;
}

/* The contents of extension oid of x, or NULL. */
static const ASN1_OCTET_STRING *
ext(X509 *x, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int i = o ? X509_get_ext_by_OBJ(x, o, -1) : -1;

	ASN1_OBJECT_free(o);
	if (i < 0)
		return NULL;
	return X509_EXTENSION_get_data(X509_get_ext(x, i));
}

/* The small INTEGER in extension oid of x, or -1. */
static long
ext_int(X509 *x, const char *oid)
{
	const ASN1_OCTET_STRING *s = ext(x, oid);
	const unsigned char *p, *v;
	size_t len, i;
	long r = 0;
	int tag;

	if (s == NULL)
		return -1;
	p = ASN1_STRING_get0_data(s);
	if (hwevidence_der(&p, p + ASN1_STRING_length(s), &tag, &v, &len) !=
	    0 || tag != 0x02 || len == 0 || len > 3)
		return -1;
	for (i = 0; i < len; i++)
		r = r << 8 | v[i];
	return r;
}

/* The VCEK was issued for this report's TCB and chip. */
static int
vcek_match(X509 *vcek, const unsigned char *r, struct err *e)
{
	static const struct {
		const char *oid;
		int off;
		const char *name;
	} t[] = {
		{ "1.3.6.1.4.1.3704.1.3.1", 0, "bootloader" },
		{ "1.3.6.1.4.1.3704.1.3.2", 1, "tee" },
		{ "1.3.6.1.4.1.3704.1.3.3", 6, "snp" },
		{ "1.3.6.1.4.1.3704.1.3.8", 7, "microcode" },
	};
	const ASN1_OCTET_STRING *hw;
	const unsigned char *p, *v;
	size_t i, len;
	int tag;
	long x;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		x = ext_int(vcek, t[i].oid);
		if (x != r[O_REPORTED_TCB + t[i].off])
			return err_set(e, EXIT_NO, "sev-snp: VCEK %s SVN %ld "
			    "does not match the reported TCB (%d)", t[i].name,
			    x, r[O_REPORTED_TCB + t[i].off]);
	}
	if ((hw = ext(vcek, "1.3.6.1.4.1.3704.1.4")) == NULL)
		return err_set(e, EXIT_NO, "sev-snp: VCEK has no hwID");
	p = ASN1_STRING_get0_data(hw);
	len = (size_t)ASN1_STRING_length(hw);
	v = p;
	if (len != 64 && (hwevidence_der(&p, p + len, &tag, &v, &len) != 0 ||
	    tag != 0x04))
		return err_set(e, EXIT_NO, "sev-snp: malformed VCEK hwID");
	/* A guest may hide its chip ID (MASK_CHIP_ID): then it is zero. */
	for (i = 0; i < 64 && r[O_CHIP_ID + i] == 0; i++)
		;
	if (i < 64 && (len != 64 || memcmp(v, r + O_CHIP_ID, 64) != 0))
		return err_set(e, EXIT_NO, "sev-snp: VCEK is for another "
		    "chip");
	return 0;
}

static int
sig_check(X509 *vcek, const unsigned char *r, struct err *e)
{
	unsigned char rb[72], sb[72], *der = NULL;
	ECDSA_SIG *sig = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pk;
	int i, len, ret = -1;

	/* r and s are little-endian, zero-extended to 72 bytes. */
	for (i = 0; i < 72; i++) {
		rb[i] = r[O_SIG + 71 - i];
		sb[i] = r[O_SIG + 72 + 71 - i];
	}
	if ((pk = X509_get0_pubkey(vcek)) == NULL ||
	    EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
		return err_set(e, EXIT_NO, "sev-snp: VCEK has no EC key");
	if ((sig = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(rb, 72, NULL)) == NULL ||
	    (bs = BN_bin2bn(sb, 72, NULL)) == NULL ||
	    !ECDSA_SIG_set0(sig, br, bs)) {
		BN_free(br);
		BN_free(bs);
		err_set(e, EXIT_IO, "out of memory");
		goto out;
	}
	if ((len = i2d_ECDSA_SIG(sig, &der)) <= 0 ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pk) != 1) {
		err_set(e, EXIT_IO, "sev-snp: cannot set up verification");
		goto out;
	}
	if (EVP_DigestVerify(md, der, (size_t)len, r, O_SIG) != 1) {
		err_set(e, EXIT_NO, "sev-snp: report signature does not "
		    "verify");
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	return ret;
}

int
snp_verify(const unsigned char *r, size_t n, STACK_OF(X509) *certs,
    STACK_OF(X509) *roots, time_t at, jv *claims, struct err *e)
{
	STACK_OF(X509) *inter = NULL;
	X509 *vcek = NULL, *x;
	EVP_PKEY *pk;
	jv c;
	int i;

	if (snp_parse(r, n, &c, e) != 0)
		return -1;
	if ((le32(r + O_KEYINFO) >> 2 & 7) != 0) {
		jv_free(c);
		return err_set(e, EXIT_NO, "sev-snp: report not signed by a "
		    "VCEK (VLEK reports are not supported)");
	}
	if ((inter = sk_X509_new_null()) == NULL) {
		jv_free(c);
		return err_set(e, EXIT_IO, "out of memory");
	}
	for (i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		pk = X509_get0_pubkey(x);
		if (vcek == NULL && pk != NULL &&
		    EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC)
			vcek = x;
		else if (!sk_X509_push(inter, x))
			goto fail;
	}
	if (vcek == NULL) {
		err_set(e, EXIT_NO, "sev-snp: no VCEK certificate given");
		goto fail;
	}
	if (hwevidence_chain("sev-snp: VCEK", vcek, inter, roots, NULL, at,
	    e) != 0 || vcek_match(vcek, r, e) != 0 || sig_check(vcek, r, e) !=
	    0)
		goto fail;
	sk_X509_free(inter);
	*claims = c;
	return 0;
fail:
	sk_X509_free(inter);
	jv_free(c);
	return -1;
}

int
snp_certs_parse(const unsigned char *b, size_t n, STACK_OF(X509) **out,
    struct err *e)
{
	static const unsigned char zero[24];
	STACK_OF(X509) *s;
	const unsigned char *p;
	size_t i, off, len;
	X509 *x;

	/* A certificate table starts with a GUID, not a DER SEQUENCE or PEM. */
	if (n < 24 || b[0] == 0x30 || b[0] == '-')
		return hwevidence_certs_parse(b, n, out, e);
	if ((s = sk_X509_new_null()) == NULL)
		return err_set(e, EXIT_IO, "out of memory");
	for (i = 0; i + 24 <= n && memcmp(b + i, zero, 24) != 0; i += 24) {
		off = le32(b + i + 16);
		len = le32(b + i + 20);
		if (off > n || len > n - off)
			goto bad;
		p = b + off;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
			goto bad;
		if (!sk_X509_push(s, x)) {
			X509_free(x);
			goto bad;
		}
	}
	if (sk_X509_num(s) == 0)
		goto bad;
	*out = s;
	return 0;
bad:
	ERR_clear_error();
	sk_X509_pop_free(s, X509_free);
	return err_set(e, EXIT_DATA, "sev-snp: malformed certificate table");
}
