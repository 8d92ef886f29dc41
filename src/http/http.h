/* SPDX-License-Identifier: MIT */
/*
 * The HTTP(S) server, the whole interface of src/http.
 *
 * libmicrohttpd (MHD) in its external-event mode with its own epoll set,
 * driven by the caller's dhp_loop (common/loop.h): a watched descriptor
 * for MHD's epoll fd, a timer armed from MHD's timeout. No thread of its
 * own: every call below, and every callback, runs on the loop.
 *
 * It knows nothing of what it serves. For each request it applies its
 * limits, reads the body and parses it as JSON, picks out the credentials
 * and the headers a service uses, and calls the program's handler (struct
 * http_handler), which fills a struct http_response: a JSON body, other
 * bytes, or a stream (server-sent events). What the server refuses on its
 * own (limits, content type, malformed JSON) goes to the handler's refuse
 * call, so that every error body is in the service's format.
 *
 * Also here, because the server sends them and their speed is measured
 * (docs/BENCHMARKS.md): compact JSON text, byte for byte json_dumps's, and
 * the ETag of a JSON value.
 */
#ifndef DHP_HTTP_HTTP_H
#define DHP_HTTP_HTTP_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/loop.h"

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PATCH,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_METHOD_MAX		/* in a request: a method not listed here */
};

/* "GET", ...; NULL for HTTP_METHOD_MAX. */
const char *http_method_name(enum http_method method);

/* Limits on everything a client controls; breaches are refused. */
struct http_limits {
	size_t max_body;		/* bytes; 413 beyond */
	unsigned max_json_depth;	/* 400 beyond */
	size_t max_header;		/* bytes of all headers; 431 beyond */
	unsigned max_connections;	/* refused beyond */
	/* A connection that has not sent a request's whole headers this long
	 * after it opened, or after the previous answer, is closed. */
	unsigned header_timeout_ms;
};

/* The defaults (docs/dhpd.md): 64 KiB, 32, 16 KiB, 4096, 10 s. */
void http_limits_default(struct http_limits *limits);

#define HTTP_PATH_MAX 512		/* a path this long or longer: 404 */
#define HTTP_MAX_QUERY_PARAMS 64	/* a query with more: 414 */

/* One query parameter, decoded: "?a=1&b" is {"a", "1"}, {"b", NULL}. */
struct http_query_param {
	const char *name;
	const char *value;		/* NULL when the parameter has no '=' */
};

/* A request, valid during the handler's call only. */
struct http_request {
	enum http_method method;
	const char *path;		/* without the query, decoded; < HTTP_PATH_MAX */
	json_t *body;			/* a JSON object, or NULL if there is no body;
				 * borrowed: the server frees it after the call */
	/* Headers (NULL when absent). */
	const char *if_match;
	const char *if_none_match;	/* a resource's or a static file's ETag check (304) */
	const char *last_event_id;
	const char *range;		/* Range: "bytes=..." */
	const char *odata_version;	/* OData-Version */
	/* The query's parameters in the order sent, duplicates included
	 * (at most HTTP_MAX_QUERY_PARAMS: admit.c refuses more). What they
	 * mean is the handler's business. */
	const struct http_query_param *query;
	unsigned n_query;
	/* Credentials (NULL when absent): X-Auth-Token, or Basic auth. */
	const char *token;
	const char *user;
	const char *password;
	/* The Authorization header as sent (libmicrohttpd's user and password
	 * above are C strings: a password with a NUL in it is cut there). */
	const char *authorization;
	/* The client's address as text ("" if unknown): whom a failed login
	 * counts against. */
	const char *peer;
};

/*
 * A streamed response (server-sent events). The server owns it; it is
 * valid from the response's stream_open call until its close callback
 * has run.
 */
struct http_stream;

/* Queue bytes to send; -EPIPE once the client has gone, -ENOBUFS when the
 * client is too slow and its queue is full (the stream is then closed). */
int http_stream_write(struct http_stream *stream, const char *data, size_t len);
/* Called once when the stream ends (client gone, or the server stopping). */
void http_stream_on_close(struct http_stream *stream, void (*fn)(void *ctx), void *ctx);
/* End a stream from the server's side. */
void http_stream_close(struct http_stream *stream);
/*
 * Called each time everything queued has been handed to the connection, so
 * a long backlog (an SSE replay) is written a page at a time instead of all
 * at once. It may call http_stream_write().
 */
void http_stream_on_drain(struct http_stream *stream, void (*fn)(void *ctx), void *ctx);
/* Bytes queued and not yet handed to the connection. */
size_t http_stream_queued(const struct http_stream *stream);

struct http_header {
	char name[32];
	char value[256];
};

/* A GET's answer alone carries ETag, Allow and Link; a console's
 * Accept-Ranges and Content-Range too. */
#define HTTP_MAX_HEADERS 10

/* What a handler answers: zero it, then fill it. */
struct http_response {
	unsigned status;
	json_t *body;			/* owned: the server sends and frees it */
	/* A body that is not JSON ($metadata's XML), sent when body is NULL:
	 * NUL-terminated and borrowed (static: it must outlive the request),
	 * with its Content-Type. */
	const char *raw_body;
	const char *raw_type;
	/* Or bytes the handler made (a console log: any bytes, raw_len of
	 * them), sent when body and raw_body are NULL, with raw_type. Owned:
	 * malloc'd by the handler, freed by the server. */
	char *raw_owned;
	size_t raw_len;
	/* Location, ETag, Allow, ...; one named as a header of the handler's
	 * every answer (http_handler.headers) replaces that one. */
	struct http_header headers[HTTP_MAX_HEADERS];
	unsigned n_headers;
	/* A streamed response (SSE): the server keeps the connection open
	 * and calls stream_open(stream_ctx, stream) once headers are sent,
	 * even when it cannot send them (and then the close call right
	 * after), so that stream_ctx is freed either way. */
	void (*stream_open)(void *ctx, struct http_stream *stream);
	void *stream_ctx;
};

