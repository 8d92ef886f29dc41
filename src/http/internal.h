/* SPDX-License-Identifier: MIT */
/*
 * Inside src/http, shared by its files (http.h is the interface):
 *
 *   http.c          the daemon: libmicrohttpd (MHD) on the dhp_loop
 *   request.c       one request: limits, body, JSON, credentials, the
 *                   handler's call
 *   response.c      the answer: headers, a buffered body or a stream
 *   stream.c        streamed responses (server-sent events)
 *   tls.c           TLS writes coalesced: one send() per connection per
 *                   MHD_run()
 *   linger.c        closed connections: their last bytes, then a
 *                   lingering close
 *   socket.c        writing and draining a client's socket (tls.c and
 *                   linger.c)
 *   json-dump.c     compact JSON text
 *   json-etag.c     ETags
 *
 * Calls go one way: http.c → request.c → response.c → stream.c;
 * http.c → tls.c → linger.c → socket.c (tls.c uses socket.c too).
 * Everything runs on the loop's thread.
 */
#ifndef DHP_HTTP_INTERNAL_H
#define DHP_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

/* A streamed response: bytes queued until MHD asks for them. */
struct http_stream {
	struct http_req *req;
	char *buf;
	size_t head, len, cap;		/* queued bytes: buf[head, head + len) */
	bool suspended, closing, failed;
	void (*close_fn)(void *ctx);
	void *close_ctx;
	void (*drain_fn)(void *ctx);
	void *drain_ctx;
	struct http_stream *prev, *next;	/* the server's open streams */
};

/* One request (MHD's per-request context). */
struct http_req {
	struct http_server *server;
	struct MHD_Connection *conn;
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	bool started;			/* http_on_request has seen it */
	unsigned n_query_params;	/* in the URI, when over the limit */
	bool streaming;
	struct http_stream stream;	/* valid while streaming */
};

struct http_out;
struct http_linger;

struct http_server {
	struct dhp_loop *loop;
	struct http_limits limits;
	struct http_handler handler;
	struct MHD_Daemon *mhd;
	struct dhp_io *io;		/* MHD's epoll fd */
	struct dhp_timer *timer;	/* MHD's timeout, or a kick */
	uint64_t timer_due;		/* dhp_loop_now() when timer fires */
	uint16_t port;
	bool tls;
	unsigned closed_in_run;		/* connections closed in this MHD_run */
	bool stopping;			/* http_free: closed connections do not linger */
	struct http_stream *streams;
	struct http_out *unflushed;	/* TLS bytes written in this MHD_run */
	struct http_linger *lingering;	/* closed connections lingering */
	unsigned n_lingering;
};

/* ---- http.c ---- */

/* Run MHD at the next turn of the loop (a resumed connection, ...). */
void http_kick(struct http_server *server);

/* ---- request.c: MHD's request callbacks ---- */

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *data,
				size_t *size, void **con_cls);
/* MHD_OPTION_URI_LOG_CALLBACK: the request's context, made when its
 * request line is read, before MHD parses the query. */
void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe);

/* ---- response.c ---- */

/* Queue res as r's answer (buffered, or a stream), then release res. */
enum MHD_Result http_queue(struct http_req *r, struct http_response *res);
/* The headers of an answer to r: Content-Type (type, unless NULL), the
 * handler's for every answer, then res's own. */
void http_add_headers(struct http_req *r, struct MHD_Response *resp,
		      const struct http_response *res, const char *type);

/* ---- stream.c ---- */

/*
 * Answer r with a stream (res->stream_open set). The handler's open call
 * is always made, even when the response cannot be queued (and then its
 * close call right after), so that its context is freed either way.
 */
enum MHD_Result http_stream_queue(struct http_req *r, const struct http_response *res);
/* The request ends: unlink its stream, make the close call, free the queue. */
void http_stream_end(struct http_req *r);

/* ---- tls.c ---- */

/* MHD_OPTION_NOTIFY_CONNECTION: takes over a TLS connection's writes when
 * it starts, writes out and lets go of them when it closes. */
void http_tls_notify(struct http_server *server, struct MHD_Connection *conn,
		     void **socket_ctx, enum MHD_ConnectionNotificationCode code);
/* Write out what MHD_run() wrote: call after every MHD_run(). */
void http_tls_flush(struct http_server *server);

/* ---- linger.c ---- */

/*
 * A connection MHD is closing: keep its socket (a dup() of fd) open until
 * buf[0, len) is written and the client has closed its side, or a
 * timeout. True when it lingers, and then takes ownership of buf
 * (malloc'd; NULL when len is 0); false when it need not or cannot (the
 * client is gone, the server is stopping, too many linger): the caller
 * keeps buf, and fd closes as MHD closes it.
 */
bool http_linger(struct http_server *server, int fd, char *buf, size_t len);
/* End every lingering connection now (http_free). */
void http_linger_stop(struct http_server *server);

/* ---- socket.c ---- */

/*
 * Write buf[0, *len) to the non-blocking socket fd, then uncork it (which
 * pushes the bytes). 0, with what the socket could not take left at the
 * front of buf and in *len; or -1 after an error: its errno in *error,
 * *len 0.
 */
int http_send_all(int fd, char *buf, size_t *len, int *error);
/* Read and drop what the client sends: false once it is done (closed, or
 * an error), true while it may send more. */
bool http_drain(int fd);
/* Whether the client of fd may still send or read: it has not closed. */
bool http_peer_open(int fd);

#endif
