/*
 * The NSM request through a fake transport, Nitro document parsing, and
 * the SEV-SNP certificate table.
 */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "exitcode.h"
#include "hwevidence.h"
#include "io.h"
#include "nitro.h"
#include "snp.h"
#include "tap.h"

struct fake {
	const unsigned char *doc;	/* the document to answer, or NULL */
	size_t n;
	const char *error;		/* an NSM error code to answer */
	int garbage;			/* answer bytes that are not CBOR */
	int seen_ud, seen_nonce_null;	/* what the request carried */
};

static cbor_item_t *
get(cbor_item_t *m, const char *k)
{
	struct cbor_pair *p = cbor_map_handle(m);
	size_t i;

	for (i = 0; i < cbor_map_size(m); i++)
		if (cbor_isa_string(p[i].key) &&
		    cbor_string_length(p[i].key) == strlen(k) &&
		    memcmp(cbor_string_handle(p[i].key), k, strlen(k)) == 0)
			return p[i].value;
	return NULL;
}

static int
fake_xfer(void *ctx, const unsigned char *req, size_t reqlen,
    unsigned char *resp, size_t *resplen, struct err *e)
{
	struct fake *f = ctx;
	struct cbor_load_result res;
	cbor_item_t *r = cbor_load(req, reqlen, &res), *a, *v, *out, *in;
	unsigned char *buf;
	size_t len, blen;

	if (r == NULL || !cbor_isa_map(r) ||
	    (a = get(r, "Attestation")) == NULL || !cbor_isa_map(a))
		return err_set(e, EXIT_IO, "fake: bad request");
	v = get(a, "user_data");
	f->seen_ud = v != NULL && cbor_isa_bytestring(v) ?
	    (int)cbor_bytestring_length(v) : -1;
	v = get(a, "nonce");
	f->seen_nonce_null = v != NULL && cbor_is_null(v);
	cbor_decref(&r);
	if (f->garbage) {
		memcpy(resp, "\xff\xff", 2);
		*resplen = 2;
		return 0;
	}
	out = cbor_new_definite_map(1);
	if (f->error != NULL) {
		cbor_map_add(out, (struct cbor_pair){
		    cbor_move(cbor_build_string("Error")),
		    cbor_move(cbor_build_string(f->error)) });
	} else {
		in = cbor_new_definite_map(1);
		cbor_map_add(in, (struct cbor_pair){
		    cbor_move(cbor_build_string("document")),
		    cbor_move(cbor_build_bytestring(f->doc, f->n)) });
		cbor_map_add(out, (struct cbor_pair){
		    cbor_move(cbor_build_string("Attestation")),
		    cbor_move(in) });
	}
	len = cbor_serialize_alloc(out, &buf, &blen);
	cbor_decref(&out);
	if (len > *resplen) {
		free(buf);
		return err_set(e, EXIT_IO, "fake: response too large");
	}
	memcpy(resp, buf, len);
	*resplen = len;
	free(buf);
	return 0;
}

static int
slurp(const char *rel, unsigned char **b, size_t *n)
{
	char p[4096];
	struct err e;

	snprintf(p, sizeof(p), "%s/vectors/%s", shared_dir(), rel);
	return io_slurp(p, HWEV_MAX, b, n, &e);
}

static void
put32(unsigned char *p, size_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8 & 0xff;
	p[2] = v >> 16 & 0xff;
	p[3] = v >> 24 & 0xff;
}

int
main(void)
{
	struct fake f;
	struct err e = { 0, "" };
	unsigned char rd[64], *doc, *out, *vcek, *table;
	size_t n, on, vn, tn;
	STACK_OF(X509) *certs;
	jv c, m;

	if (slurp("nitro/evervault_valid-attestation-doc-bytes", &doc, &n) !=
	    0 || slurp("sev-snp/vcek.testcer", &vcek, &vn) != 0) {
		ok(0, "samples readable under %s", shared_dir());
		return tap_done();
	}
	memset(rd, 0x42, sizeof(rd));
	memset(&f, 0, sizeof(f));
	f.doc = doc;
	f.n = n;
	ok(nitro_quote_with(fake_xfer, &f, rd, 64, NULL, 0, NULL, 0, &out,
	    &on, &e) == 0 && on == n && memcmp(out, doc, n) == 0,
	    "NSM attestation answer returns the document");
	ok(f.seen_ud == 64 && f.seen_nonce_null,
	    "request carries user_data, null nonce");
	ok(nitro_parse(out, on, &c, &e) == 0, "the document parses");
	m = jv_object_get(c, jv_string("tee"));
	ok(jv_get_kind(m) == JV_KIND_STRING &&
	    strcmp(jv_string_value(m), "nitro") == 0, "as nitro");
	jv_free(m);
	free(out);
	f.error = "InvalidArgument";
	ok(nitro_quote_with(fake_xfer, &f, rd, 64, NULL, 0, NULL, 0, &out,
	    &on, &e) == -1 && strcmp(e.msg, "nitro: NSM error: "
	    "InvalidArgument") == 0, "NSM error reported: %s", e.msg);
	f.error = NULL;
	f.garbage = 1;
	ok(nitro_quote_with(fake_xfer, &f, rd, 64, NULL, 0, NULL, 0, &out,
	    &on, &e) == -1 && e.code == EXIT_DATA, "garbage answer refused");
	ok(nitro_quote_with(fake_xfer, &f, rd, 600, NULL, 0, NULL, 0, &out,
	    &on, &e) == -1 && e.code == EXIT_DATA, "oversized user_data refused");
	ok(nitro_parse(doc, n - 1, &c, &e) == -1 && e.code == EXIT_DATA,
	    "truncated document refused");

	/* An SNP certificate table: one entry, then the terminator. */
	tn = 48 + vn;
	table = calloc(1, tn);
	memset(table, 0x63, 16);	/* a GUID */
	put32(table + 16, 48);
	put32(table + 20, vn);
	memcpy(table + 48, vcek, vn);
	ok(snp_certs_parse(table, tn, &certs, &e) == 0 &&
	    sk_X509_num(certs) == 1, "certificate table parsed");
	sk_X509_pop_free(certs, X509_free);
	put32(table + 20, vn + 1);
	ok(snp_certs_parse(table, tn, &certs, &e) == -1 && e.code == EXIT_DATA,
	    "entry past the end refused");
	ok(snp_certs_parse(vcek, vn, &certs, &e) == 0 &&
	    sk_X509_num(certs) == 1, "plain DER certificate parsed");
	sk_X509_pop_free(certs, X509_free);
	free(table);
	free(vcek);
	free(doc);
	return tap_done();
}
