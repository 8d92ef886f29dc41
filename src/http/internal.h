/* SPDX-License-Identifier: MIT */
/*
 * Inside src/http, shared by its files (http.h is the interface):
 *
 *   http.c          the daemon: libmicrohttpd (MHD) on the dhp_loop
 *   conn.c          a connection: its deadline for a request's headers
 *   admit.c         the request line and headers: framing, Host, method,
 *                   URI decoding, limits
 *   request.c       one request: body, JSON, credentials, the
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
 * Calls go one way: http.c → request.c → admit.c, response.c → stream.c;
 * http.c, request.c → conn.c;
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
	bool nul_in_uri;		/* %00 in the request line */
	unsigned n_query_params;	/* in the URI, when over the limit */
	bool streaming;
	struct http_stream stream;	/* valid while streaming */
};

struct http_out;
struct http_linger;

/* A connection (MHD's socket context), from MHD's STARTED to CLOSED. */
struct http_conn {
	struct http_server *server;
	int fd;
	uint64_t headers_due;		/* dhp_loop_now() deadline; 0: not reading headers */
	struct http_conn *prev, *next;	/* server->waiting, while headers_due */
	struct http_out *out;		/* tls.c's */
};

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
	size_t pushed_in_run;		/* TLS bytes GnuTLS wrote in this MHD_run */
	unsigned handled_in_run;	/* requests given to the handler in it */
	bool stopping;			/* http_free: closed connections do not linger */
	struct http_stream *streams;
	struct http_out *unflushed;	/* TLS bytes written in this MHD_run */
	struct http_linger *lingering;	/* closed connections lingering */
	unsigned n_lingering;
	/* Connections reading headers, oldest deadline first (conn.c). */
	struct http_conn *waiting, *waiting_tail;
	struct dhp_timer *header_timer;
	unsigned n_header_timeouts;	/* closed for it (tests, logs) */
	const char *uri_path;		/* admit.c: the path MHD decodes next */
};

/* ---- http.c ---- */

/* Run MHD at the next turn of the loop (a resumed connection, ...). */
void http_kick(struct http_server *server);

/* ---- conn.c ---- */

/* MHD_CONNECTION_NOTIFY_STARTED: a struct http_conn in *socket_ctx, its
 * header deadline running; false when out of memory (no deadline). */
bool http_conn_start(struct http_server *server, struct MHD_Connection *conn,
		     void **socket_ctx);
/* MHD_CONNECTION_NOTIFY_CLOSED: free it; *socket_ctx is NULL after. */
void http_conn_end(struct http_server *server, void **socket_ctx);
/* A request's headers are in: its deadline stops. */
void http_conn_headers_done(struct MHD_Connection *conn);
/* A request is over: the next one's headers are due in header_timeout_ms. */
void http_conn_headers_wait(struct MHD_Connection *conn);
/* http_free: no more deadlines. */
void http_conn_stop(struct http_server *server);

/* ---- request.c: MHD's request callbacks ---- */

struct http_req *http_req_new(struct http_server *server, struct MHD_Connection *conn);
enum http_method http_method_parse(const char *name);
/* res gets the handler's refuse call, with a message made here. */
__attribute__((format(printf, 5, 6)))
void http_refuse(struct http_req *r, struct http_response *res, enum http_refusal_kind kind,
		 const char *hint, const char *fmt, ...);

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *data,
				size_t *size, void **con_cls);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe);

/* ---- admit.c ---- */

/* MHD_OPTION_URI_LOG_CALLBACK: the request's context, made when its
 * request line is read, before MHD parses the query. */
void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
/* MHD_OPTION_UNESCAPE_CALLBACK: decodes s in place; its new length. */
size_t http_unescape(void *cls, struct MHD_Connection *conn, char *s);
/* Whether r may go on, from its request line and headers; false when res
 * holds the refusal. */
bool http_admit(struct http_req *r, const char *method, const char *version,
		struct http_response *res);

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
		     struct http_out **slot, enum MHD_ConnectionNotificationCode code);
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
