/* SPDX-License-Identifier: MIT */
/*
 * The HTTP(S) server: libmicrohttpd (MHD) on dhpd's libuv loop.
 *
 * MHD runs in its external-event mode with its own epoll set: a uv_poll
 * watches MHD's epoll fd and a uv_timer is armed from MHD_get_timeout();
 * either calls MHD_run(), and what MHD_run() wrote to TLS connections goes
 * out when it returns (http-tls.c). No thread: handlers run on the loop.
 *
 * A request (http-request.c) goes: headers (limits, content type) → body
 * (accumulated up to limits.max_body) → JSON (parsed, depth checked) →
 * routes.c (auth, privilege, handler) → a buffered JSON response, or a
 * stream (http-stream.c).
 *
 * Header limits: MHD keeps a request's headers in a per-connection memory
 * pool (MHD_OPTION_CONNECTION_MEMORY_LIMIT, here max_header + 32 KiB);
 * headers that do not fit are answered by MHD itself (431 in 0.9.75, with
 * MHD's own body, not a Redfish one). Below that, headers larger than
 * max_header in all get a Redfish 431 (http-request.c).
 */
#include "http/internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECTION_TIMEOUT_S 60u

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

/*
 * MHD's timeout says when it must run again even without I/O. One more
 * case it does not say: when connections closed during a run. At its
 * connection limit (or after accept() failed for want of descriptors) MHD
 * takes the listening socket out of its epoll set, and puts it back only
 * at the start of a later MHD_run(), never in the run that closed the
 * connections; with nothing else to wake the loop, new clients would wait
 * in the listen queue until some unrelated event. So a run that closed
 * connections is followed by another, at the next turn of the loop.
 */
static void run_mhd(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	s->closed_in_run = 0;
	MHD_run(s->mhd);
	http_tls_flush(s);
	if (s->closed_in_run)
		http_kick(s);
	else if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&s->timer);
}

/* MHD_OPTION_NOTIFY_CONNECTION: counts closed connections for run_mhd(),
 * and gives TLS connections to http-tls.c. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		s->closed_in_run++;
	if (s->tls)
		http_tls_notify(s, conn, socket_ctx, code);
}

void http_kick(struct http_server *s)
{
	uv_timer_start(&s->timer, on_timer, 0, 0);
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
	struct MHD_OptionItem opts[14];
	unsigned n = 0;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
#define OPT(o, v, p) (opts[n++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) })
	if (cfg->log)	/* first, or MHD logs the options before it its own way */
		OPT(MHD_OPTION_EXTERNAL_LOGGER, cfg->log, cfg->log_ctx);
	OPT(MHD_OPTION_SOCK_ADDR, 0, (void *)ss);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, s);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, s);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, http_on_uri, s);
	OPT(MHD_OPTION_CONNECTION_LIMIT, lim->max_connections, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, lim->max_header + 32 * 1024, NULL);
	OPT(MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL);
	if (cfg->cert_pem) {
		flags |= MHD_USE_TLS;
		s->tls = true;
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->key_pem);
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->cert_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags, 0, NULL, NULL, http_on_request, s, MHD_OPTION_ARRAY, opts,
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
	http_kick(s);
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
	s->uv = uv;
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
	http_tls_flush(s);
	s->stopping = true;	/* closing connections write what they can, at once */
	http_linger_stop(s);
	if (s->poll.data)
		uv_close((uv_handle_t *)&s->poll, on_handle_closed);	/* before MHD closes the fd */
	MHD_stop_daemon(s->mhd);	/* runs http_on_completed for every request left */
	if (s->timer.data)
		uv_close((uv_handle_t *)&s->timer, on_handle_closed);
	else
		free(s);
}
