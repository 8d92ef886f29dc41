/* SPDX-License-Identifier: MIT */
/*
 * The HTTP(S) server: libmicrohttpd (MHD) on the dhp_loop.
 *
 * MHD runs in its external-event mode with its own epoll set: the loop
 * watches MHD's epoll fd and a timer is armed from MHD_get_timeout();
 * either calls MHD_run(), and what MHD_run() wrote to TLS connections goes
 * out when it returns (tls.c). No thread: handlers run on the loop.
 *
 * A request (request.c) goes: headers (limits, content type) → body
 * (accumulated up to limits.max_body) → JSON (parsed, depth checked) →
 * the handler (or its refuse call) → a buffered response, or a stream
 * (response.c, stream.c).
 *
 * Header limits: MHD keeps a request's headers in a per-connection memory
 * pool (MHD_OPTION_CONNECTION_MEMORY_LIMIT); headers that do not fit are
 * answered by MHD itself (431 in 0.9.75, with MHD's own HTML body, not
 * the service's: pool_size() says why the pool is not larger); headers
 * larger than max_header in all are refused through the handler
 * (admit.c).
 */
#include "http/internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECTION_TIMEOUT_S 60u
#define MAX_RUNS_WRITING 64u	/* MHD_run()s in a row while TLS records go out */

/*
 * Only AEAD ciphers (GCM, ChaCha20-Poly1305) and forward-secret key
 * exchange: no CBC suite in TLS 1.2 (Lucky Thirteen and its kin), the
 * choice of Mozilla's "intermediate" configuration, which bmcweb
 * follows. TLS 1.3 has nothing else.
 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:" \
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:" \
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

/*
 * MHD's per-connection pool holds the request line and headers, a record
 * of about 64 bytes per header line, and the answer's headers. It is not
 * sized for the worst case (max_header bytes of 4-byte header lines, ~270
 * KiB): libmicrohttpd 0.9.75 zeroes the whole pool at every request
 * (MHD_pool_reset), so a pool that large cost a quarter of the GETs per
 * second and touched every page of it on every connection. With this size
 * a request of more than some 500 header lines gets MHD's own 431 (its
 * HTML body); fewer, within max_header bytes, are served.
 */
static size_t pool_size(size_t max_header)
{
	return max_header + 32 * 1024;
}

/* ---- the loop ---- */

static void run_mhd(struct http_server *s);

static void on_timer(void *arg)
{
	struct http_server *s = arg;

	s->timer = NULL;
	run_mhd(s);
}

static void on_io(void *arg, unsigned events)
{
	(void)events;
	run_mhd(arg);
}

/*
 * MHD must run again within ms. A timer already armed to fire by then is
 * kept (it runs MHD, which arms the next): MHD's timeout moves at every
 * run, and re-arming a dhp_timer costs an allocation, where libuv's
 * uv_timer_start() did not.
 */
static void arm(struct http_server *s, uint64_t ms)
{
	uint64_t due = dhp_loop_now(s->loop) + ms;

	if (s->timer && s->timer_due <= due)
		return;
	dhp_timer_cancel(s->loop, s->timer);
	s->timer = dhp_timer_add(s->loop, ms, on_timer, s);
	s->timer_due = due;
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
 *
 * MHD's own "run again at once" waits 1 ms. A TLS client that sends part
 * of a handshake record and stops leaves libmicrohttpd 0.9.75 saying 0 ms
 * at every run (GnuTLS's EAGAIN never clears MHD's "readable"): a timer
 * of 0 ms armed from a timer is due at once in the same pass of libuv's
 * timers, whose clock does not move, so dhpd spun there and no other
 * timer (the header deadline that ends such a client) ever fired.
 *
 * But a TLS response goes out one record (16 KiB) per MHD_run(): MHD
 * hands GnuTLS the rest of the body, GnuTLS sends one record of it, and
 * MHD asks for 0 ms. One run per millisecond capped every large answer
 * (an expanded collection, an event replay) at 16 MB/s. So while runs
 * write, and MHD asks for 0 ms, it runs again at once, up to
 * MAX_RUNS_WRITING times (1 MiB) before other events get their turn. A run
 * that wrote nothing (the half handshake above, a client not reading)
 * falls back to the timer. So does a run that gave a request to the
 * handler: what the handler set going on the loop (an engine's commit
 * "on the next turn", after which a DELETE's 204 is true) must run
 * before the client's next request is read, and a run at once could read
 * it (t0820 saw a GET just after a DELETE's 204 find the partition).
 */
static void run_mhd(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;
	unsigned runs = 0;

	do {
		s->closed_in_run = 0;
		s->pushed_in_run = 0;
		s->handled_in_run = 0;
		MHD_run(s->mhd);
		http_tls_flush(s);
	} while (!s->closed_in_run && s->pushed_in_run && !s->handled_in_run &&
		 ++runs < MAX_RUNS_WRITING &&
		 MHD_get_timeout(s->mhd, &ms) == MHD_YES && ms == 0);
	if (s->closed_in_run) {
		http_kick(s);
	} else if (MHD_get_timeout(s->mhd, &ms) == MHD_YES) {
		arm(s, ms ? ms : 1);
	} else {
		dhp_timer_cancel(s->loop, s->timer);
		s->timer = NULL;
	}
}

/* MHD_OPTION_NOTIFY_CONNECTION: counts closed connections for run_mhd(),
 * starts their header deadline (conn.c), and gives TLS connections to
 * tls.c. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct http_conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED && !http_conn_start(s, conn, socket_ctx))
		return;		/* out of memory: no deadline, and GnuTLS writes on its own */
	c = *socket_ctx;
	if (s->tls && c)
		http_tls_notify(s, conn, &c->out, code);
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		s->closed_in_run++;
		http_conn_end(s, socket_ctx);
	}
}

void http_kick(struct http_server *s)
{
	arm(s, 0);
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
	const struct http_limits *lim = &s->limits;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
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
	OPT(MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, s);
	OPT(MHD_OPTION_CONNECTION_LIMIT, lim->max_connections, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool_size(lim->max_header), NULL);
	OPT(MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL);
	if (cfg->cert_pem) {
		flags |= MHD_USE_TLS;
		s->tls = true;
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->key_pem);
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->cert_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags, 0, NULL, NULL, http_on_request, s, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
}

static int attach_loop(struct http_server *s, struct dhp_error *err)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	if (!info)
		return dhp_error_set(err, -ENOTSUP, "libmicrohttpd has no epoll fd");
	s->io = dhp_io_add(s->loop, info->epoll_fd, DHP_IO_READ, on_io, s);
	if (!s->io)
		return dhp_error_set(err, -ENOMEM, "cannot watch the HTTP server: out of memory");
	http_kick(s);
	return 0;
}

void http_limits_default(struct http_limits *limits)
{
	*limits = (struct http_limits){
		.max_body = 64 * 1024,
		.max_json_depth = 32,
		.max_header = 16 * 1024,
		.max_connections = 4096,
		.header_timeout_ms = 10000,
	};
}

int http_new(struct dhp_loop *loop, const struct http_config *cfg,
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
	s->loop = loop;
	s->limits = cfg->limits;
	s->handler = cfg->handler;
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
	r = attach_loop(s, err);
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

	for (struct http_stream *st = s->streams; st; st = st->next, n++)
		http_stream_close(st);
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
	dhp_io_cancel(s->loop, s->io);	/* before MHD closes the fd */
	MHD_stop_daemon(s->mhd);	/* runs http_on_completed for every request left */
	http_conn_stop(s);
	dhp_timer_cancel(s->loop, s->timer);
	free(s);
}
