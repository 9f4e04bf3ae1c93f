/*
 * The linux compartment backend.
 *
 * Process tree:
 *
 *   caller ── init (pid 1, the supervisor) ── payload (fn or exec)
 *
 * The caller clones init into new user, pid, mount, net, ipc, uts and
 * cgroup namespaces and writes its id maps (a root caller's compartment
 * maps to an unused host id). init builds an empty read-only root (a
 * tmpfs, plus the executable, its loader and libraries for exec), forks
 * the payload and supervises it: every system call off the seccomp
 * allow-list stops the payload (SECCOMP_RET_USER_NOTIF), init reads what
 * was tried, records it as a violation, fails the call and kills the
 * namespace. init also keeps the wall clock, reaps, and reports to the
 * caller. The payload maps its fds, sets rlimits, drops capabilities,
 * sets no_new_privs, Landlock and the seccomp filter, then runs.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "compartment.h"
#include "exitcode.h"

/* Landlock: Debian 12's headers stop at ABI 2; define what ABI 7 has. */
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#if defined(__SANITIZE_ADDRESS__)
#define TI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TI_ASAN 1
#endif
#endif
#ifndef TI_ASAN
#define TI_ASAN 0
#endif

/* The host uid/gid of a root caller's compartments: no account uses it,
 * so no other host process may signal or trace them. */
#define UNPRIV_ID 2147483646
#define INNER_ID 65534		/* uid/gid inside the user namespace */
#define DEFAULT_MEMORY (1ULL << 30)
#define DEFAULT_PROCS 16
#define NOFILE_LIMIT 64

/* Linux 6.6 seccomp notifier flags, newer than Debian 12's headers. */
#define NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#define NOTIF_SYNC_WAKE_UP 1UL

/* Messages from init to the caller. */
enum { REP_STARTED = 1, REP_ERROR, REP_RESULT };

struct report {
	int kind;
	int code;
	struct compartment_result r;
	char msg[400];
};

#define MAXBINDS 4
#define MAXLINKS 8
#define MAXFILES 40

/* What an exec needs in its root, worked out in the caller. */
struct plan {
	char exe[PATH_MAX];
	int nbinds;
	struct {
		char path[PATH_MAX];
		int fd;		/* O_PATH, opened by init */
		int dir;
	} bind[MAXBINDS];
	int nlinks;
	struct {
		char path[PATH_MAX];
		char target[PATH_MAX];
	} link[MAXLINKS];
	/* The files Landlock lets the program read and execute: itself,
	 * its loader, its libraries; -1: everything in the new root (a
	 * library was not found where the loader's directory holds them). */
	int nfiles;
	char file[MAXFILES][PATH_MAX];
};

struct compartment {
	pid_t pid;		/* init, the supervisor */
	int rfd;		/* its reports */
	int done;
	int failed;		/* it could not set up: code and msg */
	int code;
	char msg[400];
	struct compartment_result r;
};

/* Everything the forked processes need, built before the first fork. */
struct setup {
	const struct compartment_opts *o;
	struct plan *plan;
	struct sock_filter *bpf;
	unsigned short nbpf;
	int llabi;
	unsigned long long data_limit;
	long base_rss_kb;
	int root;		/* the caller is root: drop to UNPRIV_ID */
	int rep;		/* write end of the report pipe */
	int sync[2];		/* caller to init: maps written, the filter */
	int devnull;
	int chan[2];
	int chanfd;		/* the payload's number for chan[1] */
	uintptr_t exec_at;	/* where the payload puts the path it execs */
};

