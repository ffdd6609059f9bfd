/* fuzz_util.c: helpers shared by the fuzz targets (see fuzz.h). */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

int
fuzz_memfd(const char *name, const uint8_t *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void
fuzz_fd_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

void
fuzz_quiet(void)
{
	log_set_level(LOG_LVL_ERROR);
}
