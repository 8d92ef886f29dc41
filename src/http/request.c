/* SPDX-License-Identifier: MIT */
/*
 * One request, as MHD hands it over: refused from its headers alone
 * (limits, content type), or its body taken (up to limits.max_body) and
 * parsed (JSON, depth checked), its credentials, the headers a service
 * uses and the query's parameters picked out, and the handler called;
 * then its answer queued (response.c). Every refusal goes through the
 * handler's refuse call, so that its body is in the service's error
 * format.
 */
#include "http/internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const method_names[HTTP_METHOD_MAX] = {
	[HTTP_GET] = "GET", [HTTP_HEAD] = "HEAD", [HTTP_POST] = "POST",
	[HTTP_PATCH] = "PATCH", [HTTP_PUT] = "PUT", [HTTP_DELETE] = "DELETE",
};

const char *http_method_name(enum http_method method)
{
	return (unsigned)method < HTTP_METHOD_MAX ? method_names[method] : NULL;
}

enum http_method http_method_parse(const char *name)
{
	for (unsigned i = 0; i < HTTP_METHOD_MAX; i++)
		if (!strcmp(method_names[i], name))
			return (enum http_method)i;
	return HTTP_METHOD_MAX;
}

void http_refuse(struct http_req *r, struct http_response *res, enum http_refusal_kind kind,
		 const char *hint, const char *fmt, ...)
{
	static const unsigned status[HTTP_REFUSE_MAX] = {
		[HTTP_REFUSE_QUERY] = 414, [HTTP_REFUSE_HEADERS] = 431,
		[HTTP_REFUSE_BODY_SIZE] = 413, [HTTP_REFUSE_BODY_TYPE] = 415,
		[HTTP_REFUSE_PATH] = 404, [HTTP_REFUSE_JSON] = 400,
		[HTTP_REFUSE_FRAMING] = 400, [HTTP_REFUSE_HOST] = 400,
		[HTTP_REFUSE_HOST_MISSING] = 400, [HTTP_REFUSE_URI] = 400,
		[HTTP_REFUSE_METHOD] = 501,
	};
	const struct http_handler *h = &r->server->handler;
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	http_response_release(res);
	res->status = status[kind];
	h->refuse(h->ctx, &(struct http_refusal){ .kind = kind, .status = status[kind],
						  .message = message, .hint = hint }, res);
	/* A request whose framing is in doubt: nothing after it on this
	 * connection can be trusted to start where it seems to (RFC 9112 §6.3). */
	if (kind == HTTP_REFUSE_FRAMING || kind == HTTP_REFUSE_HOST)
		http_header(res, "Connection", "close");
}

/* ---- the request ---- */

static const char *header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static void take_body(struct http_req *r, const char *data, size_t size, size_t max)
{
	size_t cap = r->body_cap ? r->body_cap : 1024;
	char *body;

	if (r->too_large || size > max - r->body_len) {
		r->too_large = true;
		return;
	}
	while (cap < r->body_len + size)
		cap *= 2;
	if (cap != r->body_cap) {
		body = realloc(r->body, cap);
		if (!body) {
			r->too_large = true;
			return;
		}
		r->body = body;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, size);
	r->body_len += size;
}

/* Depth of v, counting no further than limit + 1. */
static unsigned json_depth(json_t *v, unsigned limit)
{
	unsigned max = 0, d;
	const char *key;
	json_t *child;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (!limit)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach(v, key, child)
			if ((d = json_depth(child, limit - 1)) > max)
				max = d;
	} else {
		json_array_foreach(v, i, child)
			if ((d = json_depth(child, limit - 1)) > max)
				max = d;
	}
	return max + 1;
}

/* 0, or the response says what is wrong with the body. */
static int parse_body(struct http_req *r, const struct http_limits *lim, json_t **ret,
		      struct http_response *res)
{
	json_error_t jerr;
	json_t *body;