static void
fill(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fill(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void
compartment_opts_init(struct compartment_opts *o)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	o->profile = COMPARTMENT_PROGRAM;
	o->backend = "linux";
	for (i = 0; i < 3; i++)
		o->fds[i] = (int)i;
	o->nfds = 3;
}

static int
landlock_abi(void)
{
	long v;

	v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

static int
writefile(const char *path, const char *s)
{
	int fd, rc = 0;
	size_t n = strlen(s);

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	if (write(fd, s, n) != (ssize_t)n)
		rc = -1;
	close(fd);
	return rc;
}

static void
writeall_(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static int
readfull(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got == n ? 0 : -1;
}

/* Close every fd except those in keep (at most 8). */
static void
closeexcept(const int *keep, int n)
{
	int k[8], i, j, t, lo = 0;

	for (i = 0; i < n; i++)
		k[i] = keep[i];
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (k[j] < k[i]) {
				t = k[i];
				k[i] = k[j];
				k[j] = t;
			}
	for (i = 0; i < n; i++) {
		if (k[i] < 0)
			continue;
		if (k[i] > lo)
			close_range((unsigned)lo, (unsigned)k[i] - 1, 0);
		lo = k[i] + 1;
	}
	close_range((unsigned)lo, ~0U, 0);
}

/* ---- the seccomp filter (built in the caller, loaded by the payload) ---- */

/* An argument comparison, spelt out: the SCMP_A* macros leave datum_b
 * to the compiler, which clang's -Wmissing-field-initializers rejects. */
static struct scmp_arg_cmp
argeq(unsigned int arg, scmp_datum_t v)
{
	struct scmp_arg_cmp c = { arg, SCMP_CMP_EQ, v, 0 };

	return c;
}

static int
allow(scmp_filter_ctx ctx, int nr)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int
build_filter(struct setup *s, struct err *e)
{
	static const int base[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv),
		SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(close),
		SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
		SCMP_SYS(lseek), SCMP_SYS(mmap), SCMP_SYS(mprotect),
		SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
		SCMP_SYS(brk), SCMP_SYS(rt_sigaction),
		SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(sigaltstack), SCMP_SYS(futex), SCMP_SYS(exit),
		SCMP_SYS(exit_group), SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
		SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
		SCMP_SYS(time), SCMP_SYS(nanosleep),
		SCMP_SYS(clock_nanosleep), SCMP_SYS(sched_yield),
		SCMP_SYS(getrandom), SCMP_SYS(poll), SCMP_SYS(ppoll),
		SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(dup),
		SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(pipe),
		SCMP_SYS(pipe2), SCMP_SYS(set_tid_address),
		SCMP_SYS(set_robust_list), SCMP_SYS(arch_prctl),
		SCMP_SYS(uname), SCMP_SYS(getcwd), SCMP_SYS(sysinfo),
		SCMP_SYS(sched_getaffinity), SCMP_SYS(tgkill),
		SCMP_SYS(tkill), SCMP_SYS(restart_syscall),
		SCMP_SYS(getrusage), SCMP_SYS(times), SCMP_SYS(getrlimit),
		SCMP_SYS(pause), SCMP_SYS(rt_sigsuspend),
		SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
		SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
		SCMP_SYS(shutdown), SCMP_SYS(fadvise64),
	};
	static const int sealer[] = {
		SCMP_SYS(pwrite64), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
		SCMP_SYS(ftruncate),
	};
	/* What the dynamic loader and a forking program need. */
	static const int exec[] = {
		SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
		SCMP_SYS(readlink), SCMP_SYS(readlinkat),
		SCMP_SYS(getdents64), SCMP_SYS(wait4), SCMP_SYS(waitid),
		SCMP_SYS(statfs), SCMP_SYS(fstatfs),
	};
	static const int fcntl_ok[] = {
		F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD, F_DUPFD_CLOEXEC,
	};
	static const unsigned long ioctl_ok[] = {
		TCGETS, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX,
	};
	const struct compartment_opts *o = s->o;
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0, mfd = -1;
	struct stat st;
	char *buf = NULL;

	if ((ctx = seccomp_init(SCMP_ACT_NOTIFY)) == NULL)
		return err_set(e, EXIT_IO, "seccomp_init failed");
	rc |= seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		rc |= allow(ctx, base[i]);
	if (o->profile == COMPARTMENT_SEALER)
		for (i = 0; i < sizeof(sealer) / sizeof(sealer[0]); i++)
			rc |= allow(ctx, sealer[i]);
	if (o->exec_path != NULL)
		for (i = 0; i < sizeof(exec) / sizeof(exec[0]); i++)
			rc |= allow(ctx, exec[i]);
	for (i = 0; i < sizeof(fcntl_ok) / sizeof(fcntl_ok[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    argeq(1, (scmp_datum_t)fcntl_ok[i]));
	for (i = 0; i < sizeof(ioctl_ok) / sizeof(ioctl_ok[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    argeq(1, (scmp_datum_t)ioctl_ok[i]));
	/*
	 * The payload's own execve passes its path from a page at a random
	 * address the program never learns (2^34 places): allowed without a
	 * round trip to init. A program guessing it gets one try (a wrong
	 * guess is a violation) and could only run what Landlock lets it
	 * execute, the executable itself or its loader.
	 */
	if (o->exec_path != NULL && s->exec_at != 0)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 1,
		    argeq(0, (scmp_datum_t)s->exec_at));
	/* Reading limits is fine; lowering them too; raising hard ones
	 * is refused by the kernel anyway. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
	    argeq(0, 0));
	/* The payload hands its listener fd to init on chanfd. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
	    argeq(0, (scmp_datum_t)s->chanfd));
	/* glibc probes these and falls back when told ENOSYS. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(rseq), 0);
#if TI_ASAN
	/* AddressSanitizer's runtime (sanitize builds only). */
	rc |= allow(ctx, SCMP_SYS(mincore));
	rc |= allow(ctx, SCMP_SYS(readlink));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 0);
#endif
	if (rc != 0) {
		seccomp_release(ctx);
		return err_set(e, EXIT_IO, "cannot build the seccomp filter");
	}
	mfd = memfd_create("ti-bpf", MFD_CLOEXEC);
	if (mfd < 0 || seccomp_export_bpf(ctx, mfd) != 0 ||
	    fstat(mfd, &st) != 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > 4096 ||
	    (buf = malloc((size_t)st.st_size)) == NULL ||
	    pread(mfd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		if (mfd >= 0)
			close(mfd);
		seccomp_release(ctx);
		return err_set(e, EXIT_IO, "cannot export the seccomp filter");
	}
	close(mfd);
	seccomp_release(ctx);
	s->bpf = (struct sock_filter *)(void *)buf;
	s->nbpf = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	return 0;
}

/* ---- the exec plan: the executable, its loader and libraries ---- */

static int
elf_interp(const char *path, char *out, size_t len)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd, i, rc = 1;
	ssize_t n;

	out[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64) {
		close(fd);
		return -1;
	}
	for (i = 0; i < eh.e_phnum && i < 64; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
		    (Elf64_Off)i * eh.e_phentsize)) != (ssize_t)sizeof(ph))
			break;
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz == 0 || ph.p_filesz >= len)
			break;
		n = pread(fd, out, ph.p_filesz, (off_t)ph.p_offset);
		if (n != (ssize_t)ph.p_filesz)
			break;
		out[ph.p_filesz] = '\0';
		rc = 0;
		break;
	}
	close(fd);
	if (rc != 0)
		out[0] = '\0';
	return 0;
}

/* Where a virtual address of an ELF file lies in the file; -1 if nowhere. */
static off_t
elf_offset(const Elf64_Phdr *ph, int nph, Elf64_Addr va)
{
	int i;

	for (i = 0; i < nph; i++)
		if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr &&
		    va < ph[i].p_vaddr + ph[i].p_filesz)
			return (off_t)(va - ph[i].p_vaddr + ph[i].p_offset);
	return -1;
}

/* The DT_NEEDED names of an ELF file: their number, or -1. */
static int
elf_needed(const char *path, char (*names)[256], int max)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	Elf64_Dyn dyn[256];
	Elf64_Addr strtab = 0;
	off_t stroff;
	ssize_t got;
	int fd, i, nph, ndyn = 0, n = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr))
		goto bad;
	nph = eh.e_phnum < 64 ? eh.e_phnum : 64;
	if (pread(fd, ph, (size_t)nph * sizeof(ph[0]), (off_t)eh.e_phoff) !=
	    (ssize_t)((size_t)nph * sizeof(ph[0])))
		goto bad;
	for (i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_DYNAMIC)
			continue;
		got = pread(fd, dyn, ph[i].p_filesz < sizeof(dyn) ?
		    ph[i].p_filesz : sizeof(dyn), (off_t)ph[i].p_offset);
		if (got <= 0)
			goto bad;
		ndyn = (int)(got / (ssize_t)sizeof(dyn[0]));
	}
	for (i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++)
		if (dyn[i].d_tag == DT_STRTAB)
			strtab = dyn[i].d_un.d_ptr;
	if (ndyn > 0 && (stroff = elf_offset(ph, nph, strtab)) < 0)
		goto bad;
	for (i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag != DT_NEEDED)
			continue;
		if (n == max || pread(fd, names[n], 255,
		    stroff + (off_t)dyn[i].d_un.d_val) <= 0)
			goto bad;
		names[n][255] = '\0';
		n++;
	}
	close(fd);
	return n;
bad:
	close(fd);
	return -1;
}

static int
plan_file(struct plan *p, const char *path)
{
	int i;

	for (i = 0; i < p->nfiles; i++)
		if (strcmp(p->file[i], path) == 0)
			return 0;	/* known (and its libraries too) */
	if (p->nfiles == MAXFILES)
		return -1;
	snprintf(p->file[p->nfiles++], PATH_MAX, "%s", path);
	return 1;
}

