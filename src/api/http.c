/* SPDX-License-Identifier: MIT */
/*
 * The HTTP(S) server: libmicrohttpd (MHD) on dhpd's libuv loop.
 *
 * MHD runs in its external-event mode with its own epoll set: a uv_poll
 * watches MHD's epoll fd and a uv_timer is armed from MHD_get_timeout();
 * either calls MHD_run(). No thread: handlers run on the loop.
 *
 * A request goes: headers (limits, content type) → body (accumulated up to
 * limits.max_body) → JSON (parsed, depth checked) → routes.c (auth,
 * privilege, handler) → a buffered JSON response, or a stream.
 *
 * Header limits: MHD keeps a request's headers in a per-connection memory
 * pool (MHD_OPTION_CONNECTION_MEMORY_LIMIT, here max_header + 32 KiB);
 * headers that do not fit are answered by MHD itself (431 in 0.9.75, with
 * MHD's own body, not a Redfish one). Below that, headers larger than
 * max_header in all get a Redfish 431 here.
 *
 * Streams (SSE): the response reads from the stream's queue; when the
 * queue is empty the connection is suspended, and api_stream_write()
 * resumes it. A suspended connection does not notice its client leaving
 * (MHD's rule): the 15 s keep-alive comments find out.
 */
#include "api/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define STREAM_QUEUE_MAX (1024 * 1024)	/* a slower client is dropped */
#define STREAM_BLOCK 16384
#define CONNECTION_TIMEOUT_S 60u

struct api_stream {
	struct http_req *req;
	char *buf;
	size_t head, len, cap;		/* queued bytes: buf[head, head + len) */
	bool suspended, closing, failed;
	void (*close_fn)(void *ctx);
	void *close_ctx;
	void (*drain_fn)(void *ctx);
	void *drain_ctx;
	struct api_stream *prev, *next;	/* the server's open streams */
};

struct http_req {
	struct http_server *server;
	struct MHD_Connection *conn;
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	bool streaming;
	struct api_stream stream;	/* valid while streaming */
};

struct http_server {
	struct api *api;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	unsigned open_handles;		/* freed when the last one is closed */
	uint16_t port;
	struct api_stream *streams;
};

/* ---- the loop ---- */

static void run_mhd(struct http_server *s);

static void on_timer(uv_timer_t *t)
{
	run_mhd(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status, (void)events;
	run_mhd(p->data);
}

/* MHD's timeout says when it must run again even without I/O. */
static void run_mhd(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(s->mhd);
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&s->timer);
}

/* A resumed connection is served at the next turn of the loop. */
static void kick(struct http_server *s)
{
	uv_timer_start(&s->timer, on_timer, 0, 0);
}

/* ---- streams ---- */

static void stream_wake(struct api_stream *st)
{
	if (!st->suspended)
		return;
	st->suspended = false;
	MHD_resume_connection(st->req->conn);
	kick(st->req->server);
}

static int queue_reserve(struct api_stream *st, size_t len)
{
	char *buf;
	size_t cap;

	if (st->head && st->head + st->len + len > st->cap) {
		memmove(st->buf, st->buf + st->head, st->len);
		st->head = 0;
	}
	if (st->len + len <= st->cap)
		return 0;
	cap = st->cap ? st->cap : 4096;
	while (cap < st->len + len)
		cap *= 2;
	buf = realloc(st->buf, cap);
	if (!buf)
		return -ENOMEM;
	st->buf = buf;
	st->cap = cap;
	return 0;
}

int api_stream_write(struct api_stream *st, const char *data, size_t len)
{
	if (st->closing)
		return -EPIPE;
	if (st->len + len > STREAM_QUEUE_MAX || queue_reserve(st, len) < 0) {
		st->closing = st->failed = true;
		stream_wake(st);
		return -ENOBUFS;
	}
	memcpy(st->buf + st->head + st->len, data, len);
	st->len += len;
	stream_wake(st);
	return 0;
}

void api_stream_on_close(struct api_stream *st, void (*fn)(void *ctx), void *ctx)
{
	st->close_fn = fn;
	st->close_ctx = ctx;
}

