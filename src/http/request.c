/* SPDX-License-Identifier: MIT */
/*
 * One request, as MHD hands it over: refused from its headers alone
 * (limits, content type), or its body taken (up to limits.max_body) and
 * parsed (JSON, depth checked), its credentials and the headers the API
 * uses picked out, routes.c called; then its answer queued: a buffered
 * body (JSON, or a handler's raw text) or a stream (http-stream.c).
 */
#include "http/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSON_TYPE "application/json; charset=utf-8"
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- the answer ---- */

void http_add_headers(struct MHD_Response *resp, const struct api_response *res,
		      const char *type)
{
	if (type)
		MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "OData-Version", "4.0");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (unsigned i = 0; i < res->n_headers; i++)
		MHD_add_response_header(resp, res->headers[i].name, res->headers[i].value);
}

/* The body's text goes to MHD as it is: one buffer, no copy. */
static enum MHD_Result queue_buffered(struct http_req *r, struct api_response *res)
{
	struct api_buf text = { 0 };
	const char *type = NULL;
	struct MHD_Response *resp;
	enum MHD_Result ok;

	if (res->body && api_json_append(&text, res->body) == 0)
		type = JSON_TYPE;
	else if (res->body) {
		free(text.data);	/* as json_dumps would have: no body */
		text = (struct api_buf){ 0 };
	}
	if (!type && res->raw_body) {
		type = res->raw_type;
		resp = MHD_create_response_from_buffer(strlen(res->raw_body),
						       (void *)res->raw_body, MHD_RESPMEM_PERSISTENT);
	} else if (!type && res->raw_owned) {
		type = res->raw_type;
		resp = MHD_create_response_from_buffer_with_free_callback(res->raw_len,
									  res->raw_owned, free);
		if (resp)
			res->raw_owned = NULL;	/* MHD frees it */
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(text.len, text.data, free);
	}
	if (!resp) {
		free(text.data);
		return MHD_NO;	/* MHD closes the connection */
	}
	http_add_headers(resp, res, type);
	ok = MHD_queue_response(r->conn, res->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static enum MHD_Result queue(struct http_req *r, struct api_response *res)
{
	enum MHD_Result ok = res->stream_open ? http_stream_queue(r, res)
					      : queue_buffered(r, res);

	api_response_release(res);
	return ok;
}

/* ---- the request ---- */

static const char *header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static bool has_body(struct http_req *r)
{
	const char *len = header(r, "Content-Length");

	return header(r, "Transfer-Encoding") || (len && strtoull(len, NULL, 10) > 0);
}

/* What can be refused from the headers alone; false when all is well. */
static bool refuse_headers(struct http_req *r, const struct api_limits *lim,
			   struct api_response *res)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	const char *len = header(r, "Content-Length");
	const char *type = header(r, "Content-Type");

	if (r->n_query_params)
		api_error(res, 414, "GeneralError", "Send at most " STR(HTTP_MAX_QUERY_PARAMS)
			  " query parameters.", "the request has %u query parameters",
			  r->n_query_params);
	else if (info && info->header_size > lim->max_header)
		api_error(res, 431, "HeaderInvalid", "Send smaller headers.",
			  "the request's headers exceed %zu bytes", lim->max_header);
	else if (len && strtoull(len, NULL, 10) > lim->max_body)
		api_error(res, 413, "PayloadTooLarge", NULL,
			  "the body exceeds %zu bytes", lim->max_body);
	else if (has_body(r) && (!type || strncasecmp(type, "application/json", 16) ||
				 (type[16] && type[16] != ';' && type[16] != ' ')))
		api_error(res, 415, "MalformedJSON", "Send the body as application/json.",
			  "the body must be application/json, not %s", type ? type : "untyped");
	return res->status != 0;
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
static int parse_body(struct http_req *r, const struct api_limits *lim, json_t **ret,
		      struct api_response *res)
{
	json_error_t jerr;
	json_t *body;

	*ret = NULL;
	if (!r->body_len)
		return 0;
	body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body) {
		api_error(res, 400, "MalformedJSON", NULL, "the body is not JSON: %s (line %d, column %d)",
			  jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(body) || json_depth(body, lim->max_json_depth) > lim->max_json_depth) {
		api_error(res, 400, "MalformedJSON", NULL,
			  "the body must be a JSON object nested at most %u deep",
			  lim->max_json_depth);
		json_decref(body);
		return -EINVAL;
	}
	*ret = body;
	return 0;
}

static void handle(struct http_req *r, const char *url, const char *method,
		   struct api_response *res)
{
	struct api *api = r->server->api;
	struct api_request req = { .path = url, .conn = r };
	struct api_credentials cred = { .token = header(r, "X-Auth-Token") };
	char *user, *password = NULL;

	if (api_method_parse(method, &req.method) < 0)
		req.method = API_METHOD_MAX;	/* routes.c answers 405 or 404 */
	if (strlen(url) >= API_PATH_MAX) {
		api_error(res, 404, "ResourceNotFound", NULL, "the path is too long");
		return;
	}
	if (parse_body(r, api_get_limits(api), &req.body, res) < 0)
		return;
	req.if_match = header(r, "If-Match");
	req.last_event_id = header(r, "Last-Event-ID");
	req.range = header(r, "Range");
	req.filter = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "$filter");
	user = cred.token ? NULL : MHD_basic_auth_get_username_password(r->conn, &password);
	cred.user = user;
	cred.password = password;
	api_handle(api, &req, &cred, res);
	if (password)
		explicit_bzero(password, strlen(password));
	MHD_free(user);
	MHD_free(password);
	json_decref(req.body);
}

static struct http_req *req_new(struct http_server *s, struct MHD_Connection *conn)
{
	struct http_req *r = calloc(1, sizeof(*r));