/* Add what file needs, found in libdir, recursively; -1 if not all. */
static int
plan_libs(struct plan *p, const char *libdir, const char *file, int depth)
{
	char names[32][256], cand[PATH_MAX], real[PATH_MAX];
	int i, n, rc;

	if (depth > 16 || (n = elf_needed(file, names, 32)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strchr(names[i], '/') != NULL ||
		    strlen(libdir) + strlen(names[i]) + 2 > sizeof(cand))
			return -1;
		strcpy(cand, libdir);
		strcat(cand, "/");
		strcat(cand, names[i]);
		if (realpath(cand, real) == NULL ||
		    strncmp(real, libdir, strlen(libdir)) != 0)
			return -1;
		if ((rc = plan_file(p, real)) < 0)
			return -1;
		if (rc == 1 && plan_libs(p, libdir, real, depth + 1) != 0)
			return -1;
	}
	return 0;
}

static int
plan_bind(struct plan *p, const char *path, int dir)
{
	struct stat st;
	int i;

	for (i = 0; i < p->nbinds; i++) {
		size_t n = strlen(p->bind[i].path);
		if (p->bind[i].dir && strncmp(path, p->bind[i].path, n) == 0 &&
		    path[n] == '/')
			return 0;	/* already inside a bound directory */
	}
	if (p->nbinds == MAXBINDS) {
		errno = E2BIG;
		return -1;
	}
	/* init opens it (binds must come from its own mount namespace). */
	if (stat(path, &st) != 0)
		return -1;
	if (dir != !!S_ISDIR(st.st_mode)) {
		errno = dir ? ENOTDIR : EISDIR;
		return -1;
	}
	snprintf(p->bind[p->nbinds].path, PATH_MAX, "%s", path);
	p->bind[p->nbinds].fd = -1;
	p->bind[p->nbinds].dir = dir;
	p->nbinds++;
	return 0;
}

/* Record the symbolic links on the way to path, following each. */
static void
plan_links(struct plan *p, const char *path, int depth)
{
	char sub[PATH_MAX], tgt[PATH_MAX], next[PATH_MAX];
	const char *q;
	struct stat st;
	ssize_t n;
	size_t dir;
	int i, dup;

	if (depth > 8 || path[0] != '/')
		return;
	for (q = path + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		snprintf(sub, sizeof(sub), "%.*s", (int)(q - path), path);
		if (lstat(sub, &st) == 0 && S_ISLNK(st.st_mode) &&
		    (n = readlink(sub, tgt, sizeof(tgt) - 1)) > 0) {
			tgt[n] = '\0';
			dup = 0;
			for (i = 0; i < p->nlinks; i++)
				dup |= strcmp(p->link[i].path, sub) == 0;
			if (!dup && p->nlinks < MAXLINKS) {
				snprintf(p->link[p->nlinks].path, PATH_MAX,
				    "%s", sub);
				snprintf(p->link[p->nlinks].target, PATH_MAX,
				    "%s", tgt);
				p->nlinks++;
			}
			dir = tgt[0] == '/' ? 0 :
			    (size_t)(strrchr(sub, '/') - sub) + 1;
			if (dir + strlen(tgt) + strlen(q) >= sizeof(next))
				return;
			memcpy(next, sub, dir);
			strcpy(next + dir, tgt);
			strcat(next, q);
			plan_links(p, next, depth + 1);
			return;
		}
		if (*q == '\0')
			break;
	}
}

static int
plan_make(struct plan *p, const char *exec_path, struct err *e)
{
	char interp[PATH_MAX], real[PATH_MAX], *slash;
	static const char *const libroots[] = {
		"/lib", "/lib64", "/usr/lib64", "/lib32", "/libx32",
	};
	struct stat st;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (realpath(exec_path, p->exe) == NULL)
		return err_errno(e, EXIT_USAGE, "%s", exec_path);
	if (stat(p->exe, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(p->exe, X_OK) != 0)
		return err_set(e, EXIT_USAGE, "%s: not an executable file",
		    exec_path);
	if (elf_interp(p->exe, interp, sizeof(interp)) != 0)
		return err_set(e, EXIT_USAGE, "%s: not a 64-bit ELF executable",
		    exec_path);
	if (plan_bind(p, p->exe, 0) != 0)
		return err_errno(e, EXIT_IO, "%s", p->exe);
	plan_file(p, p->exe);
	if (interp[0] == '\0')
		return 0;	/* static: nothing else to see */
	if (interp[0] != '/' || realpath(interp, real) == NULL)
		return err_set(e, EXIT_USAGE, "%s: cannot find its loader %s",
		    exec_path, interp);
	plan_links(p, interp, 0);
	for (i = 0; i < sizeof(libroots) / sizeof(libroots[0]); i++)
		plan_links(p, libroots[i], 0);
	plan_file(p, real);
	if ((slash = strrchr(real, '/')) != NULL && slash != real)
		*slash = '\0';
	if (plan_bind(p, real, 1) != 0)
		return err_errno(e, EXIT_IO, "%s", real);
	if (access("/etc/ld.so.cache", R_OK) == 0 &&
	    plan_bind(p, "/etc/ld.so.cache", 0) == 0)
		plan_file(p, "/etc/ld.so.cache");
	/* Like ldd: the libraries it needs, from the loader's directory. */
	if (plan_libs(p, real, p->exe, 0) != 0)
		p->nfiles = -1;
	return 0;
}

/* ---- init: the root, then reaping ---- */

static int
mkdirs(char *path)
{
	char *q;

	for (q = path + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			*q = '/';
			return -1;
		}
		*q = '/';
	}
	return 0;
}

static unsigned long
locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = MS_NOSUID | MS_NODEV;

	if (statvfs(path, &sv) != 0)
		return f;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

#define NEWROOT "/tmp"
#define LOCALTIME "/etc/localtime"

/*
 * The compartment's time zone: UTC, as a version 1 TZif file with one
 * type and no transitions. Without it, the C library's first localtime,
 * mktime or strftime (jq's todate, fromdate) opens /etc/localtime, which
 * would be a violation or the host's zone.
 */
static int
write_localtime(void)
{
	static const unsigned char tzif[54] = {
		'T', 'Z', 'i', 'f', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 0,	/* isutcnt */
		0, 0, 0, 0,	/* isstdcnt */
		0, 0, 0, 0,	/* leapcnt */
		0, 0, 0, 0,	/* timecnt */
		0, 0, 0, 1,	/* typecnt */
		0, 0, 0, 4,	/* charcnt */
		0, 0, 0, 0, 0, 0,	/* utoff 0, isdst 0, desigidx 0 */
		'U', 'T', 'C', 0,
	};
	char path[] = NEWROOT LOCALTIME;
	int fd, rc = 0;

	if (mkdirs(path) != 0 ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0)
		return -1;
	if (write(fd, tzif, sizeof(tzif)) != (ssize_t)sizeof(tzif))
		rc = -1;
	close(fd);
	return rc;
}

