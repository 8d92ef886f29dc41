/* SPDX-License-Identifier: MIT */
/*
 * What a request must be before anything reads its body or routes it:
 * checks on the request line (as MHD hands it over, before it parses or
 * decodes it) and on the headers (once MHD has them all).
 *
 * libmicrohttpd 0.9.75 is lenient where a server behind or in front of
 * a proxy must not be (RFC 9112): it serves a request with both
 * Content-Length and Transfer-Encoding, or two Content-Lengths (using
 * one of them, where a proxy may have used the other: request
 * smuggling), HTTP/1.1 without Host or with two, any method token, and
 * decodes %00 (cutting the path there) and %2F (a '/' that was not one)
 * in the path. Each of those is refused or kept here.
 */
#include "http/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- the request line ---- */

/*
 * MHD keeps each query parameter as a record in the connection's memory
 * pool. When they do not fit, libmicrohttpd 0.9.75 queues its own 431 but,
 * in the epoll mode dhpd runs it in, never sends it: the client waits
 * until the connection times out. So a query of more parameters than dhp
 * has any use for is cut here, before MHD parses it (MHD gives this
 * callback the request line in its own buffer, and looks for parameters
 * only after it returns), and refused with the request's headers.
 *
 * The same buffer is the path MHD decodes next (http_unescape): it is
 * remembered so that the decoder knows the path from the parameters.
 */
void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	struct http_req *r = http_req_new(s, conn);
	char *query = strchr(uri, '?');
	unsigned n = 0;

	s->uri_path = uri;
	if (r && strstr(uri, "%00"))
		r->nul_in_uri = true;
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

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * MHD_OPTION_UNESCAPE_CALLBACK: MHD decodes the query's names and values,
 * then the path, in place. Query parameters are decoded as MHD would. In
 * the path, %2F stays as it is (a Redfish id never holds a '/': the path
 * is then not found, where decoding it made /Systems%2Fweb a route), and
 * so does %00 (refused in http_admit: decoding it cut the path short).
 */
size_t http_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	struct http_server *server = cls;
	char *out = s;
	int hi, lo;

	(void)conn;
	if (s != server->uri_path)
		return MHD_http_unescape(s);
	server->uri_path = NULL;
	for (const char *in = s; *in; in++) {
		if (*in == '%' && (hi = hex(in[1])) >= 0 && (lo = hex(in[2])) >= 0 &&
		    (hi || lo) && !(hi == 2 && lo == 15)) {
			*out++ = (char)(hi << 4 | lo);
			in += 2;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

/*
 * RFC 9110 §15.6.2: 501 is the answer to a method the server does not
 * recognise for any resource; one it knows but a resource does not allow
 * is 405 (with Allow), the handler's answer. Known: RFC 9110's methods
 * and PATCH (RFC 5789).
 */
static bool method_known(const char *method)
{
	static const char *const other[] = { "OPTIONS", "TRACE", "CONNECT" };

	if (http_method_parse(method) != HTTP_METHOD_MAX)
		return true;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (!strcmp(method, other[i]))
			return true;
	return false;
}

/* ---- the headers ---- */

struct framing {
	unsigned host, content_length, transfer_encoding;
	bool chunked;			/* the only Transfer-Encoding is "chunked" */
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (!strcasecmp(key, "Host"))
		f->host++;
	else if (!strcasecmp(key, "Content-Length"))
		f->content_length++;
	else if (!strcasecmp(key, "Transfer-Encoding"))
		f->chunked = !f->transfer_encoding++ && value && !strcasecmp(value, "chunked");
	return MHD_YES;
}

static const char *header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static bool has_body(struct http_req *r)
{
	const char *len = header(r, "Content-Length");

	return header(r, "Transfer-Encoding") || (len && strtoull(len, NULL, 10) > 0);
}

/*
 * The message's framing and Host, as RFC 9112 wants them (§6.3: a
 * request with both Transfer-Encoding and Content-Length, or with a
 * Content-Length that is not one number, is refused and the connection
 * closed; §3.2: an HTTP/1.1 request without Host, and any request with
 * two, is refused). Like nginx, a repeated Content-Length is refused even
 * when both say the same.
 */
static bool refuse_framing(struct http_req *r, const char *version, struct http_response *res)
{
	struct framing f = { 0 };

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &f);
	if (f.transfer_encoding && f.content_length)
		http_refuse(r, res, HTTP_REFUSE_FRAMING, "Send either of them.",
			    "the request has both Transfer-Encoding and Content-Length");
	else if (f.content_length > 1)
		http_refuse(r, res, HTTP_REFUSE_FRAMING, "Send one Content-Length.",
			    "the request has %u Content-Length headers", f.content_length);
	else if (f.transfer_encoding && !f.chunked)
		http_refuse(r, res, HTTP_REFUSE_FRAMING, "Send the body with Content-Length, or "
			    "chunked.", "the request's Transfer-Encoding is not chunked alone");
	else if (f.host > 1)
		http_refuse(r, res, HTTP_REFUSE_HOST, "Send one Host header.",
			    "the request has %u Host headers", f.host);
	else if (!f.host && version && !strcmp(version, MHD_HTTP_VERSION_1_1))
		http_refuse(r, res, HTTP_REFUSE_HOST_MISSING, "Send a Host header.",
			    "an HTTP/1.1 request must have a Host header");
	return res->status != 0;
}

bool http_admit(struct http_req *r, const char *method, const char *version,
		struct http_response *res)
{
	const struct http_limits *lim = &r->server->limits;
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	const char *len = header(r, "Content-Length");
	const char *type = header(r, "Content-Type");

	if (refuse_framing(r, version, res))
		return false;
	if (r->nul_in_uri)
		http_refuse(r, res, HTTP_REFUSE_URI, "Do not send %00 in a URI.",
			    "the URI holds an encoded NUL (%%00)");
	else if (!method_known(method))
		http_refuse(r, res, HTTP_REFUSE_METHOD, NULL,
			    "the method is not implemented by this service");
	else if (r->n_query_params)
		http_refuse(r, res, HTTP_REFUSE_QUERY, "Send at most " STR(HTTP_MAX_QUERY_PARAMS)
			    " query parameters.", "the request has %u query parameters",
			    r->n_query_params);
	else if (info && info->header_size > lim->max_header)
		http_refuse(r, res, HTTP_REFUSE_HEADERS, "Send smaller headers.",
			    "the request's headers exceed %zu bytes", lim->max_header);
	else if (len && strtoull(len, NULL, 10) > lim->max_body)
		http_refuse(r, res, HTTP_REFUSE_BODY_SIZE, NULL,
			    "the body exceeds %zu bytes", lim->max_body);
	else if (has_body(r) && (!type || strncasecmp(type, "application/json", 16) ||
				 (type[16] && type[16] != ';' && type[16] != ' ')))
		http_refuse(r, res, HTTP_REFUSE_BODY_TYPE, "Send the body as application/json.",
			    "the body must be application/json, not %s", type ? type : "untyped");
	return res->status == 0;
}
