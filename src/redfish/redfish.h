/* SPDX-License-Identifier: MIT */
/*
 * The Redfish API: what the HTTP layer (http.c) and the resource handlers
 * (one file per resource) share. The HTTP layer parses and limits a
 * request, authenticates it (auth.h), finds its route and calls the
 * handler; the handler fills a response (a JSON body, headers) or an error
 * in Redfish's error format. Handlers run on dhpd's one event loop and
 * never block.
 *
 * See docs/redfish.md for the mapping of dhp onto Redfish.
 */
#ifndef DHP_API_API_H
#define DHP_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "core/core.h"

enum api_method {
	API_GET,
	API_HEAD,
	API_POST,
	API_PATCH,
	API_PUT,
	API_DELETE,
	API_METHOD_MAX
};

/* Limits on everything a client controls; breaches get 413/431/503. */
struct api_limits {
	size_t max_body;		/* bytes; 413 beyond */
	unsigned max_json_depth;	/* 400 beyond */
	size_t max_header;		/* bytes of all headers; 431 beyond */
	unsigned max_connections;	/* refused beyond */
	unsigned max_sessions;		/* 503 beyond */
	unsigned max_sse_clients;	/* 503 beyond */
};

#define API_MAX_PARAMS 4

struct api_request {
	enum api_method method;
	const char *path;		/* without the query, decoded */
	const char *params[API_MAX_PARAMS];	/* the {} of the route, in order */
	unsigned n_params;
	json_t *body;			/* parsed JSON body, or NULL if none */
	/* Headers the API uses (NULL when absent). */
	const char *if_match;
	const char *last_event_id;
	const char *range;		/* Range: "bytes=..." (the console) */
	/* Query parameters the API uses (NULL when absent). */
	const char *filter;		/* $filter */
	const struct auth_principal *who;	/* NULL only on unauthenticated routes */
	void *conn;			/* the HTTP layer's, for streams */
};

/*
 * A streamed response (server-sent events). The HTTP layer owns it; it is
 * valid from stream_open until its close callback has run.
 */
struct api_stream;

/* Queue bytes to send; -EPIPE once the client has gone, -ENOBUFS when the
 * client is too slow and its queue is full (the stream is then closed). */
int api_stream_write(struct api_stream *stream, const char *data, size_t len);
/* Called once when the stream ends (client gone, or dhpd stopping). */
void api_stream_on_close(struct api_stream *stream, void (*fn)(void *ctx), void *ctx);
/* End a stream from the server's side. */
void api_stream_close(struct api_stream *stream);
/*
 * Called each time everything queued has been handed to the connection, so
 * a long backlog (an SSE replay) is written a page at a time instead of all
 * at once. It may call api_stream_write().
 */
void api_stream_on_drain(struct api_stream *stream, void (*fn)(void *ctx), void *ctx);
/* Bytes queued and not yet handed to the connection. */
size_t api_stream_queued(const struct api_stream *stream);

#define API_HAS_RAW_BODY 1	/* struct api_response has raw_body */

struct api_header {
	char name[32];
	char value[256];
};

#define API_MAX_HEADERS 6

struct api_response {
	unsigned status;
	json_t *body;			/* owned: the HTTP layer sends and frees it */
	/* A body that is not JSON ($metadata's XML), sent when body is NULL:
	 * NUL-terminated and borrowed (static: it must outlive the request),
	 * with its Content-Type. */
	const char *raw_body;
	const char *raw_type;
	/* Or bytes the handler made (a console log: any bytes, raw_len of
	 * them), sent when body and raw_body are NULL, with raw_type. Owned:
	 * malloc'd by the handler, freed by the HTTP layer. */
	char *raw_owned;
	size_t raw_len;
	struct api_header headers[API_MAX_HEADERS];	/* Location, ETag, Allow, ... */
	unsigned n_headers;
	/* A streamed response (SSE): the HTTP layer keeps the connection
	 * open and calls open(ctx, stream) once headers are sent. */
	void (*stream_open)(void *ctx, struct api_stream *stream);
	void *stream_ctx;
};

