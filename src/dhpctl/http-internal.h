/* SPDX-License-Identifier: MIT */
/* What http.c, http-setup.c, http-error.c and sse.c share. */
#ifndef DHPCTL_HTTP_INTERNAL_H
#define DHPCTL_HTTP_INTERNAL_H

#include "http.h"

struct http {
	CURL *easy;			/* for every request but streams */
	char base[320];			/* "scheme://host:port" */
	char scheme[8];
	char host[256];
	long port;
	bool https;
	bool insecure;			/* --insecure */
	bool cacert;			/* --cacert (or DHP_CACERT, cacert =) */
	const struct ctl_config *cfg;	/* the caller's; outlives us */
	char token_header[HTTP_MAX_HEADER + 16];	/* "X-Auth-Token: ..." or "" */
	char errbuf[CURL_ERROR_SIZE];
	/* http-session.c: a session made for a run of many requests. */
	bool basic;			/* the configuration says Basic auth */
	unsigned basic_calls;
	bool session_tried, in_session;
	bool anonymous;			/* the request logging in: no Basic header */
	bool closing;			/* logging out: not even Ctrl-C stops it */
	char session[HTTP_MAX_HEADER];	/* its URI, to log out */
};

/* One answer being received. */
struct http_recv {
	struct http_reply *reply;
	size_t len, cap;
	bool too_large;			/* past HTTP_MAX_BODY */
	bool overlong;			/* a header we keep was too long */
};

/*
 * Reset easy and set what every request has: the URL base + path, TLS,
 * auth, timeouts (none overall for a stream), no redirects, the progress
 * check that stops on Ctrl-C, and our headers appended to *headers.
 */
int http_prepare(struct http *http, CURL *easy, const char *path, bool stream,
		 struct curl_slist **headers, struct ctl_error *err);

/* From the second request of a run made with Basic auth: log in once and
 * use the session's token (http-session.c). */
void http_session_maybe_open(struct http *http);
/* A 401 in our own session: forget it; true when the request should be
 * retried with Basic auth. */
bool http_session_lost(struct http *http, long status);
/* Log out of our session, if we made one. */
void http_session_close(struct http *http);

/* CURLOPT_HEADERFUNCTION for a struct http_recv. */
size_t http_on_header(char *data, size_t size, size_t n, void *ctx);

#endif