static int
make_root(const struct setup *s, char *why, size_t len)
{
	char dst[PATH_MAX + 8], src[64];
	int i, fd;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		fill(why, len, "cannot make mounts private: %s", strerror(errno));
		return -1;
	}
	/* Open the sources here (a mount of the caller's namespace cannot
	 * be bound in this one), before the tmpfs hides /tmp. */
	for (i = 0; s->plan != NULL && i < s->plan->nbinds; i++) {
		s->plan->bind[i].fd = open(s->plan->bind[i].path, O_PATH |
		    O_CLOEXEC | (s->plan->bind[i].dir ? O_DIRECTORY : 0));
		if (s->plan->bind[i].fd < 0)
			goto fail;
	}
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0755,size=64k,nr_inodes=64") != 0) {
		fill(why, len, "cannot mount a tmpfs root: %s", strerror(errno));
		return -1;
	}
	for (i = 0; s->plan != NULL && i < s->plan->nlinks; i++) {
		snprintf(dst, sizeof(dst), NEWROOT "%s", s->plan->link[i].path);
		if (mkdirs(dst) != 0 ||
		    symlink(s->plan->link[i].target, dst) != 0) {
			fill(why, len, "cannot create %s: %s",
			    s->plan->link[i].path, strerror(errno));
			return -1;
		}
	}
	for (i = 0; s->plan != NULL && i < s->plan->nbinds; i++) {
		snprintf(dst, sizeof(dst), NEWROOT "%s", s->plan->bind[i].path);
		snprintf(src, sizeof(src), "/proc/self/fd/%d",
		    s->plan->bind[i].fd);
		if (mkdirs(dst) != 0)
			goto fail;
		if (s->plan->bind[i].dir) {
			if (mkdir(dst, 0755) != 0 && errno != EEXIST)
				goto fail;
		} else {
			fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (fd < 0)
				goto fail;
			close(fd);
		}
		if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0 ||
		    mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY |
		    locked_flags(dst), NULL) != 0)
			goto fail;
	}
	/* Move the new root over the old one rather than pivot_root and
	 * unmount: detaching the old root waits for an RCU grace period
	 * (most of a millisecond). The old tree stays below, unreachable:
	 * no fd points into it, chroot and mount are off the allow-list,
	 * and Landlock grants nothing outside the new root. */
	if (write_localtime() != 0) {
		fill(why, len, "cannot create /etc/localtime: %s",
		    strerror(errno));
		return -1;
	}
	if (chdir(NEWROOT) != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 ||
	    chroot(".") != 0 || chdir("/") != 0) {
		fill(why, len, "cannot switch to the new root: %s",
		    strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY |
	    MS_NOSUID | MS_NODEV, NULL) != 0) {
		fill(why, len, "cannot make the root read-only: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
fail:
	fill(why, len, "cannot bind %s: %s", s->plan->bind[i].path,
	    strerror(errno));
	return -1;
}

/* ---- the payload ---- */

static void
payload_fail(const struct setup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void
payload_fail(const struct setup *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int saved = errno;

	msg[0] = 'E';
	va_start(ap, fmt);
	vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (saved != 0) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	(void)send(s->chanfd, msg, strlen(msg), MSG_NOSIGNAL);
	_exit(127);
}

static void
setlimit(const struct setup *s, int res, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = { soft, hard };

	errno = 0;
	if (setrlimit(res, &rl) != 0)
		payload_fail(s, "setrlimit(%d)", res);
}

static void
set_limits(const struct setup *s)
{
	const struct compartment_opts *o = s->o;
	unsigned long procs;

	setlimit(s, RLIMIT_CORE, 0, 0);
	setlimit(s, RLIMIT_FSIZE, o->file_bytes, o->file_bytes);
	setlimit(s, RLIMIT_NOFILE, NOFILE_LIMIT, NOFILE_LIMIT);
	setlimit(s, RLIMIT_MEMLOCK, 0, 0);
	setlimit(s, RLIMIT_MSGQUEUE, 0, 0);
	/* init and the payload share the inner uid: count them. */
	procs = o->exec_path != NULL ?
	    (o->max_procs ? o->max_procs : DEFAULT_PROCS) : 0;
	setlimit(s, RLIMIT_NPROC, procs + 2, procs + 2);
	if (o->cpu_seconds)
		setlimit(s, RLIMIT_CPU, o->cpu_seconds, o->cpu_seconds + 1);
	/* A sanitized caller's function keeps ASan's terabytes of shadow
	 * and its allocator: no memory rlimit for it (sanitize builds). */
	if (!(TI_ASAN && o->fn != NULL))
		setlimit(s, RLIMIT_DATA, s->data_limit, s->data_limit);
}

static void
add_rule(const struct setup *s, int rfd, const char *path, uint64_t access)
{
	struct ll_path_beneath pb;

	errno = 0;
	pb.allowed_access = access;
	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0 ||
	    syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH,
	    &pb, 0) != 0)
		payload_fail(s, "landlock_add_rule %s", path);
	close(pb.parent_fd);
}

static void
set_landlock(const struct setup *s)
{
	struct ll_ruleset_attr attr;
	size_t size = sizeof(uint64_t);
	int rfd, i, abi = s->llabi;

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = (1ULL << 13) - 1;		/* ABI 1 */
	if (abi >= 2)
		attr.handled_access_fs |= 1ULL << 13;		/* REFER */
	if (abi >= 3)
		attr.handled_access_fs |= 1ULL << 14;		/* TRUNCATE */
	if (abi >= 5)
		attr.handled_access_fs |= 1ULL << 15;		/* IOCTL_DEV */
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	errno = 0;
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rfd < 0)
		payload_fail(s, "landlock_create_ruleset");
	add_rule(s, rfd, LOCALTIME, LL_FS_READ_FILE);
	if (s->o->exec_path != NULL && s->plan->nfiles < 0) {
		/* The root holds only the executable, loader and libraries. */
		add_rule(s, rfd, "/", LL_FS_EXECUTE | LL_FS_READ_FILE);
	} else if (s->o->exec_path != NULL) {
		/* Exactly the files the program needs, not their neighbours. */
		for (i = 0; i < s->plan->nfiles; i++)
			add_rule(s, rfd, s->plan->file[i],
			    LL_FS_EXECUTE | LL_FS_READ_FILE);
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) != 0)
		payload_fail(s, "landlock_restrict_self");
	close(rfd);
}

static void
drop_caps(const struct setup *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	errno = 0;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 ||
	    syscall(SYS_capset, &h, d) != 0)
		payload_fail(s, "cannot drop capabilities");
}

