#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "gramine.h"
#include "io.h"

/* Largest quote read back (with its PCK chain). */
#define QUOTE_MAX (1 << 16)

const char *
gramine_root(void)
{
	const char *r = getenv("TI_GRAMINE_ROOT");

	return r != NULL && *r != '\0' ? r : "/dev/attestation";
}

int
gramine_quote(const char *root, const unsigned char report_data[64],
    unsigned char **quote, size_t *n, struct err *e)
{
	char p[PATH_MAX];
	unsigned char *t;
	size_t tn;
	int fd;

	if (root == NULL)
		root = gramine_root();
	snprintf(p, sizeof(p), "%s/attestation_type", root);
	if (io_slurp(p, 64, &t, &tn, e) != 0)
		return err_prefix(e, "sgx");
	tn = strcspn((char *)t, "\n");
	if (tn != 4 || memcmp(t, "dcap", 4) != 0) {
		err_set(e, EXIT_IO, "sgx: attestation type is \"%.*s\", not "
		    "dcap", (int)(tn > 16 ? 16 : tn), t);
		free(t);
		return -1;
	}
	free(t);
	snprintf(p, sizeof(p), "%s/user_report_data", root);
	if ((fd = open(p, O_WRONLY | O_CLOEXEC)) < 0)
		return err_errno(e, EXIT_IO, "sgx: %s", p);
	if (writeall(fd, report_data, 64) != 0 || close(fd) != 0) {
		err_errno(e, EXIT_IO, "sgx: %s", p);
		close(fd);
		return -1;
	}
	snprintf(p, sizeof(p), "%s/quote", root);
	if (io_slurp(p, QUOTE_MAX, quote, n, e) != 0)
		return err_prefix(e, "sgx");
	if (*n == 0) {
		free(*quote);
		return err_set(e, EXIT_IO, "sgx: %s is empty", p);
	}
	return 0;
}
