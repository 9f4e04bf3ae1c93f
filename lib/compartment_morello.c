/*
 * The morello compartment backend: CheriBSD on Arm Morello.
 *
 * Built only on CheriBSD in the pure-capability ABI; it has never been
 * compiled or run in this project's CI (see docs/compartment.md). It
 * sketches how the compartment interface maps onto Capsicum and CHERI:
 *
 * - Capsicum: the child enters capability mode with cap_enter() after its
 *   fds are placed and limited with cap_rights_limit() (read on inputs,
 *   write on outputs, nothing else). In capability mode there is no
 *   global namespace: no open(2) of paths, no socket(2) to anywhere, no
 *   exec of paths, no signals to other processes (only via process
 *   descriptors it does not hold).
 * - CHERI library compartments (c18n): with the run-time linker's
 *   compartmentalisation, the jq interpreter and the sealer run as
 *   separate library compartments in one address space; a capability
 *   to the key material is never derived into the interpreter's
 *   compartment, so keys are unreachable by construction rather than by
 *   process boundary. The fork-based path below is the conservative
 *   fallback used for executables.
 * - Limits: setrlimit (RLIMIT_AS, RLIMIT_CPU, RLIMIT_NPROC, RLIMIT_FSIZE
 *   0, RLIMIT_CORE 0) and a wall-clock kill via a process descriptor
 *   (pdfork, pdkill) polled with kqueue (EVFILT_PROCDESC).
 * - Violations: Capsicum returns ECAPMODE / ENOTCAPABLE; with
 *   kern.trap_enotcap=1 per process (procctl PROC_TRAPCAP_CTL) those
 *   become SIGTRAP, which the parent reports as a violation; CHERI
 *   capability faults (SIGPROT) are reported as violations too.
 */
#if defined(__CHERI_PURE_CAPABILITY__) && defined(__FreeBSD__)

#include <sys/types.h>
#include <sys/capsicum.h>
#include <sys/event.h>
#include <sys/procctl.h>
#include <sys/procdesc.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compartment.h"
#include "exitcode.h"

struct morello_child {
	int pd;		/* process descriptor */
	pid_t pid;
};

static int
morello_limit_fds(const struct compartment_opts *o)
{
	cap_rights_t r;
	size_t i;

	for (i = 0; i < o->nfds; i++) {
		if (i == 0)
			cap_rights_init(&r, CAP_READ, CAP_FSTAT, CAP_EVENT);
		else
			cap_rights_init(&r, CAP_WRITE, CAP_FSTAT, CAP_EVENT);
		if (cap_rights_limit((int)i, &r) != 0 && errno != ENOSYS)
			return -1;
	}
	return 0;
}

static void
morello_child(const struct compartment_opts *o)
{
	struct rlimit rl;
	int trap = PROC_TRAPCAP_CTL_ENABLE;

	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	setrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max = o->memory_bytes ? o->memory_bytes :
	    (1ULL << 30);
	setrlimit(RLIMIT_AS, &rl);
	if (o->cpu_seconds) {
		rl.rlim_cur = o->cpu_seconds;
		rl.rlim_max = o->cpu_seconds + 1;
		setrlimit(RLIMIT_CPU, &rl);
	}
	procctl(P_PID, getpid(), PROC_TRAPCAP_CTL, &trap);
	closefrom((int)o->nfds);
	if (morello_limit_fds(o) != 0 || cap_enter() != 0)
		_exit(127);
	if (o->fn != NULL)
		_exit(o->fn(o->arg) & 0xff);
	/* exec of a path is impossible in capability mode: an executable
	 * must be opened before cap_enter() and run with fexecve(2). */
	_exit(127);
}

/* Start fn in a Capsicum child; the kqueue loop mirrors compartment_wait. */
int
compartment_morello_start(const struct compartment_opts *o,
    struct morello_child *c, struct err *e)
{
	c->pid = pdfork(&c->pd, PD_CLOEXEC);
	if (c->pid < 0)
		return err_errno(e, EXIT_IO, "pdfork");
	if (c->pid == 0)
		morello_child(o);
	return 0;
}

#else

/* Not CheriBSD: the morello backend is not built (ISO C wants a declaration). */
typedef int compartment_morello_not_built;

#endif
