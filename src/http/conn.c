/* SPDX-License-Identifier: MIT */
/*
 * A connection's deadline for a request's headers.
 *
 * libmicrohttpd's timeout (MHD_OPTION_CONNECTION_TIMEOUT) is an idle
 * timeout: every byte received restarts it, so a client that sends one
 * header line every few seconds holds its connection (and one of
 * max_connections) for as long as it likes ("slowloris"). Here a
 * connection must send a request's whole headers within
 * limits.header_timeout_ms of opening, or of the previous answer; else it
 * is closed, without an answer, as nginx does at its
 * client_header_timeout. The TLS handshake counts: it comes before the
 * headers. The body and the answer keep MHD's idle timeout.
 *
 * The deadline is the same for every connection, so the connections
 * reading headers are a list in deadline order (a new one goes last) and
 * one timer, armed for the first, serves them all.
 *
 * MHD has no call to close one of its connections. shutdown() of its
 * socket does: MHD's epoll set reports the socket readable, MHD reads
 * its end, and closes the connection as if the client had.
 */
#include "http/internal.h"

#include <stdlib.h>
#include <sys/socket.h>

static void arm(struct http_server *s);

static void unlink_conn(struct http_server *s, struct http_conn *c)
{
	if (!c->headers_due)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->waiting = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->waiting_tail = c->prev;
	c->prev = c->next = NULL;
	c->headers_due = 0;
}

static void wait_headers(struct http_server *s, struct http_conn *c)
{
	unlink_conn(s, c);
	if (!s->limits.header_timeout_ms || s->stopping)
		return;		/* stopping: MHD ends every request, none waits */
	c->headers_due = dhp_loop_now(s->loop) + s->limits.header_timeout_ms;
	c->prev = s->waiting_tail;
	if (s->waiting_tail)
		s->waiting_tail->next = c;
	else
		s->waiting = c;
	s->waiting_tail = c;
	if (!s->header_timer)
		arm(s);
}

static void on_timer(void *arg)
{
	struct http_server *s = arg;
	uint64_t now = dhp_loop_now(s->loop);
	struct http_conn *c;

	s->header_timer = NULL;
	while ((c = s->waiting) && c->headers_due <= now) {
		unlink_conn(s, c);
		shutdown(c->fd, SHUT_RDWR);
		s->n_header_timeouts++;
	}
	arm(s);
	http_kick(s);	/* MHD sees the shut sockets at its next run */
}

static void arm(struct http_server *s)
{
	uint64_t now = dhp_loop_now(s->loop);

	dhp_timer_cancel(s->loop, s->header_timer);
	s->header_timer = NULL;
	if (s->waiting)
		s->header_timer = dhp_timer_add(s->loop, s->waiting->headers_due > now ?
						s->waiting->headers_due - now : 0, on_timer, s);
}

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

bool http_conn_start(struct http_server *s, struct MHD_Connection *conn, void **socket_ctx)
{
	const union MHD_ConnectionInfo *fd =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct http_conn *c;

	*socket_ctx = NULL;
	if (!fd || !(c = calloc(1, sizeof(*c))))
		return false;
	c->server = s;
	c->fd = fd->connect_fd;
	*socket_ctx = c;
	wait_headers(s, c);
	return true;
}

void http_conn_end(struct http_server *s, void **socket_ctx)
{
	struct http_conn *c = *socket_ctx;

	*socket_ctx = NULL;
	if (!c)
		return;
	unlink_conn(s, c);
	free(c);
}

void http_conn_headers_done(struct MHD_Connection *conn)
{
	struct http_conn *c = conn_of(conn);

	if (c)
		unlink_conn(c->server, c);
}

void http_conn_headers_wait(struct MHD_Connection *conn)
{
	struct http_conn *c = conn_of(conn);

	if (c)
		wait_headers(c->server, c);
}

void http_conn_stop(struct http_server *s)
{
	while (s->waiting)
		unlink_conn(s, s->waiting);
	dhp_timer_cancel(s->loop, s->header_timer);
	s->header_timer = NULL;
}
