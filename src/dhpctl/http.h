/* SPDX-License-Identifier: MIT */
/*
 * dhpctl's HTTP layer over libcurl: one connection kept alive for every
 * request of a run, TLS verified (the system's CA store, --cacert, or
 * explicitly none with --insecure), Basic auth or a session token, no
 * redirects, timeouts, and a cap on every length the server sends before
 * anything is allocated for it. Failures become a struct ctl_error with
 * the message and resolution from Redfish's error body (http-error.c).
 */
#ifndef DHPCTL_HTTP_H
#define DHPCTL_HTTP_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "dhpctl.h"

/* Caps on what the server sends. A collection expanded in one answer is
 * the biggest thing we read; 64 MiB holds every unit of the largest
 * server dhp models with room to spare. */
#define HTTP_MAX_BODY (64u << 20)
#define HTTP_MAX_HEADER 1024		/* one header's value we keep */
#define HTTP_CONNECT_TIMEOUT_S 10

struct http_reply {
	long status;
	char *body;			/* NUL-terminated; owned */
	size_t len;
	json_t *json;			/* the body parsed, when it is JSON; owned */
	char location[HTTP_MAX_HEADER];
	char etag[HTTP_MAX_HEADER];
	char token[HTTP_MAX_HEADER];	/* X-Auth-Token */
	char content_type[128];
	char content_range[128];	/* "bytes 0-99/1000" (the console) */
};

void http_reply_release(struct http_reply *reply);

/* Check the URL and TLS settings and make the handle. Free with http_free(). */
int http_new(const struct ctl_config *cfg, struct http **ret_http, struct ctl_error *err);
void http_free(struct http *http);

/* "https://127.0.0.1:8443", for messages. */
const char *http_base(const struct http *http);

/*
 * One request. method: "GET", "POST", "PATCH", "DELETE"; path: absolute
 * ("/redfish/v1/..."), or a URL of this server whose path is taken (never
 * another host: our credentials go nowhere else). body and if_match may
 * be NULL. Returns 0 on any 2xx, with ret_reply filled (release it);
 * otherwise a negative errno and err says why (ret_reply still holds what
 * came back, if anything).
 */
int http_call(struct http *http, const char *method, const char *path, const json_t *body,
	      const char *if_match, struct http_reply *ret_reply, struct ctl_error *err);

/* http_call with one more request header ("Range: bytes=100-"), or none
 * when header is NULL. */
int http_call_header(struct http *http, const char *method, const char *path,
		     const json_t *body, const char *if_match, const char *header,
		     struct http_reply *ret_reply, struct ctl_error *err);

/* GET path and return its JSON (caller frees with json_decref). */
int http_get_json(struct http *http, const char *path, json_t **ret_json,
		  struct ctl_error *err);

/* The path part of a Location or @odata.id value, checked to belong to
 * this server; NULL otherwise. Points into value. */
const char *http_local_path(const struct http *http, const char *value);

/*
 * Set up a separate easy handle for a stream (sse.c): URL, TLS, auth and
 * headers as for http_call, no overall timeout. headers gets our headers
 * appended (the caller frees the list after the transfer).
 */
int http_setup_stream(struct http *http, CURL *easy, const char *path,
		      struct curl_slist **headers, struct ctl_error *err);

/* ---- http-error.c ---- */

/* A libcurl failure: cannot connect, TLS, timeout... -EFBIG when the
 * answer was larger than HTTP_MAX_BODY (collection.c reads the members
 * one by one then). */
int http_error_curl(const struct http *http, CURLcode code, const char *detail,
		    bool too_large, struct ctl_error *err);
/* A status other than 2xx, with Redfish's error body when there is one. */
int http_error_status(const struct http *http, long status, const json_t *body,
		      const char *location, struct ctl_error *err);
/* The http layer's TLS choice, for hints: has --cacert or --insecure been given? */
bool http_tls_explicit(const struct http *http);

/* ---- sse.c ---- */

struct sse_event {
	unsigned long long id;		/* the "id:" field, or the last one seen */
	bool has_id;
	const char *data;		/* the data lines joined by "\n" */
	size_t len;
};

/* Called per event; return nonzero to stop the stream. */
typedef int (*sse_fn)(void *ctx, const struct sse_event *event);

struct sse_options {
	const char *path;		/* with its query */
	unsigned long long since;	/* sent as Last-Event-ID when has_since */
	bool has_since;
	bool follow;			/* reconnect when dropped; run until interrupted */
	unsigned quiet_ms;		/* without follow: end once quiet this long */
};

/* Read the stream, resuming after the last id seen when the connection
 * drops. Returns 0 at its end (quiet, or interrupted while following). */
int sse_run(struct http *http, const struct sse_options *opt, sse_fn fn, void *ctx,
	    struct ctl_error *err);

#endif
