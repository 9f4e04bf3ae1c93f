#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "exitcode.h"
#include "io.h"
#include "keyfile.h"
#include "passphrase.h"

/* One line from fd into buf without echo; the line end is dropped. */
static int
read_line(int fd, char *buf, size_t cap, struct err *e)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_errno(e, EXIT_IO, "unable to read the "
			    "passphrase");
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= cap) {
			wipe(buf, cap);
			return err_set(e, EXIT_DATA, "passphrase too long");
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

static int
ask(int fd, const char *prompt, char *buf, size_t cap, struct err *e)
{
	struct termios old, quiet;
	int rc, restore = 0;

	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSANOW, &quiet) == 0;
	}
	if (writeall(fd, prompt, strlen(prompt)) != 0) {
		rc = err_errno(e, EXIT_IO, "unable to write to the terminal");
		goto out;
	}
	rc = read_line(fd, buf, cap, e);
out:
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
	return rc;
}

int
passphrase_tty(const char *prompt, int confirm, char *buf, size_t cap,
    struct err *e)
{
	char again[PASSPHRASE_MAX];
	int fd, rc;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return err_set(e, EXIT_USAGE, "no terminal to read a "
		    "passphrase from; use --passphrase-file");
	rc = ask(fd, prompt, buf, cap, e);
	if (rc == 0 && buf[0] == '\0')
		rc = err_set(e, EXIT_DATA, "empty passphrase");
	if (rc == 0 && confirm) {
		rc = ask(fd, "Confirm passphrase: ", again, sizeof(again), e);
		if (rc == 0 && strcmp(buf, again) != 0)
			rc = err_set(e, EXIT_DATA, "passphrases do not match");
		wipe(again, sizeof(again));
	}
	close(fd);
	if (rc != 0)
		wipe(buf, cap);
	return rc;
}

int
passphrase_file(const char *path, char *buf, size_t cap, struct err *e)
{
	unsigned char *b;
	size_t len, n;
	int rc = 0;

	if (keyfile_read(path, &b, &len, e) != 0)
		return -1;
	for (n = 0; n < len && b[n] != '\n'; n++)
		;
	if (n > 0 && b[n - 1] == '\r')
		n--;
	if (n == 0)
		rc = err_set(e, EXIT_DATA, "%s: empty passphrase", path);
	else if (n >= cap)
		rc = err_set(e, EXIT_DATA, "%s: passphrase too long", path);
	else {
		memcpy(buf, b, n);
		buf[n] = '\0';
	}
	keyfile_free(b, len);
	return rc;
}
