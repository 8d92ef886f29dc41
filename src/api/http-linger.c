/* SPDX-License-Identifier: MIT */
/*
 * Closed TLS connections still writing their last bytes.
 *
 * http-tls.c holds a connection's TLS records until the end of the turn
 * of the loop. MHD closes a connection once it has handed GnuTLS the last
 * of them (a response with "Connection: close", a refusal before the body
 * is read, a TLS close_notify); when the socket could not take them all
 * right then (the client is not reading), the connection lingers here: a
 * dup() of its socket keeps it open until the bytes are written, the
 * client goes, or LINGER_MS passes. This is what MHD itself would have
 * done, waiting for the socket before closing it. When dhpd stops,
 * lingering connections end at once (http_free).
 */
#include "api/http-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define LINGER_MS 10000u

struct http_linger {
	struct http_server *server;
	int fd;				/* our dup() of the socket */
	char *buf;
	size_t len;
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
	uv_close((uv_handle_t *)&l->poll, linger_closed);	/* stops watching fd */
	uv_close((uv_handle_t *)&l->timer, linger_closed);
	close(l->fd);
}

static void linger_writable(uv_poll_t *p, int status, int events)
{
	struct http_linger *l = p->data;
	int error = 0;

	(void)events;
	if (status < 0 || http_send_all(l->fd, l->buf, &l->len, &error) < 0 || !l->len)
		linger_end(l);
}

static void linger_timeout(uv_timer_t *t)
{
	linger_end(t->data);
}

void http_linger(struct http_server *s, int fd, char *buf, size_t len)
{
	struct http_linger *l = calloc(1, sizeof(*l));

	if (!l) {
		free(buf);
		return;
	}
	l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (l->fd < 0 || uv_poll_init(s->uv, &l->poll, l->fd) < 0) {
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		free(buf);
		return;
	}
	l->server = s;
	l->buf = buf;
	l->len = len;
	l->poll.data = l->timer.data = l;
	uv_timer_init(s->uv, &l->timer);
	l->open = 2;
	uv_poll_start(&l->poll, UV_WRITABLE, linger_writable);
	uv_timer_start(&l->timer, linger_timeout, LINGER_MS, 0);
	l->next = s->lingering;
	if (s->lingering)
		s->lingering->prev = l;
	s->lingering = l;
}

void http_linger_stop(struct http_server *s)
{
	while (s->lingering)
		linger_end(s->lingering);
}
