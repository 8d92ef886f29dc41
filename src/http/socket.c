/* SPDX-License-Identifier: MIT */
/*
 * A client's socket, below TLS: writing what GnuTLS made (tls.c, and
 * linger.c for a closed connection's last bytes), and reading what a
 * client sends after its answer (linger.c). Every call is non-blocking.
 */
#include "http/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define DRAIN_CHUNK 16384

/*
 * MHD corks a TLS socket (TCP_CORK) before a write it means to follow with
 * more, and pushes with TCP_NODELAY after the last one; its setsockopt()
 * calls now come before the bytes reach the socket, so a cork it set
 * would hold them (up to 200 ms). What is written here is all there is to
 * write now: it is uncorked after, which pushes it. MHD believes the
 * socket corked and does not cork it again; its buffering is this file's.
 */
int http_send_all(int fd, char *buf, size_t *len, int *error)
{
	static const int off = 0;
	size_t done = 0;
	ssize_t n;

	while (done < *len) {
		n = send(fd, buf + done, *len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			done += (size_t)n;
		} else if (errno != EINTR) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			*error = errno;
			*len = 0;
			return -1;
		}
	}
	if (done)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	memmove(buf, buf + done, *len - done);
	*len -= done;
	return 0;
}

/* linger.c: what the client still sends is dropped. */
bool http_drain(int fd)
{
	char junk[DRAIN_CHUNK];
	ssize_t n;

	for (;;) {
		n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

/* Whether the client of fd may still send or read: it has not closed. */
bool http_peer_open(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}