static void
map_fds(struct setup *s)
{
	const struct compartment_opts *o = s->o;
	int hi[COMPARTMENT_MAXFDS], chan;
	size_t i;

	int base = s->chan[1] > s->devnull ? s->chan[1] : s->devnull;

	/* Stage every source above all sources and targets, then place. */
	if (base < (int)o->nfds)
		base = (int)o->nfds;
	for (i = 0; i < o->nfds; i++)
		if (o->fds[i] > base)
			base = o->fds[i];
	base++;
	errno = 0;
	for (i = 0; i < o->nfds; i++) {
		int src = o->fds[i] < 0 ? s->devnull : o->fds[i];
		if ((hi[i] = fcntl(src, F_DUPFD_CLOEXEC, base)) < 0)
			payload_fail(s, "fd %d", src);
	}
	if ((chan = fcntl(s->chan[1], F_DUPFD_CLOEXEC, base)) < 0)
		payload_fail(s, "fd");
	for (i = 0; i < o->nfds; i++)
		if (dup2(hi[i], (int)i) != (int)i)
			payload_fail(s, "dup2");
	if (dup3(chan, (int)o->nfds, O_CLOEXEC) != (int)o->nfds)
		_exit(127);
	s->chanfd = (int)o->nfds;
	close_range((unsigned)o->nfds + 1, ~0U, 0);
}

/* Hand the listener to init; c is 'E' if our execve needs its consent. */
static void
send_fd(const struct setup *s, int fd, char c)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(s->chanfd, &mh, MSG_NOSIGNAL) != 1)
		_exit(127);
}

/* The caller's dispositions (an ignored SIGPIPE) and mask stay outside. */
static void
reset_signals(void)
{
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
payload_main(struct setup *s)
{
	const struct compartment_opts *o = s->o;
	struct sock_fprog prog = { s->nbpf, s->bpf };
	char *const envp[] = { NULL };
	char *noenv[] = { NULL };
	char *argv0[2], *path = NULL;
	void *page;
	int lfd;

	s->chanfd = s->chan[1];
	reset_signals();
	if (setsid() < 0)
		payload_fail(s, "setsid");
	map_fds(s);
	set_limits(s);
	drop_caps(s);
	errno = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		payload_fail(s, "no_new_privs");
	set_landlock(s);
	if (o->exec_path != NULL) {
		/* The path for execve, at the address the filter allows. */
		path = s->plan->exe;
		page = mmap((void *)s->exec_at, PATH_MAX + 1,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_FIXED_NOREPLACE, -1, 0);
		if (s->exec_at != 0 && page == (void *)s->exec_at) {
			memcpy(page, s->plan->exe, strlen(s->plan->exe) + 1);
			path = page;
		}
	}
	lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (lfd < 0)
		payload_fail(s, "seccomp");
	/* From here on, only the allow-list. */
	send_fd(s, lfd, path != NULL && path == s->plan->exe ? 'E' : 'L');
	close(lfd);
	if (o->fn != NULL) {
		close(s->chanfd);
		/* Empty, not NULL: libjq's `env` walks environ unchecked. */
		environ = noenv;
		_exit(o->fn(o->arg) & 0xff);
	}
	argv0[0] = s->plan->exe;
	argv0[1] = NULL;
	execve(path, o->exec_argv ? o->exec_argv : argv0, envp);
	payload_fail(s, "cannot execute %s", s->plan->exe);
}

/* ---- the supervisor ---- */

/* Read a NUL-terminated string of the stopped process pid. */
static void
readstr(pid_t pid, unsigned long addr, char *buf, size_t len)
{
	struct iovec l, r;
	size_t n = 0, chunk;
	ssize_t got;
	char *z;

	buf[0] = '\0';
	while (n + 1 < len) {
		chunk = 4096 - ((addr + n) & 4095);
		if (chunk > len - 1 - n)
			chunk = len - 1 - n;
		l.iov_base = buf + n;
		l.iov_len = chunk;
		r.iov_base = (void *)(uintptr_t)(addr + n);
		r.iov_len = chunk;
		got = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (got <= 0)
			break;
		if ((z = memchr(buf + n, '\0', (size_t)got)) != NULL) {
			n = (size_t)(z - buf);
			break;
		}
		n += (size_t)got;
	}
	buf[n] = '\0';
	for (z = buf; *z; z++)
		if ((unsigned char)*z < 0x20 || (unsigned char)*z > 0x7e)
			*z = '?';
}

static const char *
family(unsigned long f, char *buf, size_t len)
{
	switch (f) {
	case AF_UNIX: return "AF_UNIX";
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_NETLINK: return "AF_NETLINK";
	case AF_PACKET: return "AF_PACKET";
	case AF_VSOCK: return "AF_VSOCK";
	case AF_ALG: return "AF_ALG";
	}
	snprintf(buf, len, "%lu", f);
	return buf;
}

static const char *
fcntlname(unsigned long c, char *buf, size_t len)
{
	switch (c) {
	case F_SETLK: return "F_SETLK";
	case F_SETLKW: return "F_SETLKW";
	case F_GETLK: return "F_GETLK";
	case F_OFD_SETLK: return "F_OFD_SETLK";
	case F_OFD_SETLKW: return "F_OFD_SETLKW";
	case F_OFD_GETLK: return "F_OFD_GETLK";
	case F_SETOWN: return "F_SETOWN";
	case F_SETSIG: return "F_SETSIG";
	case F_SETLEASE: return "F_SETLEASE";
	case F_NOTIFY: return "F_NOTIFY";
	case F_SETPIPE_SZ: return "F_SETPIPE_SZ";
	case F_ADD_SEALS: return "F_ADD_SEALS";
	}
	snprintf(buf, len, "%lu", c);
	return buf;
}

static int
open_allowed(const struct setup *s, const char *path, unsigned long flags)
{
	static const char *const dirs[] = {
		"/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/lib32/",
		"/libx32/",
	};
	size_t i;

	if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND |
	    O_PATH)) != 0 || strstr(path, "/..") != NULL)
		return 0;
	if (strcmp(path, LOCALTIME) == 0)
		return 1;	/* our UTC zone file, for everyone */
	if (s->plan == NULL)
		return 0;
	if (strcmp(path, "/etc/ld.so.cache") == 0 ||
	    strcmp(path, s->plan->exe) == 0)
		return 1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return 1;
	return 0;
}

struct sup {
	struct setup *s;
	pid_t payload;
	int lfd;
	int started;
	int exec_by_notify;	/* the payload's execve comes to us */
	int execed;
	unsigned long procs;
	int killed;
	struct compartment_result r;
};

static void
sup_kill(struct sup *v)
{
	/* As pid 1, this kills everything in the namespace but init. */
	if (!v->killed)
		kill(-1, SIGKILL);
	v->killed = 1;
}

static void
violation(struct sup *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
violation(struct sup *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->r.violation && !v->r.limit) {
		v->r.violation = 1;
		va_start(ap, fmt);
		vsnprintf(v->r.what, sizeof(v->r.what), fmt, ap);
		va_end(ap);
	}
	sup_kill(v);
}

static void
limit(struct sup *v, const char *what)
{
	if (!v->r.violation && !v->r.limit) {
		v->r.limit = 1;
		snprintf(v->r.limit_what, sizeof(v->r.limit_what), "%s", what);
	}
	sup_kill(v);
}

