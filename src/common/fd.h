/* SPDX-License-Identifier: MIT */
/*
 * read(2), write(2) and close(2) without the hand-written EINTR loops.
 *
 * For descriptors that block, or whose EAGAIN the caller handles itself
 * after a single call (dhp_fd_read, dhp_fd_write). A loop that must stop
 * on a signal on purpose (dhp-agent's offline timer, agent/sysfs.c) does
 * not use them: these restart after every EINTR.
 *
 * Linked by dhp-agent and libdhp as well as the core library: libc only,
 * never dhp_error (callers word their own errors). dhp_fd_*, not dhp_*:
 * libdhp's public names (dhp_close, ...) are dhp_ followed by a verb.
 */
#ifndef DHP_COMMON_FD_H
#define DHP_COMMON_FD_H

#include <stddef.h>
#include <sys/types.h>

/* One read(2), restarted after EINTR: the bytes read (0 at end of file),
 * or -errno (-EAGAIN from a non-blocking descriptor). */
ssize_t dhp_fd_read(int fd, void *buf, size_t len);

/* One write(2), restarted after EINTR: the bytes written, which may be
 * fewer than len, or -errno. For a write that must reach its file in one
 * piece (a sysfs store, an eventfd). */
ssize_t dhp_fd_write(int fd, const void *buf, size_t len);

/* Read until len bytes or end of file: the bytes read (fewer than len only
 * at end of file), or -errno; what was read before an error is lost. */
ssize_t dhp_fd_read_full(int fd, void *buf, size_t len);

/* Write all len bytes, through short writes and EINTR: 0, or -errno (-EIO
 * when write returns 0). On failure an unknown part may have been written.
 * Not for non-blocking descriptors: -EAGAIN does not say how much went. */
int dhp_fd_write_full(int fd, const void *buf, size_t len);

/* close(2): 0 or -errno. EINTR counts as closed: Linux releases the
 * descriptor before it can fail so, and closing it again could close one
 * another thread has just opened. fd < 0 is 0. */
int dhp_fd_close(int fd);

#endif
