/*
 * libFuzzer: the plaintext input path of ti-run's jq worker: the batch
 * splitter over raw bytes, then the worker itself (jqrun_main running
 * "." over the bytes as its record stream, framed as ti-run frames it),
 * and the program check over the same bytes as program text.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io.h"
#include "jqrun.h"

const char *PROG = "fuzz_jq";

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jqrun_split sp;
	struct jqrun_frame f;
	struct jqrun_opts o;
	struct err e;
	size_t cut, half;
	char *prog;
	int in, out;

	memset(&sp, 0, sizeof(sp));
	half = size / 2;
	cut = jqrun_split_scan(&sp, data, half);
	if (cut > half || (cut > 0 && data[cut - 1] != '\n'))
		abort();
	cut = jqrun_split_scan(&sp, data + half, size - half);
	if (cut > size - half)
		abort();

	if ((prog = malloc(size + 1)) == NULL)
		abort();
	memcpy(prog, data, size);
	prog[size] = '\0';
	jqrun_check(prog, &e);
	free(prog);

	if ((in = memfd_create("fuzz_jq", 0)) < 0 ||
	    (out = open("/dev/null", O_WRONLY)) < 0)
		abort();
	f.type = JQRUN_F_DATA;
	f.len = (uint32_t)size;
	writeall(in, &f, sizeof(f));
	writeall(in, data, size);
	f.type = JQRUN_F_END;
	f.len = 0;
	writeall(in, &f, sizeof(f));
	lseek(in, 0, SEEK_SET);
	memset(&o, 0, sizeof(o));
	jqrun_main(".", jv_object(), jv_array(), &o, in, out);
	close(in);
	close(out);
	return 0;
}
