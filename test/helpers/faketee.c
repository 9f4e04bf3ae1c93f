/*
 * faketee: the quoting interfaces of a TEE, faked in a directory for the
 * tests, with quotes signed by a test "PCK" key (certified by a test root)
 * instead of Intel's.
 *
 *   faketee tsm DIR PCK-KEY PCK-CHAIN      configfs-tsm: DIR/report/<entry>/
 *   faketee gramine DIR PCK-KEY PCK-CHAIN  Gramine: DIR/{attestation_type,
 *                                          user_report_data,quote}
 *
 * Attributes that the kernel (or Gramine) computes when read are FIFOs
 * here: outblob and quote are written when a reader opens them, after the
 * request was written. A tsm entry's generation is a FIFO too; serving it
 * empties the entry so that the client's rmdir succeeds, as on configfs.
 * DIR/ready appears when the fake serves. It runs until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "die.h"
#include "io.h"

const char *PROG = "faketee";

#define USAGE "usage: faketee tsm|gramine DIR PCK-KEY PCK-CHAIN\n"

struct pck {
	EVP_PKEY *key;
	unsigned char *chain;
	size_t chainlen;
};

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8 & 0xff;
}

static void
put32(unsigned char *p, size_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16 & 0xffff);
}

/* A raw r || s P-256 signature of msg by k. */
static void
sign_raw(EVP_PKEY *k, const unsigned char *msg, size_t n,
    unsigned char sig[64])
{
	unsigned char der[80];
	const unsigned char *p = der;
	size_t len = sizeof(der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *s;

	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) !=
	    1 || EVP_DigestSign(md, der, &len, msg, n) != 1 ||
	    (s = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		die(EXIT_IO, "signing failed");
	BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32);
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
}

/*
 * A DCAP quote (SGX v3 or TDX v4) carrying report_data, signed by a fresh
 * attestation key that the PCK key certifies through the QE report.
 */
static unsigned char *
make_quote(int tdx, const unsigned char rd[64], const struct pck *pck,
    size_t *outlen)
{
	static const unsigned char intel_qe[16] = {
		0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
		0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
	};
	size_t body = tdx ? 584 : 384, hdr = 48, qe = 384 + 64 + 2 + 32 + 6 +
	    pck->chainlen, sigdata = 128 + (tdx ? 6 : 0) + qe, n, len, at;
	unsigned char *q, pub[65], qrep[384], auth[32];
	EVP_PKEY *ak;

	n = hdr + body + 4 + sigdata;
	if ((q = calloc(1, n)) == NULL)
		die(EXIT_IO, "out of memory");
	put16(q, tdx ? 4 : 3);
	put16(q + 2, 2);
	put32(q + 4, tdx ? 0x81 : 0);
	memcpy(q + 12, intel_qe, 16);
	if (tdx) {
		memset(q + hdr + 136, 0x7d, 48);	/* MRTD */
		memcpy(q + hdr + 520, rd, 64);
	} else {
		q[hdr + 48] = 0x04;			/* MODE64BIT */
		memset(q + hdr + 64, 0x5e, 32);		/* MRENCLAVE */
		memset(q + hdr + 128, 0x51, 32);	/* MRSIGNER */
		memcpy(q + hdr + 320, rd, 64);
	}
	at = hdr + body;
	put32(q + at, sigdata);
	at += 4;
	if ((ak = EVP_EC_gen("P-256")) == NULL ||
	    EVP_PKEY_get_octet_string_param(ak, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    sizeof(pub), &len) != 1 || len != 65)
		die(EXIT_IO, "cannot make an attestation key");
	sign_raw(ak, q, hdr + body, q + at);
	memcpy(q + at + 64, pub + 1, 64);
	at += 128;
	if (tdx) {
		put16(q + at, 6);
		put32(q + at + 2, qe);
		at += 6;
	}
	memset(auth, 0xa5, sizeof(auth));
	memset(qrep, 0, sizeof(qrep));
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned int hl;

		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		EVP_DigestUpdate(md, pub + 1, 64);
		EVP_DigestUpdate(md, auth, sizeof(auth));
		EVP_DigestFinal_ex(md, qrep + 320, &hl);
		EVP_MD_CTX_free(md);
	}
	memcpy(q + at, qrep, 384);
	sign_raw(pck->key, qrep, 384, q + at + 384);
	at += 448;
	put16(q + at, sizeof(auth));
	memcpy(q + at + 2, auth, sizeof(auth));
	at += 2 + sizeof(auth);
	put16(q + at, 5);
	put32(q + at + 2, pck->chainlen);
	memcpy(q + at + 6, pck->chain, pck->chainlen);
	EVP_PKEY_free(ak);
	*outlen = n;
	return q;
}

