/* SPDX-License-Identifier: MIT */
/*
 * The HTTP(S) server of the Redfish service: libmicrohttpd in its
 * external-event mode with its own epoll set, driven by dhpd's one libuv
 * loop (a uv_poll on MHD's epoll fd, a uv_timer armed from MHD's timeout).
 * No thread of its own: every handler runs on the loop.
 *
 * The second half of this header is the glue between the files of
 * src/api (http*.c, routes.c, api.c, json-*.c, sse.c,
 * resources/events.c); handlers see only api.h. The HTTP layer's own
 * insides are in http-internal.h.
 */
#ifndef DHP_API_HTTP_H
#define DHP_API_HTTP_H

#include <stdarg.h>
#include <stdint.h>
#include <uv.h>

#include "redfish/redfish.h"

struct http_config {
	const char *address;		/* numeric IPv4 or IPv6 address */
	uint16_t port;			/* 0: any free port (see http_port) */
	const char *cert_pem;		/* PEM; NULL with key_pem NULL: plain HTTP */
	const char *key_pem;
	/* MHD's own diagnostics (may be NULL: dropped). */
	void (*log)(void *ctx, const char *fmt, va_list ap);
	void *log_ctx;
};

struct http_server;

/*
 * Listen and serve api on uv. cert_pem and key_pem are used while starting
 * only. Errors: -EADDRINUSE, -EINVAL (bad address), -ENOTSUP (libmicrohttpd
 * without TLS or epoll), -ENOMEM. Free with http_free().
 */
int http_new(struct api *api, uv_loop_t *uv, const struct http_config *config,
	     struct http_server **ret_server, struct dhp_error *err);
/* The port listened on (the real one when config->port was 0). */
uint16_t http_port(const struct http_server *server);
/* Stop accepting connections; open ones are still served. */
void http_quiesce(struct http_server *server);
/* End every stream cleanly (the client sees the end of the response);
 * returns how many have not finished yet. Call again until 0. */
unsigned http_end_streams(struct http_server *server);
/*
 * End every stream, close every connection, stop. Accepts NULL. The memory
 * is released by the loop's close callbacks: run the loop once more (until
 * it has no active handles) before closing it.
 */
void http_free(struct http_server *server);

/* ---- inside src/api ---- */

/* routes.c: the route tables of the resource files, NULL-terminated. */
extern const struct api_route *const api_route_tables[];

/* What the HTTP layer hands to routes.c besides the request. */
struct api_credentials {
	const char *token;		/* X-Auth-Token, or NULL */
	const char *user;		/* Basic auth, or NULL */
	const char *password;
};

#define API_PATH_MAX 512

/*
 * Route req (method and path set, params and who filled here), check its
 * credentials and privilege, and call the handler, or fill res with the
 * error: 404, 405 with Allow, 401 with WWW-Authenticate, 403, 503. Adds
 * the ETag of a single resource. Never fails.
 */
void api_handle(struct api *api, struct api_request *req, const struct api_credentials *cred,
		struct api_response *res);

int api_method_parse(const char *name, enum api_method *ret_method);

/* ---- json-dump.c: compact JSON text ---- */

/* A growing byte buffer: zero it to start; the caller frees data. */
struct api_buf {
	char *data;
	size_t len, cap;
	bool failed;			/* out of memory: the contents are incomplete */
};
void api_buf_add(struct api_buf *buf, const void *data, size_t len);
/*
 * Append value as json_dumps(value, JSON_COMPACT) writes it, byte for
 * byte: 0, -ENOMEM, or -EINVAL where json_dumps would fail too (a
 * top-level scalar, a string that is not UTF-8, a cycle).
 */
int api_json_append(struct api_buf *buf, const json_t *value);

/* ---- api.c ---- */
/* Who presents cred: 0, or -EACCES with the reason in err. */
int api_authenticate(struct api *api, const struct api_credentials *cred,
		     struct auth_principal *ret_who, struct dhp_error *err);
/* Free what a response holds (its body); it can be filled again. */
void api_response_release(struct api_response *res);
/* The value of a header set on res, or NULL. */
const char *api_response_header(const struct api_response *res, const char *name);

/* ---- sse.c: the SSE hub (docs/dhpd.md, "Event stream") ---- */
struct api_events;
int api_events_new(struct api *api, struct api_events **ret_events);
void api_events_free(struct api_events *events);
/* Events up to seq are committed and published (set once the engine is
 * there, from the store). */
void api_events_set_published(struct api_events *events, uint64_t seq);
uint64_t api_events_published(const struct api_events *events);
/* An event the engine published. */
void api_events_publish(struct api_events *events, const struct dhp_event *ev);
struct api_events *api_get_events(struct api *api);
/* Streams open now. */
unsigned api_events_clients(const struct api_events *events);
/*
 * Answer res with an event stream for a client that has seen every event
 * up to after, and wants those about filter (an OriginResource URI) or,
 * with filter NULL, all. Takes ownership of filter (malloc'd) in every
 * case; 0, or -ENOMEM with a 500 in res.
 */
int api_events_stream(struct api_events *events, char *filter, uint64_t after,
		      struct api_response *res);

/* ---- resources/events.c: an event as Redfish shows it ---- */
#define API_URI_MAX 160
/* The resources an event is about; "" when it names none of the kind. */
struct api_event_origin {
	char system[API_URI_MAX];	/* the partition's ComputerSystem */
	char block[API_URI_MAX];	/* the unit's ResourceBlock */
	char task[API_URI_MAX];		/* the operation's Task */
	char origin[API_URI_MAX];	/* OriginOfCondition: the first of those, or the Chassis */
	char partition[DHP_NAME_MAX];
};
void api_event_origin(struct api *api, const struct dhp_event *ev, struct api_event_origin *o);
/* Append "id: N\ndata: {one-line Event}\n\n" to buf: 0, or -ENOMEM. */
int api_event_format(const struct dhp_event *ev, const struct api_event_origin *o,
		     struct api_buf *buf);

#endif
