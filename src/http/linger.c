/* SPDX-License-Identifier: MIT */
/*
 * Closed TLS connections: their last bytes, then a lingering close.
 *
 * MHD closes a connection once it has handed GnuTLS the last bytes of
 * it (a response with "Connection: close", a refusal before the body is
 * read, a TLS close_notify), and tls.c may still hold some of them
 * then (the client is not reading). And a client may still be sending
 * when MHD closes: a request refused from its headers (413, 415, 431)
 * leaves its body unread. Closing a socket with unread bytes makes the
 * kernel send a reset, which can reach the client before it has read the
 * answer: it sees "connection reset" instead of the 413.
 *
 * So a closed connection whose client has not closed its side lingers
 * here on a dup() of its socket (MHD closes its own descriptor as
 * usual): the bytes left are written, the socket is half-closed
 * (shutdown SHUT_WR: the client reads the end), and what the client
 * still sends is read and dropped until it closes, an error, or
 * LINGER_MS, whichever is first (RFC 9112 §9.6, a lingering close).
 * At most LINGER_MAX connections linger; past that they are closed at
 * once, as MHD would. When dhpd stops, lingering connections end at
 * once (http_free).
 */
#include "http/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINGER_MS 10000u
#define LINGER_MAX 256u

struct http_linger {
	struct http_server *server;
	int fd;				/* our dup() of the socket */
	char *buf;
	size_t len;			/* bytes still to write; then the drain */
	struct dhp_io *io;
	struct dhp_timer *timer;
	struct http_linger *prev, *next;	/* server->lingering */
};

static void linger_end(struct http_linger *l)
{
	struct http_server *s = l->server;

	if (l->prev)
		l->prev->next = l->next;
	else
		s->lingering = l->next;
	if (l->next)
		l->next->prev = l->prev;
	s->n_lingering--;
	dhp_io_cancel(s->loop, l->io);	/* before fd closes */
	dhp_timer_cancel(s->loop, l->timer);
	close(l->fd);
	free(l->buf);
	free(l);
}

static void linger_ready(void *arg, unsigned events)
{
	struct http_linger *l = arg;
	int error = 0;

	if (events & DHP_IO_ERROR) {
		linger_end(l);
		return;
	}
	if (l->len) {
		if (http_send_all(l->fd, l->buf, &l->len, &error) < 0) {
			linger_end(l);
			return;
		}
		if (l->len)
			return;		/* the socket is full again */
		(void)shutdown(l->fd, SHUT_WR);
		dhp_io_modify(l->server->loop, l->io, DHP_IO_READ);
	}
	if (!http_drain(l->fd))
		linger_end(l);
}

static void linger_timeout(void *arg)
{
	struct http_linger *l = arg;

	l->timer = NULL;
	linger_end(l);
}

bool http_linger(struct http_server *s, int fd, char *buf, size_t len)
{
	struct http_linger *l;

	if (s->stopping || s->n_lingering >= LINGER_MAX || (!len && !http_peer_open(fd)))
		return false;
	l = calloc(1, sizeof(*l));
	if (!l)
		return false;
	l->server = s;
	l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (l->fd >= 0 && !len)
		(void)shutdown(l->fd, SHUT_WR);
	if (l->fd >= 0)
		l->io = dhp_io_add(s->loop, l->fd, len ? DHP_IO_WRITE : DHP_IO_READ, linger_ready, l);
	if (l->io)
		l->timer = dhp_timer_add(s->loop, LINGER_MS, linger_timeout, l);
	if (!l->timer) {
		dhp_io_cancel(s->loop, l->io);
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return false;
	}
	l->buf = buf;
	l->len = len;
	l->next = s->lingering;
	if (s->lingering)
		s->lingering->prev = l;
	s->lingering = l;
	s->n_lingering++;
	return true;
}

void http_linger_stop(struct http_server *s)
{
	while (s->lingering)
		linger_end(s->lingering);
}