/* Add a header to a response (silently dropped beyond HTTP_MAX_HEADERS). */
__attribute__((format(printf, 3, 4)))
void http_header(struct http_response *res, const char *name, const char *fmt, ...);
/* The value of a header set on res, or NULL. */
const char *http_response_header(const struct http_response *res, const char *name);
/* Free what a response holds (its bodies); it can be filled again. */
void http_response_release(struct http_response *res);

/* Why the server refused a request before calling the handler. */
enum http_refusal_kind {
	HTTP_REFUSE_QUERY,		/* 414: more than HTTP_MAX_QUERY_PARAMS */
	HTTP_REFUSE_HEADERS,		/* 431: headers beyond max_header */
	HTTP_REFUSE_BODY_SIZE,		/* 413: a body beyond max_body */
	HTTP_REFUSE_BODY_TYPE,		/* 415: a body that is not application/json */
	HTTP_REFUSE_PATH,		/* 404: a path of HTTP_PATH_MAX or more */
	HTTP_REFUSE_JSON,		/* 400: not JSON, not an object, or too deep */
	HTTP_REFUSE_FRAMING,		/* 400 and close: Content-Length and
					 * Transfer-Encoding, two Content-Lengths, ... */
	HTTP_REFUSE_HOST,		/* 400 and close: two Host headers */
	HTTP_REFUSE_HOST_MISSING,	/* 400: HTTP/1.1 without Host */
	HTTP_REFUSE_URI,		/* 400: %00 in the URI */
	HTTP_REFUSE_METHOD,		/* 501: a method HTTP does not define (RFC 9110
					 * and PATCH); OPTIONS, TRACE, CONNECT go to
					 * the handler as HTTP_METHOD_MAX */
	HTTP_REFUSE_MAX
};

struct http_refusal {
	enum http_refusal_kind kind;
	unsigned status;
	const char *message;		/* what is wrong, for the client */
	const char *hint;		/* what the client should do, or NULL */
};

/* The program's side of every request (dhpd registers redfish's). */
struct http_handler {
	/* Answer req in res; res->status 0 afterwards is a bug (500). */
	void (*handle)(void *ctx, const struct http_request *req, struct http_response *res);
	/* Put why in the service's error format in res (res->status is
	 * why->status). */
	void (*refuse)(void *ctx, const struct http_refusal *why, struct http_response *res);
	void *ctx;
	/* Headers every answer carries, after Content-Type and before the
	 * response's own (borrowed: they must outlive the server). */
	const struct http_header *headers;
	unsigned n_headers;
};

struct http_config {
	const char *address;		/* numeric IPv4 or IPv6 address */
	uint16_t port;			/* 0: any free port (see http_port) */
	const char *cert_pem;		/* PEM; NULL with key_pem NULL: plain HTTP */
	const char *key_pem;
	struct http_limits limits;
	struct http_handler handler;
	/* MHD's own diagnostics (may be NULL: dropped). */
	void (*log)(void *ctx, const char *fmt, va_list ap);
	void *log_ctx;
};

struct http_server;

/*
 * Listen and serve on loop (borrowed: it must outlive the server).
 * cert_pem and key_pem are used while starting only. Errors: -EADDRINUSE,
 * -EINVAL (bad address), -ENOTSUP (libmicrohttpd without TLS or epoll),
 * -ENOMEM, -EIO. Free with http_free().
 */
int http_new(struct dhp_loop *loop, const struct http_config *config,
	     struct http_server **ret_server, struct dhp_error *err);
/* The port listened on (the real one when config->port was 0). */
uint16_t http_port(const struct http_server *server);
/* Stop accepting connections; open ones are still served. */
void http_quiesce(struct http_server *server);
/* End every stream cleanly (the client sees the end of the response);
 * returns how many have not finished yet. Call again until 0. */
unsigned http_end_streams(struct http_server *server);
/* End every stream, close every connection, stop, free. Accepts NULL. */
void http_free(struct http_server *server);

/* ---- JSON output (json-dump.c) ---- */

/* A growing byte buffer: zero it to start; the caller frees data. */
struct http_buf {
	char *data;
	size_t len, cap;
	bool failed;			/* out of memory: the contents are incomplete */
};
void http_buf_add(struct http_buf *buf, const void *data, size_t len);
/*
 * Append value as json_dumps(value, JSON_COMPACT) writes it, byte for
 * byte: 0, -ENOMEM, or -EINVAL where json_dumps would fail too (a
 * top-level scalar, a string that is not UTF-8, a cycle).
 */
int http_json_append(struct http_buf *buf, const json_t *value);

/* ---- ETags (json-etag.c) ---- */

/* The ETag of a JSON body: W/"<16 hex digits>", a hash of its canonical
 * form (keys sorted), so the same state always has the same ETag. */
void http_etag(const json_t *body, char *buf, size_t len);

#endif
