#ifndef TI_AGE_H
#define TI_AGE_H

#include <stddef.h>
#include <stdio.h>

#include "agekey.h"
#include "err.h"

/*
 * The age v1 format (age-encryption.org/v1, C2SP age.md): X25519 and
 * scrypt stanzas, header MAC, ChaCha20-Poly1305 STREAM in 64 KiB chunks,
 * ASCII armor. See docs/formats.md.
 */


/* A set of recipients (to seal) or identities (to open); opaque. */
struct age_keys;

/* New empty set; NULL on allocation failure. */
struct age_keys *age_keys_new(void);

/* Wipe every secret in k and free it; NULL does nothing. */
void age_keys_free(struct age_keys *k);

/* Number of recipients or identities in k. */
size_t age_keys_count(const struct age_keys *k);

/* Add a recipient "age1..." (EXIT_DATA "malformed recipient: ..."). */
int age_add_recipient(struct age_keys *k, const char *s, struct err *e);

/* Add every recipient of a file (one a line, '#' comments, blank lines). */
int age_add_recipients_file(struct age_keys *k, const char *path,
    struct err *e);

/* Add a raw X25519 public key as a recipient. */
int age_add_x25519_recipient(struct age_keys *k, const unsigned char pub[32],
    struct err *e);

/*
 * Add a passphrase: as a recipient, sealing uses scrypt with work factor
 * log2n (0: the default, 18); as an identity, any work factor up to a cap.
 * A passphrase recipient must be the only recipient (age's rule).
 */
int age_add_passphrase(struct age_keys *k, const char *pass, int log2n,
    struct err *e);

/*
 * Add every identity of an age identity file (age-keygen's format,
 * comments allowed; armored or not). The file must not be readable by
 * group or others (keyfile_read).
 */
int age_add_identity_file(struct age_keys *k, const char *path,
    struct err *e);

/* Add an identity from its string "AGE-SECRET-KEY-1...". */
int age_add_identity(struct age_keys *k, const char *s, struct err *e);

/* Add a raw X25519 private key as an identity. */
int age_add_x25519_identity(struct age_keys *k, const unsigned char priv[32],
    struct err *e);

/*
 * The recipient string "age1..." of key i of k (a recipient or an
 * identity) into out. 0, or -1 (no such key, or a passphrase).
 */
int age_keys_recipient(const struct age_keys *k, size_t i,
    char out[AGE_RECIPIENT_LEN]);

/* Largest text age_keygen_text writes, NUL included. */
#define AGE_KEYGEN_LEN 192

/*
 * A new X25519 identity in age-keygen's format ("# created: ...",
 * "# public key: age1...", "AGE-SECRET-KEY-1...") into buf (cap bytes,
 * NUL-terminated; the caller wipes it), its recipient into pub. 0, or -1.
 */
int age_keygen_text(char *buf, size_t cap, char pub[AGE_RECIPIENT_LEN],
    struct err *e);

/*
 * Seal everything read from in to the recipients of k, writing the age
 * file (armored if armor) to out. Constant memory. 0, or -1.
 */
int age_seal(FILE *in, FILE *out, const struct age_keys *k, int armor,
    struct err *e);

/*
 * Open an age file (binary or armored, detected) read from in with the
 * identities of k, writing plaintext to out. A chunk's plaintext is
 * written only after it authenticates; a truncated, reordered, tampered
 * or trailing-garbage input ends with -1 (EXIT_DATA) and nothing more
 * written; no matching identity is EXIT_NO ("no identity matched").
 */
int age_open(FILE *in, FILE *out, const struct age_keys *k, struct err *e);

/* Flags of age_seal_ex and age_open_ex. */
#define AGE_READAHEAD 1	/* read input in a second thread (falls back to
			   one thread if none can be started) */

/* age_seal with flags; age_seal is age_seal_ex(..., 0, e). */
int age_seal_ex(FILE *in, FILE *out, const struct age_keys *k, int armor,
    int flags, struct err *e);

/* age_open with flags; age_open is age_open_ex(..., 0, e). */
int age_open_ex(FILE *in, FILE *out, const struct age_keys *k, int flags,
    struct err *e);

/* age_seal over memory: *out is malloc'd (caller frees). */
int age_seal_mem(const void *in, size_t n, const struct age_keys *k,
    int armor, unsigned char **out, size_t *outlen, struct err *e);

/* age_open over memory: *out is malloc'd (caller wipes and frees). */
int age_open_mem(const void *in, size_t n, const struct age_keys *k,
    unsigned char **out, size_t *outlen, struct err *e);

#endif