void api_stream_on_drain(struct api_stream *st, void (*fn)(void *ctx), void *ctx)
{
	st->drain_fn = fn;
	st->drain_ctx = ctx;
}

size_t api_stream_queued(const struct api_stream *st)
{
	return st->len;
}

void api_stream_close(struct api_stream *st)
{
	st->closing = true;
	stream_wake(st);
}

/* MHD asks for the next bytes of a stream. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_stream *st = &((struct http_req *)cls)->stream;
	size_t n;

	(void)pos;
	if (!st->len && !st->closing && st->drain_fn)
		st->drain_fn(st->drain_ctx);
	if (st->len) {
		n = st->len < max ? st->len : max;
		memcpy(buf, st->buf + st->head, n);
		st->head += n;
		st->len -= n;
		return (ssize_t)n;
	}
	if (st->closing)
		return st->failed ? MHD_CONTENT_READER_END_WITH_ERROR
				  : MHD_CONTENT_READER_END_OF_STREAM;
	MHD_suspend_connection(st->req->conn);
	st->suspended = true;
	return 0;
}

static void stream_end(struct http_req *r)
{
	struct api_stream *st = &r->stream;
	struct http_server *s = r->server;

	if (st->prev)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	st->closing = true;
	if (st->close_fn)
		st->close_fn(st->close_ctx);
	free(st->buf);
	r->streaming = false;
}

/* ---- responses ---- */

static void add_headers(struct MHD_Response *resp, const struct api_response *res,
			const char *type)
{
	if (type)
		MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "OData-Version", "4.0");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (unsigned i = 0; i < res->n_headers; i++)
		MHD_add_response_header(resp, res->headers[i].name, res->headers[i].value);
}

/* Streams always get their open call (and so, later, their close call),
 * even when the response could not be made: the handler's ctx is freed. */
static enum MHD_Result queue_stream(struct http_req *r, struct api_response *res)
{
	struct http_server *s = r->server;
	struct api_stream *st = &r->stream;
	struct MHD_Response *resp;
	enum MHD_Result ok = MHD_NO;

	memset(st, 0, sizeof(*st));
	st->req = r;
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	r->streaming = true;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read,
						 r, NULL);
	if (resp) {
		add_headers(resp, res, "text/event-stream");
		ok = MHD_queue_response(r->conn, res->status, resp);
		MHD_destroy_response(resp);
	}
	res->stream_open(res->stream_ctx, st);
	if (ok != MHD_YES)
		stream_end(r);
	return ok;
}

static enum MHD_Result queue_json(struct http_req *r, struct api_response *res)
{
	char *text = res->body ? json_dumps(res->body, JSON_COMPACT) : NULL;
	size_t len = text ? strlen(text) : 0;
	const char *type = text ? "application/json; charset=utf-8" : NULL;
	struct MHD_Response *resp;
	enum MHD_Result ok;