/* Decide one notification: 1 to let the call proceed, 0 to fail it. */
static int
judge(struct sup *v, const struct seccomp_notif *n)
{
	const struct setup *s = v->s;
	const __u64 *a = n->data.args;
	long nr = n->data.nr;
	char path[96], tmp[24], *name;
	unsigned long ns;

	if (nr == SCMP_SYS(execve) || nr == SCMP_SYS(execveat)) {
		if (nr == SCMP_SYS(execve) && v->exec_by_notify &&
		    !v->execed && !v->started) {
			v->execed = 1;
			return 1;
		}
		if (nr == SCMP_SYS(execveat) && (a[4] & AT_EMPTY_PATH)) {
			violation(v, "fexecve");
			return 0;
		}
		readstr((pid_t)n->pid,
		    nr == SCMP_SYS(execve) ? a[0] : a[1], path, sizeof(path));
		violation(v, "execve(%s)", path);
		return 0;
	}
	if (nr == SCMP_SYS(open) || nr == SCMP_SYS(openat) ||
	    nr == SCMP_SYS(openat2) || nr == SCMP_SYS(creat)) {
		unsigned long fl = nr == SCMP_SYS(open) ? a[1] :
		    nr == SCMP_SYS(openat) ? a[2] :
		    nr == SCMP_SYS(creat) ? O_CREAT : O_RDWR;
		readstr((pid_t)n->pid,
		    nr == SCMP_SYS(open) || nr == SCMP_SYS(creat) ? a[0] : a[1],
		    path, sizeof(path));
		if (ioctl(v->lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) != 0)
			return 0;
		if (open_allowed(s, path, fl))
			return 1;
		violation(v, "open(%s)", path);
		return 0;
	}
	if (nr == SCMP_SYS(clone) || nr == SCMP_SYS(fork) ||
	    nr == SCMP_SYS(vfork)) {
		ns = nr == SCMP_SYS(clone) ? a[0] & (CLONE_NEWNS |
		    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
		    CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP) : 0;
		if (ns != 0 || s->o->exec_path == NULL) {
			violation(v, ns ? "clone(new namespaces)" : "fork");
			return 0;
		}
		if (v->procs >= (s->o->max_procs ? s->o->max_procs :
		    DEFAULT_PROCS)) {
			limit(v, "processes");
			return 0;
		}
		v->procs++;
		return 1;
	}
	if (nr == SCMP_SYS(socket) || nr == SCMP_SYS(socketpair)) {
		violation(v, "%s(%s)", nr == SCMP_SYS(socket) ? "socket" :
		    "socketpair", family(a[0], tmp, sizeof(tmp)));
		return 0;
	}
	if (nr == SCMP_SYS(fcntl)) {
		violation(v, "fcntl(%s)", fcntlname(a[1], tmp, sizeof(tmp)));
		return 0;
	}
	if (nr == SCMP_SYS(ioctl)) {
		if (a[1] == TIOCSTI)
			violation(v, "ioctl(TIOCSTI)");
		else
			violation(v, "ioctl(0x%lx)", (unsigned long)a[1]);
		return 0;
	}
	if (nr == SCMP_SYS(kill)) {
		violation(v, "kill(%ld)", (long)(int)a[0]);
		return 0;
	}
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	if (name != NULL)
		violation(v, "%s", name);
	else
		violation(v, "system call %ld", nr);
	free(name);
	return 0;
}

