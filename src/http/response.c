/* SPDX-License-Identifier: MIT */
/*
 * The answer to a request: what a handler fills (http_header() and
 * friends, http.h) and how it goes to MHD: a buffered body (JSON text
 * from json-dump.c, or a handler's bytes) with the headers every answer
 * carries, or a stream (stream.c).
 */
#include "http/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSON_TYPE "application/json; charset=utf-8"

/* ---- what a handler fills ---- */

void http_header(struct http_response *res, const char *name, const char *fmt, ...)
{
	struct http_header *h;
	va_list ap;

	if (res->n_headers >= HTTP_MAX_HEADERS)
		return;
	h = &res->headers[res->n_headers++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(h->value, sizeof(h->value), fmt, ap);
	va_end(ap);
}

const char *http_response_header(const struct http_response *res, const char *name)
{
	for (unsigned i = 0; i < res->n_headers; i++)
		if (!strcasecmp(res->headers[i].name, name))
			return res->headers[i].value;
	return NULL;
}

void http_response_release(struct http_response *res)
{
	json_decref(res->body);
	res->body = NULL;
	free(res->raw_owned);
	res->raw_owned = NULL;
	res->raw_len = 0;
}

/* ---- to MHD ---- */

void http_add_headers(struct http_req *r, struct MHD_Response *resp,
		      const struct http_response *res, const char *type)
{
	const struct http_handler *h = &r->server->handler;

	if (type)
		MHD_add_response_header(resp, "Content-Type", type);
	for (unsigned i = 0; i < h->n_headers; i++)
		if (!http_response_header(res, h->headers[i].name))
			MHD_add_response_header(resp, h->headers[i].name, h->headers[i].value);
	for (unsigned i = 0; i < res->n_headers; i++)
		MHD_add_response_header(resp, res->headers[i].name, res->headers[i].value);
}

/* The body's text goes to MHD as it is: one buffer, no copy. */
static enum MHD_Result queue_buffered(struct http_req *r, struct http_response *res)
{
	struct http_buf text = { 0 };
	const char *type = NULL;
	struct MHD_Response *resp;
	enum MHD_Result ok;

	if (res->body && http_json_append(&text, res->body) == 0)
		type = JSON_TYPE;
	else if (res->body) {
		free(text.data);	/* as json_dumps would have: no body */
		text = (struct http_buf){ 0 };
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
	http_add_headers(r, resp, res, type);
	ok = MHD_queue_response(r->conn, res->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

enum MHD_Result http_queue(struct http_req *r, struct http_response *res)
{
	enum MHD_Result ok = res->stream_open ? http_stream_queue(r, res)
					      : queue_buffered(r, res);

	http_response_release(res);
	return ok;
}
