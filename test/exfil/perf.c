/* perf_event_open: kernel and hardware side channels. */
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include "exfil.h"

int
main(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof(a);
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	if (syscall(SYS_perf_event_open, &a, 0, -1, -1, 0) < 0)
		blocked("perf_event_open");
	escaped("perf_event_open");
}
