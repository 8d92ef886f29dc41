/* SPDX-License-Identifier: MIT */
/*
 * The HTTP(S) server of the Redfish service: libmicrohttpd in its
 * external-event mode with its own epoll set, driven by dhpd's one libuv
 * loop (a uv_poll on MHD's epoll fd, a uv_timer armed from MHD's timeout).
 * No thread of its own: every handler runs on the loop.
 *
 * The second half of this header is the glue between the files of
 * src/api (http.c, routes.c, api.c, resources/events.c); handlers see only
 * api.h.
 */
#ifndef DHP_API_HTTP_H
#define DHP_API_HTTP_H

#include <stdarg.h>
#include <stdint.h>
#include <uv.h>

#include "api/api.h"

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

/* api.c */
/* Who presents cred: 0, or -EACCES with the reason in err. */
int api_authenticate(struct api *api, const struct api_credentials *cred,
		     struct auth_principal *ret_who, struct dhp_error *err);
/* Free what a response holds (its body); it can be filled again. */
void api_response_release(struct api_response *res);
/* The value of a header set on res, or NULL. */
const char *api_response_header(const struct api_response *res, const char *name);

/* resources/events.c: the SSE hub. */
struct api_events;
int api_events_new(struct api *api, struct api_events **ret_events);
void api_events_free(struct api_events *events);
/* Events up to seq are committed and published (set once the engine is
 * there, from the store). */
void api_events_set_published(struct api_events *events, uint64_t seq);
/* An event the engine published. */
void api_events_publish(struct api_events *events, const struct dhp_event *ev);
struct api_events *api_get_events(struct api *api);

#endif
