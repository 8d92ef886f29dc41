/* SPDX-License-Identifier: MIT */
/*
 * Closed TLS connections: their last bytes, then a lingering close.
 *
 * MHD closes a connection once it has handed GnuTLS the last bytes of
 * it (a response with "Connection: close", a refusal before the body is
 * read, a TLS close_notify), and http-tls.c may still hold some of them
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
#define DRAIN_CHUNK 16384

struct http_linger {
	struct http_server *server;
	int fd;				/* our dup() of the socket */
	char *buf;
	size_t len;			/* bytes still to write; then the drain */
	unsigned open;			/* handles not closed yet */
	uv_poll_t poll;
	uv_timer_t timer;
	struct http_linger *prev, *next;	/* server->lingering */
};

static void linger_closed(uv_handle_t *h)
{
	struct http_linger *l = h->data;

	if (--l->open)
		return;
	free(l->buf);
	free(l);
}

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
	uv_close((uv_handle_t *)&l->poll, linger_closed);	/* stops watching fd */
	uv_close((uv_handle_t *)&l->timer, linger_closed);
	close(l->fd);
}

/* Read and drop what the client sends: false once it is done. */
static bool drain(int fd)
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

static void linger_ready(uv_poll_t *p, int status, int events)
{
	struct http_linger *l = p->data;
	int error = 0;

	(void)events;
	if (status < 0) {
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
		uv_poll_start(&l->poll, UV_READABLE, linger_ready);
	}
	if (!drain(l->fd))
		linger_end(l);
}

static void linger_timeout(uv_timer_t *t)
{
	linger_end(t->data);
}

/* Whether the client of fd may still send or read: it has not closed. */
static bool peer_open(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

bool http_linger(struct http_server *s, int fd, char *buf, size_t len)
{
	struct http_linger *l;

	if (s->stopping || s->n_lingering >= LINGER_MAX || (!len && !peer_open(fd)))
		return false;
	l = calloc(1, sizeof(*l));
	if (!l)
		return false;
	l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (l->fd < 0 || uv_poll_init(s->uv, &l->poll, l->fd) < 0) {
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return false;
	}
	l->server = s;
	l->buf = buf;
	l->len = len;
	l->poll.data = l->timer.data = l;
	uv_timer_init(s->uv, &l->timer);
	l->open = 2;
	if (len) {
		uv_poll_start(&l->poll, UV_WRITABLE, linger_ready);
	} else {
		(void)shutdown(l->fd, SHUT_WR);
		uv_poll_start(&l->poll, UV_READABLE, linger_ready);
	}
	uv_timer_start(&l->timer, linger_timeout, LINGER_MS, 0);
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