	if (!text && res->raw_body) {
		type = res->raw_type;
		resp = MHD_create_response_from_buffer(strlen(res->raw_body),
						       (void *)res->raw_body, MHD_RESPMEM_PERSISTENT);
	} else if (!text && res->raw_owned) {
		type = res->raw_type;
		resp = MHD_create_response_from_buffer_with_free_callback(res->raw_len,
									  res->raw_owned, free);
		if (resp)
			res->raw_owned = NULL;	/* MHD frees it */
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(len, text, free);
	}
	if (!resp) {
		free(text);
		return MHD_NO;	/* MHD closes the connection */
	}
	add_headers(resp, res, type);
	ok = MHD_queue_response(r->conn, res->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static enum MHD_Result queue(struct http_req *r, struct api_response *res)
{
	enum MHD_Result ok = res->stream_open ? queue_stream(r, res) : queue_json(r, res);

	api_response_release(res);
	return ok;
}

/* ---- requests ---- */

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

	if (info && info->header_size > lim->max_header)
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *data, size_t *size, void **con_cls)
{
	struct http_server *s = cls;
	const struct api_limits *lim = api_get_limits(s->api);
	struct http_req *r = *con_cls;
	struct api_response res = { 0 };

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->server = s;
		r->conn = conn;
		*con_cls = r;
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

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (!r)
		return;
	if (r->streaming)
		stream_end(r);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* ---- the server ---- */

static int parse_address(const struct http_config *cfg, struct sockaddr_storage *ss,
			 struct dhp_error *err)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cfg->address, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(cfg->port);
		return 0;
	}
	if (inet_pton(AF_INET6, cfg->address, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(cfg->port);
		return 0;
	}
	return dhp_error_set(err, -EINVAL, "\"%s\" is not a numeric IP address", cfg->address);
}

static struct MHD_Daemon *start_mhd(struct http_server *s, const struct http_config *cfg,
				    const struct sockaddr_storage *ss)
{
	const struct api_limits *lim = api_get_limits(s->api);
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[12];
	unsigned n = 0;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
#define OPT(o, v, p) (opts[n++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) })
	if (cfg->log)	/* first, or MHD logs the options before it its own way */
		OPT(MHD_OPTION_EXTERNAL_LOGGER, cfg->log, cfg->log_ctx);
	OPT(MHD_OPTION_SOCK_ADDR, 0, (void *)ss);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, s);
	OPT(MHD_OPTION_CONNECTION_LIMIT, lim->max_connections, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, lim->max_header + 32 * 1024, NULL);
	OPT(MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL);
	if (cfg->cert_pem) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->key_pem);
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->cert_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	if (!--s->open_handles)
		free(s);
}

static int attach_loop(struct http_server *s, uv_loop_t *uv, struct dhp_error *err)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	int r;

	if (!info)
		return dhp_error_set(err, -ENOTSUP, "libmicrohttpd has no epoll fd");
	uv_timer_init(uv, &s->timer);
	s->timer.data = s;
	s->open_handles++;
	r = uv_poll_init(uv, &s->poll, info->epoll_fd);
	if (r < 0)
		return dhp_error_set(err, r, "cannot watch the HTTP server: %s", uv_strerror(r));
	s->poll.data = s;
	s->open_handles++;
	uv_poll_start(&s->poll, UV_READABLE, on_poll);
	kick(s);
	return 0;
}

int http_new(struct api *api, uv_loop_t *uv, const struct http_config *cfg,
	     struct http_server **ret_server, struct dhp_error *err)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct http_server *s;
	int r = parse_address(cfg, &ss, err);

	if (r < 0)
		return r;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES ||
	    (cfg->cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES))
		return dhp_error_set(err, -ENOTSUP, "libmicrohttpd was built without epoll or TLS");
	s = calloc(1, sizeof(*s));
	if (!s)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	s->api = api;
	errno = 0;
	s->mhd = start_mhd(s, cfg, &ss);
	if (!s->mhd) {
		r = errno == EADDRINUSE ? -EADDRINUSE : -EIO;
		free(s);
		return dhp_error_set(err, r, "cannot listen on %s port %u%s", cfg->address,
				     cfg->port, r == -EADDRINUSE ? ": the address is in use" : "");
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : cfg->port;
	r = attach_loop(s, uv, err);
	if (r < 0) {
		http_free(s);
		return r;
	}
	*ret_server = s;
	return 0;
}

uint16_t http_port(const struct http_server *s)
{
	return s->port;
}

void http_quiesce(struct http_server *s)
{
	MHD_socket fd = MHD_quiesce_daemon(s->mhd);

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

unsigned http_end_streams(struct http_server *s)
{
	unsigned n = 0;

	for (struct api_stream *st = s->streams; st; st = st->next, n++)
		api_stream_close(st);
	return n;
}

void http_free(struct http_server *s)
{
	if (!s)
		return;
	/* MHD must not be stopped with suspended connections: end every
	 * stream, and let MHD take the resumed connections back. */
	http_end_streams(s);
	MHD_run(s->mhd);
	if (s->poll.data)
		uv_close((uv_handle_t *)&s->poll, on_handle_closed);	/* before MHD closes the fd */
	MHD_stop_daemon(s->mhd);	/* runs on_completed for every request left */
	if (s->timer.data)
		uv_close((uv_handle_t *)&s->timer, on_handle_closed);
	else
		free(s);
}
