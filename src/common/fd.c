/* SPDX-License-Identifier: MIT */
/* EINTR-safe descriptor I/O (common/fd.h). */
#include "common/fd.h"

#include <errno.h>
#include <unistd.h>

ssize_t dhp_fd_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t dhp_fd_write(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t dhp_fd_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = dhp_fd_read(fd, (char *)buf + done, len - done);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int dhp_fd_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = dhp_fd_write(fd, (const char *)buf + done, len - done);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int dhp_fd_close(int fd)
{
	if (fd < 0)
		return 0;
	if (close(fd) < 0 && errno != EINTR)
		return -errno;
	return 0;
}