	if (r) {
		r->server = s;
		r->conn = conn;
	}
	return r;
}

/*
 * MHD keeps each query parameter as a record in the connection's memory
 * pool. When they do not fit, libmicrohttpd 0.9.75 queues its own 431 but,
 * in the epoll mode dhpd runs it in, never sends it: the client waits
 * until the connection times out. So a query of more parameters than dhp
 * has any use for is cut here, before MHD parses it (MHD gives this
 * callback the request line in its own buffer, and looks for parameters
 * only after it returns), and refused with the request's headers.
 */
void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *r = req_new(cls, conn);
	char *query = strchr(uri, '?');
	unsigned n = 0;

	if (!query || !query[1])
		return r;
	for (const char *p = query; p; p = strchr(p + 1, '&'))
		n++;
	if (n > HTTP_MAX_QUERY_PARAMS) {
		query[1] = '\0';
		if (r)
			r->n_query_params = n;
	}
	return r;
}

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *data,
				size_t *size, void **con_cls)
{
	struct http_server *s = cls;
	const struct api_limits *lim = api_get_limits(s->api);
	struct http_req *r = *con_cls;
	struct api_response res = { 0 };

	(void)version;
	if (!r) {	/* http_on_uri was out of memory */
		r = req_new(s, conn);
		if (!r)
			return MHD_NO;
		*con_cls = r;
	}
	if (!r->started) {
		r->started = true;
		/* Refused before the body is read: MHD sends no 100 Continue. */
		return refuse_headers(r, lim, &res) ? queue(r, &res) : MHD_YES;
	}
	if (*size) {
		take_body(r, data, *size, lim->max_body);
		*size = 0;
		return MHD_YES;
	}
	if (r->too_large)
		api_error(&res, 413, "PayloadTooLarge", NULL, "the body exceeds %zu bytes",
			  lim->max_body);
	else
		handle(r, url, method, &res);
	return queue(r, &res);
}

void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (!r)
		return;
	if (r->streaming)
		http_stream_end(r);
	free(r->body);
	free(r);
	*con_cls = NULL;
}