struct api;	/* the service: see api_new() */

typedef void (*api_handler_fn)(struct api *api, const struct api_request *req,
			       struct api_response *res);

struct api_route {
	enum api_method method;
	const char *pattern;		/* "/redfish/v1/Systems/{}": {} is one path segment */
	api_handler_fn handler;
	uint32_t privilege;		/* AUTH_PRIV_*, or 0: no authentication */
};

/*
 * The service (dhpd makes one). The engine takes its listener in its
 * config, so the service comes first: make it with core NULL, put
 * api_core_listener() in the engine's config, then api_set_core(). auth and
 * loop are borrowed and must outlive it; limits is copied (NULL: the
 * defaults). Caller frees with api_free(), after the HTTP server
 * (http_free) and the engine.
 */
int api_new(struct dhp_core *core, struct auth *auth, const struct api_limits *limits,
	    struct dhp_loop *loop, struct api **ret_api, struct dhp_error *err);
void api_free(struct api *api);
struct dhp_core_listener api_core_listener(struct api *api);
void api_set_core(struct api *api, struct dhp_core *core);
/* The defaults of struct api_limits (docs/dhpd.md). */
void api_limits_default(struct api_limits *limits);

enum api_state {
	API_RECOVERING,		/* the engine recovers: 503 but for unauthenticated routes */
	API_READY,
	API_STOPPING,		/* dhpd stops: 503 but for unauthenticated routes */
};
void api_set_state(struct api *api, enum api_state state);
enum api_state api_get_state(const struct api *api);

/* The service's context, for handlers. */
struct dhp_core *api_core(struct api *api);
struct auth *api_auth(struct api *api);
const struct api_limits *api_get_limits(struct api *api);
struct dhp_loop *api_loop(struct api *api);
/* Seconds of the monotonic clock every auth_* call of the service uses
 * (sessions must be created and checked on the same clock). */
uint64_t api_now_s(struct api *api);

/* Add a header to a response (silently dropped beyond API_MAX_HEADERS). */
__attribute__((format(printf, 3, 4)))
void api_header(struct api_response *res, const char *name, const char *fmt, ...);

/*
 * Fill res with a Redfish error: status, a Base registry MessageId
 * ("Base.1.22.ResourceNotFound" is written as "ResourceNotFound"), the
 * message (printf-style) and a resolution (may be NULL).
 */
__attribute__((format(printf, 5, 6)))
void api_error(struct api_response *res, unsigned status, const char *message_id,
	       const char *resolution, const char *fmt, ...);

/* A dhp error (docs/errors.md) as a Redfish error: its code picks the
 * HTTP status and message id. */
void api_error_from(struct api_response *res, const struct dhp_error *err);

/* A success body: res takes body, status 200 (or as given). */
void api_ok(struct api_response *res, unsigned status, json_t *body);

/* The ETag of a JSON body: W/"<16 hex digits>", a hash of its canonical
 * form (keys sorted), so the same state always has the same ETag. */
void api_etag(const json_t *body, char *buf, size_t len);

/* Route tables of the resource files, each ending with a NULL pattern. */
extern const struct api_route api_routes_root[];	/* resources/root.c */
extern const struct api_route api_routes_systems[];	/* resources/systems.c */
extern const struct api_route api_routes_composition[];	/* resources/composition.c */
extern const struct api_route api_routes_chassis[];	/* resources/chassis.c */
extern const struct api_route api_routes_tasks[];	/* resources/tasks.c */
extern const struct api_route api_routes_events[];	/* resources/events.c */
extern const struct api_route api_routes_sessions[];	/* resources/sessions.c */
extern const struct api_route api_routes_accounts[];	/* resources/accounts.c */
extern const struct api_route api_routes_console[];	/* resources/console.c */

#endif
