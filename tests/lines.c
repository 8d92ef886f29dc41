/* SPDX-License-Identifier: MIT */
#include "lines.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

int test_wait_fd(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, timeout_ms) == 1 ? 0 : -ETIMEDOUT;
}

int test_read_line(int fd, char *buf, size_t cap, size_t *len, char *out, size_t size,
		   int timeout_ms)
{
	char *nl;
	ssize_t n;

	while (!(nl = memchr(buf, '\n', *len))) {
		if (*len == cap || test_wait_fd(fd, timeout_ms) < 0)
			return -ETIMEDOUT;
		n = read(fd, buf + *len, cap - *len);
		if (n <= 0)
			return -EPIPE;
		*len += (size_t)n;
	}
	*nl = '\0';
	n = nl - buf;
	if ((size_t)n >= size)
		return -EMSGSIZE;
	memcpy(out, buf, (size_t)n + 1);
	*len -= (size_t)(nl + 1 - buf);
	memmove(buf, nl + 1, *len);
	return 0;
}
