/* Format detection, times, the report_data binding and EAR tiers. */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "exitcode.h"
#include "hwevidence.h"
#include "io.h"
#include "tap.h"

/* The binding vector of docs/backends.md. */
#define R "age1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5z5tpwxqergd3c8g7rusqmwn7f2"
#define K "ed25519:QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8"
#define M "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define B0 "99494ab7d684f2a91dca9d39b588737eeee0d8e37024781abe64c3ad14e2c36b"
#define B1 "9d0091d28934a5da11388a36cf832d00eeca3a1abc9e3dd8d8298dcd184ec5d3"

static int
detect_file(const char *rel)
{
	char p[4096];
	unsigned char *b;
	size_t n;
	struct err e;
	int f;

	snprintf(p, sizeof(p), "%s/vectors/%s", shared_dir(), rel);
	if (io_slurp(p, HWEV_MAX, &b, &n, &e) != 0)
		return -1;
	f = hwevidence_detect(b, n);
	free(b);
	return f;
}

static int
hexis(jv s, const char *want)
{
	int r = jv_get_kind(s) == JV_KIND_STRING &&
	    strcmp(jv_string_value(s), want) == 0;

	jv_free(s);
	return r;
}

static int
bound_is(jv c, jv_kind k)
{
	jv b = jv_object_get(jv_copy(c), jv_string("bound"));
	int r = jv_get_kind(b) == k;

	jv_free(b);
	return r;
}

static const char *
ear_status(const char *tee, const char *tcb, int debug)
{
	static char buf[64];
	jv c = jv_object(), r, s;

	c = jv_object_set(c, jv_string("tee"), jv_string(tee));
	c = jv_object_set(c, jv_string("tcb_status"), jv_string(tcb));
	c = jv_object_set(c, jv_string("debug"), jv_bool(debug));
	r = hwevidence_ear(c, 1750809600);
	s = jv_getpath(r, JV_ARRAY(jv_string("submods"), jv_string(tee),
	    jv_string("ear.status")));
	snprintf(buf, sizeof(buf), "%s", jv_get_kind(s) == JV_KIND_STRING ?
	    jv_string_value(s) : "?");
	jv_free(s);
	return buf;
}

