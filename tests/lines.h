/* SPDX-License-Identifier: MIT */
/*
 * Reading a peer's lines in tests that play one side of a line protocol
 * (t1100 and t1150 play dhpd and applications to dhp-agent).
 */
#ifndef DHP_TESTS_LINES_H
#define DHP_TESTS_LINES_H

#include <stddef.h>

/* Wait until fd is readable: 0, or -ETIMEDOUT after timeout_ms. */
int test_wait_fd(int fd, int timeout_ms);

/*
 * The next line from fd into out (NUL terminated, no newline). buf (cap
 * bytes, *len of them held) keeps what was read past the line, for the
 * next call. 0; -ETIMEDOUT when no whole line came within timeout_ms (or
 * buf is full without one); -EPIPE at end of file; -EMSGSIZE when the line
 * does not fit in out (it stays in buf).
 */
int test_read_line(int fd, char *buf, size_t cap, size_t *len, char *out, size_t size,
		   int timeout_ms);

#endif
