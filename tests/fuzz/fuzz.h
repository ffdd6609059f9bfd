/* fuzz.h: what the libFuzzer targets share: an input as a file without
 * touching the disk (memfd), and a check that aborts so libFuzzer keeps the
 * input that broke a promise of the code under test. */
#ifndef CP_FUZZ_H
#define CP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A broken property is a crash: libFuzzer saves the input and stops. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* A memfd holding data[0..len), rewound. Its path for the loaders is
 * /proc/self/fd/FD (a regular file, as they require). -1 on failure. */
int fuzz_memfd(const char *name, const uint8_t *data, size_t len);
/* Writes "/proc/self/fd/FD" into buf. */
void fuzz_fd_path(char *buf, size_t len, int fd);

/* Quiet the program's own logging (errors in inputs are expected). */
void fuzz_quiet(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