static void
notify(struct sup *v)
{
	struct seccomp_notif n;
	struct seccomp_notif_resp resp;

	memset(&n, 0, sizeof(n));
	if (ioctl(v->lfd, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0)
		return;
	memset(&resp, 0, sizeof(resp));
	resp.id = n.id;
	if (judge(v, &n)) {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		resp.error = -EPERM;
	}
	(void)ioctl(v->lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* A message from the payload on chan: its listener fd, or an error. */
static int
chan_read(struct sup *v, char *err, size_t errlen)
{
	char buf[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	n = recvmsg(v->s->chan[0], &mh, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;	/* EOF: exec'd, running fn, or gone */
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&v->lfd, CMSG_DATA(cm), sizeof(int));
	/* Answer on the same CPU the caller stopped on (Linux 6.6): a
	 * notification round trip then costs no scheduling wait. */
	if (v->lfd >= 0)
		(void)ioctl(v->lfd, NOTIF_SET_FLAGS, NOTIF_SYNC_WAKE_UP);
	buf[n] = '\0';
	if (v->lfd >= 0 && n == 1) {
		v->exec_by_notify = buf[0] == 'E';
		return 1;
	}
	if (buf[0] == 'E' && err[0] == '\0')
		snprintf(err, errlen, "%s", buf + 1);
	return 1;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
report(const struct setup *s, int kind, int code, const char *msg,
    const struct compartment_result *r)
{
	struct report rep;

	memset(&rep, 0, sizeof(rep));
	rep.kind = kind;
	rep.code = code;
	if (msg != NULL)
		snprintf(rep.msg, sizeof(rep.msg), "%s", msg);
	if (r != NULL)
		rep.r = *r;
	writeall_(s->rep, &rep, sizeof(rep));
}

static void
classify(struct sup *v, int st, const struct rusage *ru)
{
	const struct compartment_opts *o = v->s->o;
	struct compartment_result *r = &v->r;
	int sig;
	long cpu_ms;
	unsigned long long grown;

	if (WIFEXITED(st)) {
		r->exited = 1;
		r->status = WEXITSTATUS(st);
	} else {
		r->exited = 0;
		r->status = WIFSIGNALED(st) ? WTERMSIG(st) : SIGKILL;
	}
	if (r->violation || r->limit)
		return;
	sig = r->exited ? 0 : r->status;
	if (sig == SIGSYS) {
		r->violation = 1;
		snprintf(r->what, sizeof(r->what),
		    "system call from another ABI");
		return;
	}
	cpu_ms = ru->ru_utime.tv_sec * 1000 + ru->ru_utime.tv_usec / 1000 +
	    ru->ru_stime.tv_sec * 1000 + ru->ru_stime.tv_usec / 1000;
	if (sig == SIGXCPU || (sig == SIGKILL && o->cpu_seconds &&
	    cpu_ms >= (long)o->cpu_seconds * 1000)) {
		limit(v, "cpu");
		return;
	}
	if (sig == SIGXFSZ) {
		limit(v, "file size");
		return;
	}
	/* A failing run whose peak memory came near the limit ran out. */
	grown = ru->ru_maxrss > v->s->base_rss_kb ?
	    (unsigned long long)(ru->ru_maxrss - v->s->base_rss_kb) * 1024 : 0;
	if ((sig != 0 || r->status != 0) && grown >=
	    (o->memory_bytes ? o->memory_bytes : DEFAULT_MEMORY) / 2)
		limit(v, "memory");
}

/* Read the filter the caller sends after the id maps: a count, then BPF. */
static int
read_filter(struct setup *s)
{
	unsigned short n;
	size_t len;

	if (readfull(s->sync[0], &n, sizeof(n)) != 0 || n == 0)
		return -1;
	len = (size_t)n * sizeof(struct sock_filter);
	if ((s->bpf = malloc(len)) == NULL ||
	    readfull(s->sync[0], s->bpf, len) != 0)
		return -1;
	s->nbpf = n;
	return 0;
}

/* Reap every child; 1 once the payload is among them. */
static int
reap(struct sup *v, int *status, struct rusage *ru)
{
	struct rusage r;
	pid_t w;
	int st, done = 0;

	while ((w = wait4(-1, &st, WNOHANG, &r)) > 0 ||
	    (w < 0 && errno == EINTR)) {
		if (w == v->payload) {
			*status = st;
			*ru = r;
			done = 1;
		}
	}
	return done;
}

/*
 * init: pid 1 of the new namespaces, cloned by the caller. It takes the
 * unprivileged id, builds the root, forks the payload, and then is its
 * supervisor: it answers seccomp notifications, enforces the wall clock,
 * reaps, and reports to the caller.
 */
static void
init_main(struct setup *s)
{
	const struct compartment_opts *o = s->o;
	struct sup v;
	struct pollfd pf[3];
	struct rusage ru;
	sigset_t chld;
	char err[256], c;
	long deadline = 0, left;
	int keep[4], nk = 0, chan_open = 1, gone = 0, status = 0, sfd, rc;

	memset(&v, 0, sizeof(v));
	memset(&ru, 0, sizeof(ru));
	v.s = s;
	v.lfd = -1;
	err[0] = '\0';
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(s->sync[1]);
	/* Wait for the caller to write the id maps (EOF: it failed or died). */
	if (read(s->sync[0], &c, 1) != 1)
		_exit(127);
	if (o->timeout_ms)
		deadline = now_ms() + (long)o->timeout_ms;
	/* A root caller's groups would follow us in: drop them. */
	if (s->root && setgroups(0, NULL) != 0) {
		snprintf(err, sizeof(err), "setgroups: %s", strerror(errno));
		goto setup_fail;
	}
	if (setresgid(INNER_ID, INNER_ID, INNER_ID) != 0 ||
	    setresuid(INNER_ID, INNER_ID, INNER_ID) != 0) {
		snprintf(err, sizeof(err), "cannot take the compartment's ids: %s",
		    strerror(errno));
		goto setup_fail;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* Leaving root made us undumpable; a forked function inherits that
	 * and its strings could not be read for the violation report. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	s->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (s->devnull < 0) {
		snprintf(err, sizeof(err), "/dev/null: %s", strerror(errno));
		goto setup_fail;
	}
	if (make_root(s, err, sizeof(err)) != 0)
		goto setup_fail;
	(void)sethostname("ti", 2);
	/* The caller built the seccomp filter while we built the root. */
	if (read_filter(s) != 0) {
		snprintf(err, sizeof(err), "no seccomp filter from the caller");
		goto setup_fail;
	}
	close(s->sync[0]);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->chan) != 0) {
		snprintf(err, sizeof(err), "signalfd, socketpair: %s",
		    strerror(errno));
		goto setup_fail;
	}
	if ((v.payload = fork()) < 0) {
		snprintf(err, sizeof(err), "fork: %s", strerror(errno));
		goto setup_fail;
	}
	if (v.payload == 0)
		payload_main(s);
	close(s->chan[1]);
	keep[nk++] = s->rep;
	keep[nk++] = s->chan[0];
	keep[nk++] = sfd;
	closeexcept(keep, nk);

	while (!gone) {
		int np = 0, ichan = -1, il = -1, isig;

		if (chan_open) {
			pf[np].fd = s->chan[0];
			pf[np].events = POLLIN;
			ichan = np++;
		}
		if (v.lfd >= 0) {
			pf[np].fd = v.lfd;
			pf[np].events = POLLIN;
			il = np++;
		}
		pf[np].fd = sfd;
		pf[np].events = POLLIN;
		isig = np++;
		left = -1;
		if (deadline && !v.killed) {
			left = deadline - now_ms();
			if (left <= 0) {
				limit(&v, "wall time");
				continue;
			}
		}
		rc = poll(pf, (nfds_t)np, (int)(left > INT_MAX ? INT_MAX : left));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			_exit(127);
		if (ichan >= 0 && pf[ichan].revents) {
			if (!chan_read(&v, err, sizeof(err))) {
				chan_open = 0;
				close(s->chan[0]);
				if (err[0] == '\0' && !v.started && v.lfd >= 0) {
					v.started = 1;
					report(s, REP_STARTED, 0, NULL, NULL);
				}
			}
		}
		if (il >= 0 && (pf[il].revents & POLLIN))
			notify(&v);
		else if (il >= 0 && (pf[il].revents & (POLLHUP | POLLERR))) {
			close(v.lfd);
			v.lfd = -1;
		}
		if (pf[isig].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			gone = reap(&v, &status, &ru);
		}
	}
	if (chan_open)		/* an error message may still be queued */
		while (chan_read(&v, err, sizeof(err)))
			;
	if (err[0] != '\0' && !v.started)
		goto setup_fail;
	if (!v.started)
		report(s, REP_STARTED, 0, NULL, NULL);
	classify(&v, status, &ru);
	report(s, REP_RESULT, 0, NULL, &v.r);
	_exit(0);
setup_fail:
	report(s, REP_ERROR, EXIT_IO, err, NULL);
	_exit(127);
}

/* ---- the caller's side ---- */

static long
status_kb(const char *key)
{
	char buf[4096], *p;
	int fd;
	ssize_t n;
	long v = 0;

	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strstr(buf, key)) != NULL)
		v = strtol(p + strlen(key), NULL, 10);
	return v;
}

/* writeall on a socket, without SIGPIPE if the other end is gone. */
static int
sendall(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Map the child's user namespace: inside, one id (INNER_ID) standing for
 * the caller's own uid and gid, or for the unused UNPRIV_ID when the
 * caller is root (root is exempt from RLIMIT_NPROC and owns host files).
 */
static int
write_maps(pid_t pid, int root, struct err *e)
{
	char path[64], map[64];
	unsigned long uid = root ? UNPRIV_ID : (unsigned long)geteuid();
	unsigned long gid = root ? UNPRIV_ID : (unsigned long)getegid();

	/* Unprivileged, setgroups must be denied before gid_map is written;
	 * root keeps it so that init can drop root's groups. */
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	if (!root && writefile(path, "deny") != 0)
		return err_errno(e, EXIT_IO, "cannot map ids (%s)", path);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(map, sizeof(map), "%d %lu 1\n", INNER_ID, uid);
	if (writefile(path, map) != 0)
		return err_errno(e, EXIT_IO, "cannot map ids (%s)", path);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(map, sizeof(map), "%d %lu 1\n", INNER_ID, gid);
	if (writefile(path, map) != 0)
		return err_errno(e, EXIT_IO, "cannot map ids (%s)", path);
	return 0;
}

int
compartment_start(const struct compartment_opts *o, struct compartment **cp,
    struct err *e)
{
	struct setup s;
	struct plan *plan = NULL;
	struct compartment *c = NULL;
	int rp[2] = { -1, -1 };
	pid_t pid;

	*cp = NULL;
	memset(&s, 0, sizeof(s));
	if (e != NULL)
		e->msg[0] = '\0';
	if (o->backend != NULL && strcmp(o->backend, "linux") != 0) {
		if (strcmp(o->backend, "morello") == 0)
			return err_set(e, EXIT_USAGE, "the morello compartment "
			    "is only built on CheriBSD");
		return err_set(e, EXIT_USAGE, "unknown compartment backend: %s",
		    o->backend);
	}
	if ((o->fn == NULL) == (o->exec_path == NULL))
		return err_set(e, EXIT_USAGE,
		    "a compartment runs either a function or an executable");
	if (o->nfds > COMPARTMENT_MAXFDS)
		return err_set(e, EXIT_USAGE, "too many fds for a compartment");
	if ((s.llabi = landlock_abi()) < 1)
		return err_set(e, EXIT_IO, "Landlock is not available in this "
		    "kernel: refusing to run without it");
	s.o = o;
	s.chanfd = (int)o->nfds;
	if (o->exec_path != NULL) {
		if ((plan = calloc(1, sizeof(*plan))) == NULL)
			return err_errno(e, EXIT_IO, "malloc");
		if (plan_make(plan, o->exec_path, e) != 0)
			goto fail;
		s.plan = plan;
	}
	if (o->exec_path != NULL) {
		uint64_t r;

		/* Page aligned, between 16 TiB and 112 TiB. */
		if (getrandom(&r, sizeof(r), 0) == (ssize_t)sizeof(r))
			s.exec_at = (uintptr_t)(0x100000000000ULL +
			    (r % 0x600000000000ULL)) & ~(uintptr_t)0xfff;
	}
	s.data_limit = o->memory_bytes ? o->memory_bytes : DEFAULT_MEMORY;
	if (o->fn != NULL) {
		/* fn keeps the caller's mappings: the limit is on growth. */
		s.data_limit += (unsigned long long)status_kb("VmData:") * 1024;
		s.base_rss_kb = status_kb("VmRSS:");
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_errno(e, EXIT_IO, "malloc");
		goto fail;
	}
	if (pipe2(rp, O_CLOEXEC) != 0) {
		err_errno(e, EXIT_IO, "pipe");
		goto fail;
	}
	s.rep = rp[1];
	s.root = geteuid() == 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s.sync) != 0) {
		err_errno(e, EXIT_IO, "socketpair");
		goto fail;
	}
	fflush(NULL);
	/* Like fork, with the new namespaces: the child is their init. */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWPID |
	    CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
	    CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0) {
		err_errno(e, EXIT_IO, "cannot create namespaces");
		close(s.sync[0]);
		close(s.sync[1]);
		goto fail;
	}
	if (pid == 0)
		init_main(&s);
	close(s.sync[0]);
	/* Build the filter while init builds the root: both take a while. */
	if (write_maps(pid, s.root, e) != 0 || sendall(s.sync[1], "", 1) != 0 ||
	    build_filter(&s, e) != 0 ||
	    sendall(s.sync[1], &s.nbpf, sizeof(s.nbpf)) != 0 ||
	    sendall(s.sync[1], s.bpf,
	    (size_t)s.nbpf * sizeof(struct sock_filter)) != 0) {
		struct report rep;

		if (e != NULL && e->msg[0] == '\0')
			err_errno(e, EXIT_IO, "compartment");
		close(s.sync[1]);
		close(rp[1]);
		rp[1] = -1;
		/* init may have said why it stopped reading. */
		if (readfull(rp[0], &rep, sizeof(rep)) == 0 &&
		    rep.kind == REP_ERROR)
			err_set(e, rep.code ? rep.code : EXIT_IO,
			    "compartment: %s", rep.msg);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto fail;
	}
	close(s.sync[1]);
	close(rp[1]);
	rp[1] = -1;
	c->pid = pid;
	c->rfd = rp[0];
	rp[0] = -1;
	free(plan);
	free(s.bpf);
	*cp = c;
	return 0;
fail:
	if (rp[0] >= 0)
		close(rp[0]);
	if (rp[1] >= 0)
		close(rp[1]);
	free(plan);
	free(s.bpf);
	free(c);
	return -1;
}