	*ret = NULL;
	if (!r->body_len)
		return 0;
	body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body) {
		http_refuse(r, res, HTTP_REFUSE_JSON, NULL, "the body is not JSON: %s (line %d, column %d)",
		       jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(body) || json_depth(body, lim->max_json_depth) > lim->max_json_depth) {
		http_refuse(r, res, HTTP_REFUSE_JSON, NULL,
		       "the body must be a JSON object nested at most %u deep",
		       lim->max_json_depth);
		json_decref(body);
		return -EINVAL;
	}
	*ret = body;
	return 0;
}

/* The client's address as text into buf ("" if MHD does not say). */
static const char *peer(struct http_req *r, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;

	buf[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)len);
	return buf;
}

struct query_list {
	struct http_query_param params[HTTP_MAX_QUERY_PARAMS];
	unsigned n;
};

static enum MHD_Result add_query_param(void *cls, enum MHD_ValueKind kind, const char *name,
				       const char *value)
{
	struct query_list *q = cls;

	(void)kind;
	if (q->n == HTTP_MAX_QUERY_PARAMS)	/* admit.c refused more: cannot happen */
		return MHD_NO;
	q->params[q->n++] = (struct http_query_param){ .name = name, .value = value };
	return MHD_YES;
}

static void handle(struct http_req *r, const char *url, const char *method,
		   struct http_response *res)
{
	char addr[INET6_ADDRSTRLEN];
	const struct http_handler *h = &r->server->handler;
	struct http_request req = {
		.method = http_method_parse(method), .path = url, .token = header(r, "X-Auth-Token"),
	};
	struct query_list query = { .n = 0 };
	char *user, *password = NULL;

	if (strlen(url) >= HTTP_PATH_MAX) {
		http_refuse(r, res, HTTP_REFUSE_PATH, NULL, "the path is too long");
		return;
	}
	if (parse_body(r, &r->server->limits, &req.body, res) < 0)
		return;
	req.if_match = header(r, "If-Match");
	req.if_none_match = header(r, "If-None-Match");
	req.last_event_id = header(r, "Last-Event-ID");
	req.range = header(r, "Range");
	req.odata_version = header(r, "OData-Version");
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_query_param, &query);
	req.query = query.params;
	req.n_query = query.n;
	user = req.token ? NULL : MHD_basic_auth_get_username_password(r->conn, &password);
	req.user = user;
	req.password = password;
	req.authorization = header(r, "Authorization");
	req.peer = peer(r, addr, sizeof(addr));
	r->server->handled_in_run++;
	h->handle(h->ctx, &req, res);
	if (password)
		explicit_bzero(password, strlen(password));
	MHD_free(user);
	MHD_free(password);
	json_decref(req.body);
}

struct http_req *http_req_new(struct http_server *s, struct MHD_Connection *conn)
{
	struct http_req *r = calloc(1, sizeof(*r));

	if (r) {
		r->server = s;
		r->conn = conn;
	}
	return r;
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *data,
				size_t *size, void **con_cls)
{
	struct http_server *s = cls;
	const struct http_limits *lim = &s->limits;
	struct http_req *r = *con_cls;
	struct http_response res = { 0 };

	if (!r) {	/* http_on_uri was out of memory */
		r = http_req_new(s, conn);
		if (!r)
			return MHD_NO;
		*con_cls = r;
	}
	if (!r->started) {
		r->started = true;
		http_conn_headers_done(conn);
		/* Refused before the body is read: MHD sends no 100 Continue. */
		return http_admit(r, method, version, &res) ? MHD_YES : http_queue(r, &res);
	}
	if (*size) {
		take_body(r, data, *size, lim->max_body);
		*size = 0;
		return MHD_YES;
	}
	if (r->too_large)
		http_refuse(r, &res, HTTP_REFUSE_BODY_SIZE, NULL, "the body exceeds %zu bytes",
		       lim->max_body);
	else
		handle(r, url, method, &res);
	return http_queue(r, &res);
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	(void)cls, (void)toe;
	http_conn_headers_wait(conn);	/* for the next request */
	if (!r)
		return;
	if (r->streaming)
		http_stream_end(r);
	free(r->body);
	free(r);
	*con_cls = NULL;
}
