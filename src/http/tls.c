/* SPDX-License-Identifier: MIT */
/*
 * TLS writes, coalesced.
 *
 * GnuTLS writes each TLS record with a system call of its own, and MHD
 * gives it a response's headers and its body separately: two records,
 * two sendmsg() calls, two TCP segments, the client woken twice per
 * response. (On loopback the sender also pays for the receiver's TCP
 * stack and its wake-up: those sendmsg() calls were nearly a third of
 * dhpd's CPU time for a GET.) Here GnuTLS writes a connection's records
 * into the connection's buffer instead, and http_tls_flush() writes each
 * buffer with one send() when MHD_run() returns: the same bytes in the
 * same order, one system call per connection per MHD_run() where there
 * were two or more, no later than the end of the MHD_run() that wrote
 * them. (Writing each buffer as soon as MHD moves on to the next
 * connection was tried: no better latency, 10-15 % more CPU per request.)
 *
 * Flow control stays the socket's. A write that would take a buffer past
 * OUT_MAX first writes the buffer out; if the socket cannot take it all,
 * GnuTLS gets EAGAIN, as it would have from the socket itself (and the
 * socket really is full, so MHD's edge-triggered epoll will say when it
 * can write again). Writes larger than OUT_MAX go straight to the socket.
 * A buffer the socket could not take at the end of an MHD_run() waits for
 * the socket to become writable (a watch of its own on the loop).
 *
 * MHD closes a connection once it has handed GnuTLS the last bytes; if
 * some are still here then (the client is not reading), or the client
 * may still be sending, the socket is left to linger.c, which
 * writes them on a dup() of it and closes it without a reset.
 *
 * Lifetimes: a connection's buffer (struct http_out) lives from MHD's
 * MHD_CONNECTION_NOTIFY_STARTED to its MHD_CONNECTION_NOTIFY_CLOSED, and
 * the TLS session must never be touched at CLOSED. libmicrohttpd 0.9.75
 * frees the session (gnutls_deinit() in MHD_cleanup_connections()) before
 * it sends CLOSED, for every connection it served, at MHD_stop_daemon()
 * too; where it sends CLOSED first (a connection it could not add), it
 * frees the session right after without writing. So no record is pushed
 * after CLOSED, and the buffer, which GnuTLS holds a pointer to, outlives
 * the session: the session's push can never see a freed buffer, and
 * nothing here keeps a handle on the session once it is set up.
 */
#include "http/internal.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_MAX (64 * 1024)
#define OUT_MIN 4096

struct http_out {
	struct http_server *server;
	int fd;				/* MHD's socket */
	char *buf;
	size_t len, cap;		/* encrypted bytes not written yet */
	int error;			/* errno of a failed write: every later write fails so */
	struct dhp_io *io;		/* waiting for the socket to take more */
	struct http_out *prev, *next;	/* server->unflushed, while len > 0 and unflushed */
	bool unflushed;
};

/* ---- connections ---- */

static void out_write(struct http_out *out);

static void on_writable(void *arg, unsigned events)
{
	struct http_out *out = arg;

	if (events & DHP_IO_ERROR)
		out->error = EPIPE;	/* MHD finds out on its side */
	out_write(out);
}

/* Write what the socket takes; watch it for the rest, or stop watching. */
static void out_write(struct http_out *out)
{
	struct dhp_loop *loop = out->server->loop;

	if (out->len && !out->error)
		http_send_all(out->fd, out->buf, &out->len, &out->error);
	if (out->error)
		out->len = 0;
	if (out->len && !out->io) {
		out->io = dhp_io_add(loop, out->fd, DHP_IO_WRITE, on_writable, out);
		if (!out->io) {
			out->error = EIO;	/* nothing would ever write it: give up */
			out->len = 0;
		}
	} else if (!out->len && out->io) {
		dhp_io_cancel(loop, out->io);
		out->io = NULL;
	}
}

static void unlist(struct http_out *out)
{
	struct http_server *s = out->server;

	if (!out->unflushed)
		return;
	if (out->prev)
		out->prev->next = out->next;
	else
		s->unflushed = out->next;
	if (out->next)
		out->next->prev = out->prev;
	out->prev = out->next = NULL;
	out->unflushed = false;
}

static int reserve(struct http_out *out, size_t len)
{
	size_t cap = out->cap ? out->cap : OUT_MIN;
	char *buf;

	while (cap < out->len + len)
		cap *= 2;
	if (cap == out->cap)
		return 0;
	buf = realloc(out->buf, cap);
	if (!buf)
		return -1;
	out->buf = buf;
	out->cap = cap;
	return 0;
}

/* GnuTLS's vectored push: records into the buffer. */
static ssize_t push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct http_out *out = ptr;
	struct http_server *s = out->server;
	size_t total = 0;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (out->len + total > OUT_MAX && out->len && !out->error)
		out_write(out);
	if (out->error) {
		errno = out->error;
		return -1;
	}
	if (out->len + total > OUT_MAX) {
		if (out->len) {
			errno = EAGAIN;		/* the socket is full */
			return -1;
		}
		ssize_t n = sendmsg(out->fd, &(struct msghdr){ .msg_iov = (struct iovec *)iov,
								.msg_iovlen = (size_t)iovcnt },
				    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0)
			s->pushed_in_run += (size_t)n;
		return n;
	}
	if (reserve(out, total) < 0) {
		errno = ENOMEM;
		return -1;
	}
	for (int i = 0; i < iovcnt; i++) {
		memcpy(out->buf + out->len, iov[i].iov_base, iov[i].iov_len);
		out->len += iov[i].iov_len;
	}
	s->pushed_in_run += total;
	if (!out->unflushed && total) {
		out->next = s->unflushed;
		if (s->unflushed)
			s->unflushed->prev = out;
		s->unflushed = out;
		out->unflushed = true;
	}
	return (ssize_t)total;
}

void http_tls_flush(struct http_server *s)
{
	struct http_out *out;

	while ((out = s->unflushed)) {
		unlist(out);
		out_write(out);
	}
}

/* ---- MHD's connection notifications ---- */

static void out_release(struct http_out *out)
{
	unlist(out);
	if (out->len && !out->error)
		http_send_all(out->fd, out->buf, &out->len, &out->error);
	dhp_io_cancel(out->server->loop, out->io);	/* before MHD closes fd */
	if (!out->error && http_linger(out->server, out->fd, out->buf, out->len))
		out->buf = NULL;
	free(out->buf);
	free(out);
}

void http_tls_notify(struct http_server *s, struct MHD_Connection *conn, struct http_out **slot,
		     enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *tls, *fd;
	struct http_out *out;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		/* The session is freed already (see the top of this file):
		 * pointing its transport elsewhere here, as this once did,
		 * wrote into freed memory (a SIGSEGV whenever those pages
		 * were no longer mapped). */
		out = *slot;
		*slot = NULL;
		if (out)
			out_release(out);
		return;
	}
	tls = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!tls || !tls->tls_session || !fd || !(out = calloc(1, sizeof(*out))))
		return;		/* GnuTLS writes on its own: one call per record */
	out->server = s;
	out->fd = fd->connect_fd;
	gnutls_transport_set_ptr2(tls->tls_session, (gnutls_transport_ptr_t)(intptr_t)out->fd,
				  out);
	gnutls_transport_set_vec_push_function(tls->tls_session, push);
	*slot = out;
}
