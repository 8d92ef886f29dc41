/* SPDX-License-Identifier: MIT */
/*
 * Inside the HTTP layer, shared by its files:
 *
 *   http.c          the daemon: libmicrohttpd (MHD) on dhpd's libuv loop
 *   http-request.c  one request: limits, body, JSON, credentials, handler,
 *                   and its buffered response
 *   http-stream.c   streamed responses (server-sent events)
 *   http-tls.c      TLS writes coalesced: one send() per connection per
 *                   MHD_run()
 *   http-linger.c   closed connections: their last bytes, then a
 *                   lingering close
 *
 * Everything runs on the loop's thread.
 */
#ifndef DHP_API_HTTP_INTERNAL_H
#define DHP_API_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/http.h"

/* Redfish's queries ($filter, $select, $expand, $top, $skip, only,
 * excerpt) need a handful; a URI with more is refused (414). */
#define HTTP_MAX_QUERY_PARAMS 64

/* A streamed response: bytes queued until MHD asks for them. */
struct api_stream {
	struct http_req *req;
	char *buf;
	size_t head, len, cap;		/* queued bytes: buf[head, head + len) */
	bool suspended, closing, failed;
	void (*close_fn)(void *ctx);
	void *close_ctx;
	void (*drain_fn)(void *ctx);
	void *drain_ctx;
	struct api_stream *prev, *next;	/* the server's open streams */
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
	struct api_stream stream;	/* valid while streaming */
};

struct http_out;
struct http_linger;

struct http_server {
	struct api *api;
	struct MHD_Daemon *mhd;
	uv_loop_t *uv;
	uv_poll_t poll;
	uv_timer_t timer;
	unsigned open_handles;		/* freed when the last one is closed */
	uint16_t port;
	bool tls;
	unsigned closed_in_run;		/* connections closed in this MHD_run */
	bool stopping;			/* http_free: closed connections do not linger */
	struct api_stream *streams;
	struct http_out *unflushed;	/* TLS bytes written in this MHD_run */
	struct http_linger *lingering;	/* closed connections lingering */
	unsigned n_lingering;
};

/* ---- http.c ---- */

/* Run MHD at the next turn of the loop (a resumed connection, ...). */
void http_kick(struct http_server *server);

/* ---- http-request.c: MHD's request callbacks ---- */

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *data,
				size_t *size, void **con_cls);
/* MHD_OPTION_URI_LOG_CALLBACK: the request's context, made when its
 * request line is read, before MHD parses the query. */
void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe);
/* The headers every answer carries (type may be NULL), then res's own. */
void http_add_headers(struct MHD_Response *resp, const struct api_response *res,
		      const char *type);

/* ---- http-stream.c ---- */

/*
 * Answer r with a stream (res->stream_open set). The handler's open call
 * is always made, even when the response cannot be queued (and then its
 * close call right after), so that its context is freed either way.
 */
enum MHD_Result http_stream_queue(struct http_req *r, const struct api_response *res);
/* The request ends: unlink its stream, make the close call, free the queue. */
void http_stream_end(struct http_req *r);

/* ---- http-tls.c ---- */

/* MHD_OPTION_NOTIFY_CONNECTION: takes over a TLS connection's writes when
 * it starts, writes out and lets go of them when it closes. */
void http_tls_notify(void *cls, struct MHD_Connection *conn, void **socket_ctx,
		     enum MHD_ConnectionNotificationCode code);
/* Write out what MHD_run() wrote: call after every MHD_run(). */
void http_tls_flush(struct http_server *server);
/*
 * Write buf[0, *len) to the non-blocking socket fd, then uncork it (which
 * pushes the bytes). 0, with what the socket could not take left at the
 * front of buf and in *len; or -1 after an error: its errno in *error,
 * *len 0.
 */
int http_send_all(int fd, char *buf, size_t *len, int *error);

/* ---- http-linger.c ---- */

/*
 * A connection MHD is closing: keep its socket (a dup() of fd) open until
 * buf[0, len) is written and the client has closed its side, or a
 * timeout. True when it lingers, and then takes ownership of buf
 * (malloc'd; NULL when len is 0); false when it need not or cannot (the
 * client is gone, dhpd is stopping, too many linger): the caller keeps
 * buf, and fd closes as MHD closes it.
 */
bool http_linger(struct http_server *server, int fd, char *buf, size_t len);
/* End every lingering connection now (http_free). */
void http_linger_stop(struct http_server *server);

#endif
