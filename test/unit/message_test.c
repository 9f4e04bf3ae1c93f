/* Messages, signers and per-measurement keys. */
#include <string.h>

#include "agekey.h"
#include "exitcode.h"
#include "keys.h"
#include "message.h"
#include "sig.h"
#include "tap.h"

static const char *MEAS =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

int
main(void)
{
	unsigned char secret[32], pub[32], seed[32], age[5] = "age!!";
	struct tikeys k, k2;
	struct message m, p;
	struct err e;
	char *line, *bad, who[SIG_SIGNER_LEN], rcp[AGE_RECIPIENT_LEN];
	size_t n, i;

	/* RFC 8032 section 7.1, test 1: the empty message. */
	static const unsigned char sk1[32] = {
		0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
		0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
		0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60 };
	static const unsigned char pk1[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
		0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
		0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a };
	unsigned char s[64];
	ok(sig_public(sk1, pub) == 0 && memcmp(pub, pk1, 32) == 0,
	    "RFC 8032 test 1 public key");
	ok(sig_sign(sk1, "", 0, s) == 0 && s[0] == 0xe5 && s[63] == 0x0b &&
	    sig_verify(pk1, "", 0, s) == 0, "RFC 8032 test 1 signature");
	s[10] ^= 1;
	ok(sig_verify(pk1, "", 0, s) != 0, "flipped signature fails");

	sig_signer_string(who, pk1);
	ok(strcmp(who, "ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") == 0,
	    "signer string %s", who);
	ok(sig_signer_parse(who, pub, &e) == 0 && memcmp(pub, pk1, 32) == 0,
	    "signer string parses");
	ok(sig_signer_parse("ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR",
	    pub, &e) != 0 && e.code == EXIT_DATA, "short signer rejected");

	for (i = 0; i < 32; i++)
		secret[i] = (unsigned char)i;
	ok(keys_derive(secret, 32, MEAS, &k, &e) == 0, "keys derive");
	ok(keys_derive(secret, 32, MEAS, &k2, &e) == 0 &&
	    memcmp(&k, &k2, sizeof(k)) == 0, "derivation is deterministic");
	ok(keys_derive(secret, 32, "sha256:00", &k2, &e) != 0,
	    "malformed measurement rejected");
	secret[0] ^= 1;
	keys_derive(secret, 32, MEAS, &k2, &e);
	ok(memcmp(k.x_pub, k2.x_pub, 32) != 0 && memcmp(k.ed_pub, k2.ed_pub,
	    32) != 0, "another secret gives other keys");
	age_recipient_string(rcp, k.x_pub);
	ok(strncmp(rcp, "age1", 4) == 0 && age_recipient_parse(rcp, pub, &e) ==
	    0 && memcmp(pub, k.x_pub, 32) == 0, "recipient %s", rcp);

	memset(&m, 0, sizeof(m));
	message_run_id(m.run, k.x_pub);
	m.seq = 7;
	m.last = 1;
	m.sealed = age;
	m.sealedlen = sizeof(age);
	memcpy(seed, k.ed_seed, 32);
	ok(message_sign(&m, seed, &e) == 0 && memcmp(m.signer, k.ed_pub, 32) ==
	    0, "message signed by the seed's key");
	line = message_format(&m, &n);
	ok(line != NULL && n == strlen(line), "format: %s", line);
	ok(message_parse(line, n, &p, &e) == 0 && p.seq == 7 && p.last &&
	    strcmp(p.run, m.run) == 0 && p.sealedlen == 5 &&
	    memcmp(p.sealed, "age!!", 5) == 0, "parse round trip");
	ok(message_verify(&p, k.ed_pub, &e) == 0, "verifies");
	ok(message_verify(&p, k2.ed_pub, &e) != 0 && e.code == EXIT_NO &&
	    strstr(e.msg, "unexpected signer") != NULL, "other signer refused");
	p.seq = 8;
	ok(message_verify(&p, NULL, &e) != 0 && e.code == EXIT_NO,
	    "changed seq breaks the signature");
	p.seq = 7;
	p.last = 0;
	ok(message_verify(&p, NULL, &e) != 0, "changed last breaks it");
	p.last = 1;
	p.sealed[0] ^= 1;
	ok(message_verify(&p, NULL, &e) != 0, "changed data breaks it");
	message_fini(&p);

	static const char *malformed[] = {
		"", "[]", "{\"v\":2}", "{\"v\":1}", "not json",
		"{\"v\":1,\"run\":\"a b\",\"seq\":0,\"last\":true}",
		"{\"v\":1,\"run\":\"ab\",\"seq\":-1,\"last\":true}",
		"{\"v\":1,\"run\":\"ab\",\"seq\":1.5,\"last\":true}",
		"{\"v\":1,\"run\":\"ab\",\"seq\":0,\"last\":1}",
	};
	for (i = 0; i < sizeof(malformed) / sizeof(*malformed); i++)
		ok(message_parse(malformed[i], strlen(malformed[i]), &p, &e) !=
		    0 && e.code == EXIT_DATA, "malformed %zu: %s", i, e.msg);
	bad = strdup(line);
	memcpy(strstr(bad, "\"sealed\":\"") + 10, "!", 1);
	ok(message_parse(bad, strlen(bad), &p, &e) != 0 && e.code == EXIT_DATA,
	    "bad base64 in sealed: %s", e.msg);
	free(bad);
	free(line);
	keys_wipe(&k);
	keys_wipe(&k2);
	return tap_done();
}
