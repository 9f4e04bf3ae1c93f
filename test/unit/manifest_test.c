/* RFC 8785 canonical JSON (its examples and Appendix B numbers), manifests. */
#include <stdint.h>
#include <string.h>

#include "agekey.h"
#include "keys.h"
#include "manifest.h"
#include "sig.h"
#include "tap.h"

static int
canon_is(jv v, const char *want)
{
	struct err e;
	char *c;
	size_t n;
	int r;

	if (manifest_canonical(v, &c, &n, &e) != 0)
		return 0;
	r = n == strlen(want) && memcmp(c, want, n) == 0;
	if (!r)
		printf("# got %s\n# want %s\n", c, want);
	free(c);
	return r;
}

static int
num_is(uint64_t bits, const char *want)
{
	double d;

	memcpy(&d, &bits, 8);
	return canon_is(jv_number(d), want);
}

static const struct {
	uint64_t bits;
	const char *s;
} nums[] = {
	{ 0x0000000000000000ull, "0" },
	{ 0x8000000000000000ull, "0" },
	{ 0x0000000000000001ull, "5e-324" },
	{ 0x8000000000000001ull, "-5e-324" },
	{ 0x7fefffffffffffffull, "1.7976931348623157e+308" },
	{ 0xffefffffffffffffull, "-1.7976931348623157e+308" },
	{ 0x4340000000000000ull, "9007199254740992" },
	{ 0xc340000000000000ull, "-9007199254740992" },
	{ 0x4430000000000000ull, "295147905179352830000" },
	{ 0x44b52d02c7e14af5ull, "9.999999999999997e+22" },
	{ 0x44b52d02c7e14af6ull, "1e+23" },
	{ 0x44b52d02c7e14af7ull, "1.0000000000000001e+23" },
	{ 0x444b1ae4d6e2ef4eull, "999999999999999700000" },
	{ 0x444b1ae4d6e2ef4full, "999999999999999900000" },
	{ 0x444b1ae4d6e2ef50ull, "1e+21" },
	{ 0x3eb0c6f7a0b5ed8cull, "9.999999999999997e-7" },
	{ 0x3eb0c6f7a0b5ed8dull, "0.000001" },
	{ 0x41b3de4355555553ull, "333333333.3333332" },
	{ 0x41b3de4355555554ull, "333333333.33333325" },
	{ 0x41b3de4355555555ull, "333333333.3333333" },
	{ 0x41b3de4355555556ull, "333333333.3333334" },
	{ 0x41b3de4355555557ull, "333333333.33333343" },
	{ 0xbecbf647612f3696ull, "-0.0000033333333333333333" },
	{ 0x43143ff3c1cb0959ull, "1424953923781206.2" },
};

static const char *bad[][2] = {
	{ "[]", "not a JSON object" },
	{ "{\"ti\":\"manifest/v1\"}", "missing" },
};

int
main(void)
{
	struct err e;
	size_t i;
	double d;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		ok(num_is(nums[i].bits, nums[i].s), "RFC 8785 number %016llx "
		    "-> %s", (unsigned long long)nums[i].bits, nums[i].s);
	d = 0;
	memcpy(&d, &(uint64_t){ 0x7fffffffffffffffull }, 8);
	ok(manifest_canonical(jv_number(d), &(char *){ 0 }, &i, &e) != 0,
	    "NaN refused");
	memcpy(&d, &(uint64_t){ 0x7ff0000000000000ull }, 8);
	ok(manifest_canonical(jv_number(d), &(char *){ 0 }, &i, &e) != 0,
	    "Infinity refused");

	/* RFC 8785 section 3.2.2 */
	ok(canon_is(jv_parse("{\n  \"numbers\": [333333333.33333329, 1E30, "
	    "4.50, 2e-3, 0.000000000000000000000000001],\n  \"string\": "
	    "\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
	    "  \"literals\": [null, true, false]\n}"),
	    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,"
	    "1e+30,4.5,0.002,1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B"
	    "\\\"\\\\\\\\\\\"/\"}"), "RFC 8785 3.2.2 example");
	/* RFC 8785 section 3.2.3: UTF-16 code unit order */
	ok(canon_is(jv_parse("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage "
	    "Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"1\":"
	    "\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":"
	    "\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}"),
	    "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
	    "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac"
	    "\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
	    "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}"),
	    "RFC 8785 3.2.3 sort order");
	ok(canon_is(jv_parse("\"\\u001f\\u007f\\b\\t\\f\""),
	    "\"\\u001f\x7f\\b\\t\\f\""), "control characters escaped");
	ok(canon_is(jv_parse("{\"a\":{\"c\":1,\"b\":[{}]},\"\":[]}"),
	    "{\"\":[],\"a\":{\"b\":[{}],\"c\":1}}"), "nested and empty");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(manifest_check(jv_parse(bad[i][0]), &e) != 0 &&
		    strstr(e.msg, bad[i][1]) != NULL, "rejects %s: %s",
		    bad[i][0], e.msg);
	}

	/* The test vector of docs/formats.md. */
	static const char vec[] = "{\"argv\":[],\"backend\":\"linux\","
	    "\"from\":[\"ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"],"
	    "\"input\":{\"plain\":false},\"inputs\":[\"rates\"],\"jq\":{"
	    "\"arg\":{\"min\":\"150\"},\"argjson\":{},\"exit_status\":false,"
	    "\"null_input\":false,\"raw_output\":false,\"slurp\":false},"
	    "\"kind\":\"jq\",\"limits\":{\"jobs\":1,\"memory_bytes\":"
	    "536870912,\"timeout_s\":60},\"output\":{\"mode\":\"split\","
	    "\"pad\":4096,\"plain\":false},\"program\":{\"path\":"
	    "\"filter.jq\",\"sha256\":\"22ee3a39799762c7956b2d9cd95188cdb191"
	    "34d7a3574a704ef32b187e49f36d\"},\"stderr\":\"drop\",\"ti\":"
	    "\"manifest/v1\",\"to\":[\"age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82"
	    "hzrye869xeexvn73equnujwj\"]}";
	unsigned char secret[32];
	char meas[MEASUREMENT_LEN], rcp[AGE_RECIPIENT_LEN], sk[SIG_SIGNER_LEN];
	struct tikeys k;

	ok(manifest_check(jv_parse(vec), &e) == 0, "vector manifest valid");
	ok(canon_is(jv_parse(vec), vec), "vector is canonical");
	ok(manifest_measure(jv_parse(vec), meas, &e) == 0 && strcmp(meas,
	    "sha256:ad5ee5b315a19875bd4568ce2f5e8bb559d9d846c8f1cbe0281e790b"
	    "97962824") == 0, "vector measurement %s", meas);
	for (i = 0; i < 32; i++)
		secret[i] = (unsigned char)i;
	ok(keys_derive(secret, 32, meas, &k, &e) == 0, "derive");
	age_recipient_string(rcp, k.x_pub);
	sig_signer_string(sk, k.ed_pub);
	ok(strcmp(rcp, "age16zymdle94y29aujusxdd3sfuhsrel5zuvauhklw4sp33gdad5q"
	    "2q5v3jxl") == 0, "vector recipient %s", rcp);
	ok(strcmp(sk, "ed25519:uKCQ9q9qMQDHVWSudE81Eg-0f4ewXiW-5xoxIV9aGhY") ==
	    0, "vector sig_key %s", sk);
	keys_wipe(&k);

	return tap_done();
}