static void
path(char *p, const char *dir, const char *name)
{
	if ((size_t)snprintf(p, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		die(EXIT_IO, "path too long");
}

static void
put_file(const char *dir, const char *name, const void *b, size_t n)
{
	char p[PATH_MAX], t[PATH_MAX + 8];
	int fd;

	path(p, dir, name);
	snprintf(t, sizeof(t), "%s.tmp", p);
	if ((fd = open(t, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    writeall(fd, b, n) != 0 || close(fd) != 0 || rename(t, p) != 0)
		die_errno(EXIT_IO, "%s", p);
}

static void
fifo(const char *dir, const char *name)
{
	char p[PATH_MAX];

	path(p, dir, name);
	if (mkfifo(p, 0600) != 0)
		die_errno(EXIT_IO, "mkfifo %s", p);
}

/* Open FIFO name of dir for writing: blocks until a reader opens it. */
static int
open_fifo(const char *dir, const char *name)
{
	char p[PATH_MAX];
	int fd;

	path(p, dir, name);
	if ((fd = open(p, O_WRONLY)) < 0)
		warn("%s: %s", p, strerror(errno));
	return fd;
}

/* The 64 bytes of request in dir/name, or -1. */
static int
request(const char *dir, const char *name, unsigned char rd[64])
{
	char p[PATH_MAX];
	unsigned char *b;
	size_t n;
	struct err e;

	path(p, dir, name);
	if (io_slurp(p, 4096, &b, &n, &e) != 0)
		return -1;
	if (n != 64) {
		free(b);
		return -1;
	}
	memcpy(rd, b, 64);
	free(b);
	return 0;
}

static void
unlink_in(const char *dir, const char *name)
{
	char p[PATH_MAX];

	path(p, dir, name);
	unlink(p);
}

static void
serve_entry(const char *dir, const struct pck *pck)
{
	unsigned char rd[64], *q = NULL;
	size_t n = 0;
	int fd;

	fifo(dir, "outblob");
	fifo(dir, "generation");
	put_file(dir, "provider", "tdx_guest\n", 10);
	put_file(dir, "auxblob", "", 0);
	put_file(dir, "inblob", "", 0);	/* last: the client waits for it */
	if ((fd = open_fifo(dir, "outblob")) < 0)
		return;
	if (request(dir, "inblob", rd) == 0)
		q = make_quote(1, rd, pck, &n);
	if (q != NULL && writeall(fd, q, n) != 0)
		warn("%s/outblob: %s", dir, strerror(errno));
	free(q);
	close(fd);
	if ((fd = open_fifo(dir, "generation")) < 0)
		return;
	unlink_in(dir, "inblob");
	unlink_in(dir, "outblob");
	unlink_in(dir, "provider");
	unlink_in(dir, "auxblob");
	unlink_in(dir, "generation");
	if (writeall(fd, "1\n", 2) != 0)
		warn("%s/generation: %s", dir, strerror(errno));
	close(fd);
}

static void
serve_tsm(const char *dir, const struct pck *pck)
{
	char report[PATH_MAX], entry[PATH_MAX], buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t len;
	char *p;
	int fd;

	path(report, dir, "report");
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		die_errno(EXIT_IO, "%s", dir);
	if (mkdir(report, 0755) != 0 && errno != EEXIST)
		die_errno(EXIT_IO, "%s", report);
	if ((fd = inotify_init1(IN_CLOEXEC)) < 0 ||
	    inotify_add_watch(fd, report, IN_CREATE) < 0)
		die_errno(EXIT_IO, "inotify %s", report);
	put_file(dir, "ready", "", 0);
	for (;;) {
		if ((len = read(fd, buf, sizeof(buf))) <= 0) {
			if (len < 0 && errno == EINTR)
				continue;
			die_errno(EXIT_IO, "inotify");
		}
		for (p = buf; p < buf + len; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (!(ev->mask & IN_ISDIR) || ev->len == 0)
				continue;
			path(entry, report, ev->name);
			serve_entry(entry, pck);
		}
	}
}

static void
serve_gramine(const char *dir, const struct pck *pck)
{
	unsigned char rd[64], *q;
	size_t n;
	int fd;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		die_errno(EXIT_IO, "%s", dir);
	put_file(dir, "attestation_type", "dcap\n", 5);
	put_file(dir, "user_report_data", "", 0);
	fifo(dir, "quote");
	put_file(dir, "ready", "", 0);
	for (;;) {
		if ((fd = open_fifo(dir, "quote")) < 0)
			die(EXIT_IO, "cannot serve the quote");
		if (request(dir, "user_report_data", rd) == 0) {
			q = make_quote(0, rd, pck, &n);
			if (writeall(fd, q, n) != 0)
				warn("quote: %s", strerror(errno));
			free(q);
		}
		close(fd);
	}
}

int
main(int argc, char **argv)
{
	struct pck pck;
	struct err e;
	FILE *f;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (argc != 5)
		die_usage(USAGE, "wrong number of arguments");
	signal(SIGPIPE, SIG_IGN);
	if ((f = fopen(argv[3], "r")) == NULL ||
	    (pck.key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die(EXIT_DATA, "%s: not a PEM private key", argv[3]);
	fclose(f);
	if (io_slurp(argv[4], 1 << 16, &pck.chain, &pck.chainlen, &e) != 0)
		die_err(&e);
	if (strcmp(argv[1], "tsm") == 0)
		serve_tsm(argv[2], &pck);
	else if (strcmp(argv[1], "gramine") == 0)
		serve_gramine(argv[2], &pck);
	die_usage(USAGE, "unknown interface %s", argv[1]);
}
