/*
 * Test helper: write the age identity a platform derives for a manifest
 * to a new 0600 file, so that tests can open with `age -d -i` what was
 * sealed to the manifest's recipient. ti-attest itself never prints it.
 *   attest-identity PLATFORM-DIR MANIFEST OUTFILE
 */
#include <string.h>

#include "agekey.h"
#include "die.h"
#include "evidence.h"
#include "keyfile.h"
#include "manifest.h"

const char *PROG = "attest-identity";

int
main(int argc, char **argv)
{
	char meas[MEASUREMENT_LEN], id[AGE_IDENTITY_LEN + 1];
	struct tikeys k;
	struct err e;
	jv m;

	if (argc != 4)
		die(EXIT_USAGE, "usage: attest-identity DIR MANIFEST OUTFILE");
	if (manifest_load(argv[2], &m, &e) != 0 ||
	    manifest_measure(m, meas, &e) != 0 ||
	    evidence_keys(argv[1], meas, &k, &e) != 0)
		die_err(&e);
	age_identity_string(id, k.x_priv);
	keys_wipe(&k);
	strcat(id, "\n");
	if (keyfile_write(argv[3], id, strlen(id), &e) != 0)
		die_err(&e);
	wipe(id, sizeof(id));
	return 0;
}