int
main(void)
{
	unsigned char nonce[32], data[32], out[32], q[600], *raw;
	char b64[1000], rd[129];
	const unsigned char *p, *v;
	size_t n, len;
	struct err e;
	time_t t;
	jv c;
	int i, tag;

	ok(detect_file("sgx-dcap/sgx_quote") == HWEV_SGX, "sgx quote detected");
	ok(detect_file("tdx/phala_tdx_quote") == HWEV_TDX, "tdx quote detected");
	ok(detect_file("sev-snp/attestation.bin") == HWEV_SNP,
	    "snp report detected");
	ok(detect_file("nitro/evervault_valid-attestation-doc-bytes") ==
	    HWEV_NITRO, "raw nitro document detected");
	ok(detect_file("nitro/blocky_nitro_attestation.b64") == HWEV_NITRO,
	    "base64 nitro document detected");
	ok(detect_file("sev-snp/vcek.testcer") == HWEV_UNKNOWN,
	    "a certificate is no evidence");
	ok(hwevidence_detect((const unsigned char *)"eyJhbGciOiJFZERTQSJ9.e30.c2ln",
	    29) == HWEV_SIM, "a compact JWS is sim evidence");
	ok(hwevidence_detect((const unsigned char *)"", 0) == HWEV_UNKNOWN,
	    "empty input is unknown");
	memset(q, 0, sizeof(q));
	q[0] = 3, q[2] = 2;
	b64_encode(b64, q, 500, B64_URL);
	ok(hwevidence_detect((unsigned char *)b64, strlen(b64)) == HWEV_SGX,
	    "base64url of a quote header is detected");
	ok(hwevidence_raw((unsigned char *)b64, strlen(b64), &raw, &n, &e) ==
	    0 && n == 500 && memcmp(raw, q, 500) == 0, "and decoded");
	free(raw);
	ok(hwevidence_raw((const unsigned char *)"not base64!", 11, &raw, &n,
	    &e) == -1 && e.code == EXIT_DATA, "junk is malformed evidence");
	ok(strcmp(hwevidence_name(HWEV_SNP), "sev-snp") == 0 &&
	    hwevidence_format("tdx") == HWEV_TDX &&
	    hwevidence_format("morello") == HWEV_UNKNOWN, "format names");

	ok(hwevidence_time("2025-06-25T00:00:00Z", &t) == 0 &&
	    t == 1750809600, "RFC 3339 time");
	ok(hwevidence_time("2024-09-07T14:37:39.545Z", &t) == 0 &&
	    t == 1725719859, "fractional seconds");
	ok(hwevidence_time("2025-06-25T00:00:00+02:00", &t) == -1 &&
	    hwevidence_time("2025-06-25", &t) == -1 &&
	    hwevidence_time("2025-13-01T00:00:00Z", &t) == -1 &&
	    hwevidence_time("2025-06-25T00:00:00Zjunk", &t) == -1,
	    "malformed times refused");

	for (i = 0; i < 32; i++) {
		nonce[i] = (unsigned char)(0x80 + i);
		data[i] = (unsigned char)(0xd0 + i);
	}
	ok(hwevidence_binding(nonce, 32, M, R, K, NULL, out, &e) == 0 &&
	    hexis(hwevidence_hex(out, 32), B0), "binding vector, no data");
	ok(hwevidence_binding(nonce, 32, M, R, K, data, out, &e) == 0 &&
	    hexis(hwevidence_hex(out, 32), B1), "binding vector, with data");
	ok(hwevidence_binding(nonce, 32, "sha256:00", R, K, NULL, out, &e) ==
	    -1 && e.code == EXIT_DATA, "short measurement refused");
	ok(hwevidence_binding(nonce, 32, M, "age1bogus", K, NULL, out, &e) ==
	    -1 && e.code == EXIT_DATA, "bad recipient refused");

	snprintf(rd, sizeof(rd), "%s%064d", B0, 0);
	c = jv_object_set(jv_object(), jv_string("report_data"), jv_string(rd));
	c = hwevidence_bind(c, nonce, 32, M, R, K, NULL, &e);
	ok(bound_is(c, JV_KIND_TRUE), "matching report_data is bound");
	jv_free(c);
	c = jv_object_set(jv_object(), jv_string("report_data"), jv_string(rd));
	c = hwevidence_bind(c, NULL, 0, NULL, NULL, NULL, NULL, &e);
	ok(bound_is(c, JV_KIND_FALSE), "no nonce: bound false");
	jv_free(c);
	c = jv_object_set(jv_object(), jv_string("report_data"), jv_string(rd));
	c = hwevidence_bind(c, nonce, 31, M, R, K, NULL, &e);
	ok(!jv_is_valid(c) && e.code == EXIT_NO, "another nonce: not bound");
	jv_free(c);
	rd[127] = '1';
	c = jv_object_set(jv_object(), jv_string("report_data"), jv_string(rd));
	c = hwevidence_bind(c, nonce, 32, M, R, K, NULL, &e);
	ok(!jv_is_valid(c) && e.code == EXIT_NO, "nonzero tail: not bound");
	jv_free(c);

	ok(strcmp(ear_status("tdx", "UpToDate", 0), "affirming") == 0,
	    "EAR: UpToDate affirms");
	ok(strcmp(ear_status("sgx", "ConfigurationAndSWHardeningNeeded", 0),
	    "warning") == 0, "EAR: hardening needed warns");
	ok(strcmp(ear_status("sgx", "OutOfDate", 0), "contraindicated") == 0 &&
	    strcmp(ear_status("sgx", "Revoked", 0), "contraindicated") == 0,
	    "EAR: out of date or revoked contraindicates");
	ok(strcmp(ear_status("tdx", "UpToDate", 1), "contraindicated") == 0,
	    "EAR: debug contraindicates");
	ok(strcmp(ear_status("sim", "unknown", 0), "warning") == 0 &&
	    strcmp(ear_status("morello", "unknown", 0), "warning") == 0,
	    "EAR: sim and morello are a lower tier");

	p = (const unsigned char *)"\x30\x03\x02\x01\x05";
	ok(hwevidence_der(&p, p + 5, &tag, &v, &len) == 0 && tag == 0x30 &&
	    len == 3, "DER element");
	p = (const unsigned char *)"\x30\x84\xff\xff\xff\xff";
	ok(hwevidence_der(&p, p + 6, &tag, &v, &len) == -1,
	    "DER length past the end refused");
	p = (const unsigned char *)"\x30\x80\x00\x00";
	ok(hwevidence_der(&p, p + 4, &tag, &v, &len) == -1,
	    "indefinite DER length refused");
	return tap_done();
}
