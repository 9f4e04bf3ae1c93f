/*
 * TEMPORARY STAND-INS, to be deleted when the real modules are merged:
 * lib/age.c, lib/manifest.c and lib/evidence.c. They only let ti-run link
 * and run its plaintext modes meanwhile; nothing here is used once those
 * land.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "age.h"
#include "evidence.h"
#include "exitcode.h"
#include "manifest.h"

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

size_t
age_keys_count(const struct age_keys *k)
{
	return (size_t)k->n;
}

int
age_add_recipient(struct age_keys *k, const char *s, struct err *e)
{
	(void)s;
	k->n++;
	(void)e;
	return 0;
}

int
age_add_recipients_file(struct age_keys *k, const char *path, struct err *e)
{
	(void)k;
	return err_set(e, EXIT_IO, "%s: age not built yet", path);
}

int
age_add_x25519_identity(struct age_keys *k, const unsigned char priv[32],
    struct err *e)
{
	(void)k;
	(void)priv;
	return err_set(e, EXIT_IO, "age not built yet");
}

int
age_seal(FILE *in, FILE *out, const struct age_keys *k, int armor,
    struct err *e)
{
	(void)in, (void)out, (void)k, (void)armor;
	return err_set(e, EXIT_IO, "age not built yet");
}

int
age_open(FILE *in, FILE *out, const struct age_keys *k, struct err *e)
{
	(void)in, (void)out, (void)k;
	return err_set(e, EXIT_IO, "age not built yet");
}

int
age_seal_mem(const void *in, size_t n, const struct age_keys *k, int armor,
    unsigned char **out, size_t *outlen, struct err *e)
{
	(void)in, (void)n, (void)k, (void)armor, (void)out, (void)outlen;
	return err_set(e, EXIT_IO, "age not built yet");
}

int
manifest_check(jv m, struct err *e)
{
	int ok = jv_get_kind(m) == JV_KIND_OBJECT;

	jv_free(m);
	return ok ? 0 : err_set(e, EXIT_DATA, "manifest: not an object");
}

int
manifest_load(const char *path, jv *m, struct err *e)
{
	*m = jv_load_file(path, 0);
	if (!jv_is_valid(*m)) {
		jv_free(*m);
		return err_set(e, EXIT_DATA, "%s: not JSON", path);
	}
	return manifest_check(jv_copy(*m), e);
}

int
manifest_canonical(jv v, char **out, size_t *len, struct err *e)
{
	jv s = jv_dump_string(v, JV_PRINT_SORTED);

	*len = (size_t)jv_string_length_bytes(jv_copy(s));
	*out = strdup(jv_string_value(s));
	jv_free(s);
	return *out ? 0 : err_set(e, EXIT_IO, "out of memory");
}

int
manifest_measure(jv m, char *out, struct err *e)
{
	unsigned char d[32];
	char *c;
	size_t n;
	int i;

	if (manifest_canonical(m, &c, &n, e) != 0)
		return -1;
	SHA256((unsigned char *)c, n, d);
	free(c);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
	return 0;
}

char *
evidence_home(void)
{
	const char *h = getenv("TI_HOME");

	return strdup(h ? h : "/nonexistent");
}

int
evidence_keys(const char *home, const char *measurement, struct tikeys *k,
    struct err *e)
{
	(void)home, (void)measurement, (void)k;
	return err_set(e, EXIT_IO, "platform not built yet");
}