int
compartment_wait(struct compartment *c, struct compartment_result *r,
    struct err *e)
{
	struct report rep;
	int st;

	if (!c->done) {
		memset(&c->r, 0, sizeof(c->r));
		/* init was killed (so was everything inside) unless it says. */
		c->r.exited = 0;
		c->r.status = SIGKILL;
		while (readfull(c->rfd, &rep, sizeof(rep)) == 0) {
			if (rep.kind == REP_RESULT) {
				c->r = rep.r;
				break;
			}
			if (rep.kind == REP_ERROR) {
				c->failed = 1;
				c->code = rep.code ? rep.code : EXIT_IO;
				snprintf(c->msg, sizeof(c->msg), "%s", rep.msg);
				break;
			}
		}
		close(c->rfd);
		c->rfd = -1;
		while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
			;
		c->done = 1;
	}
	*r = c->r;
	if (c->failed)
		return err_set(e, c->code, "compartment: %s", c->msg);
	return 0;
}

void
compartment_kill(struct compartment *c)
{
	if (c != NULL && !c->done)
		kill(c->pid, SIGKILL);
}

void
compartment_free(struct compartment *c)
{
	struct compartment_result r;

	if (c == NULL)
		return;
	if (!c->done) {
		compartment_kill(c);
		compartment_wait(c, &r, NULL);
	}
	free(c);
}

int
compartment_exitcode(const struct compartment_result *r, char *msg,
    size_t msglen)
{
	if (msglen > 0)
		msg[0] = '\0';
	if (r->violation) {
		fill(msg, msglen, "compartment violation: %s", r->what);
		return EXIT_VIOLATION;
	}
	if (r->limit) {
		fill(msg, msglen, "resource limit: %s", r->limit_what);
		return EXIT_LIMIT;
	}
	if (r->exited && r->status == 0)
		return EXIT_OK;
	if (r->exited)
		fill(msg, msglen, "program exited with status %d", r->status);
	else
		fill(msg, msglen, "program killed by signal %d", r->status);
	return EXIT_PROGRAM;
}
