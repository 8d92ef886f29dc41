/* SPDX-License-Identifier: MIT */
/*
 * dhpd: the daemon. One libuv loop runs everything: the engine's timers
 * (uvloop.c), the simulated hardware's answers, HTTP (src/http, on the
 * same dhp_loop), events POSTed to push subscriptions (src/push, libcurl
 * on the same dhp_loop), signals.
 *
 * Start-up order, each step needing the ones before it:
 *   options → state directory + lock → TLS material → accounts (+ admin)
 *   → topology → store → backend → API service → engine (its listener is
 *   the service) → HTTP listen (requests that need the engine get 503
 *   until recovery is done) → recovery → "dhpd: ready on URL" on stderr.
 * Listening comes before recovery so that a busy port fails fast, before
 * any work, and clients see 503 rather than a refused connection while a
 * long recovery runs.
 *
 * Stopping (SIGTERM, SIGINT): stop accepting connections, answer 503 on
 * open ones, give operations in flight up to 10 s to end (a second signal
 * cuts it short; what is left is recovered at the next start, as after a
 * crash), end the event streams and connections, free everything in
 * reverse order, exit 0. SIGKILL is a crash: the next start recovers.
 */
#include "dhpd/dhpd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "auth/auth.h"
#include "backend/qemu/qemu.h"
#include "backend/sim/sim.h"
#include "dhpd/uvloop.h"
#include "http/http.h"
#include "model/topology.h"
#include "push/push.h"
#include "redfish/redfish.h"

#define STOP_GRACE_MS 10000u	/* for operations in flight */
#define STREAMS_GRACE_MS 2000u	/* for event streams to send their end */
#define STOP_POLL_MS 50u

struct dhpd {
	struct dhpd_options opt;
	uv_loop_t uv;
	struct dhp_loop *loop;
	int lock_fd;
	char *cert_pem, *key_pem;
	struct auth *auth;
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_backend *backend;
	struct push *push;
	struct redfish *rf;
	struct dhpd_console *console;
	struct dhp_core *core;
	struct http_server *http;
	struct dhpd_log_limit http_log_limit;
	uv_signal_t sigterm, sigint;
	uv_timer_t stop_timer;
	uint64_t stop_deadline;
	bool stopping;
	bool ending_streams;
	bool handles_closed;
	int exit_code;
};

/* ---- start-up ---- */

static int open_auth(struct dhpd *d, struct dhp_error *err)
{
	char path[DHPD_PATH_MAX];
	struct auth_config cfg = {
		.accounts_path = path, .max_sessions = d->opt.max_sessions,
		.max_sessions_per_user = d->opt.max_sessions_per_user,
		.session_timeout_s = d->opt.session_timeout_s,
		.hash_iterations = d->opt.hash_iterations,
	};
	int r = dhpd_path(path, sizeof(path), d->opt.state_dir, "accounts.json", err);

	if (!r)
		r = auth_new(&cfg, &d->auth, err);
	if (!r)
		r = dhpd_state_admin(d->auth, d->opt.state_dir, d->opt.admin_password_file, err);
	return r;
}

static void qemu_notice(void *ctx, const char *line)
{
	(void)ctx;
	dhpd_log("qemu: %s", line);
}

/* Real partitions (docs/qemu.md): a QEMU per partition. */
static int open_qemu(struct dhpd *d, struct dhp_error *err)
{
	struct dhp_qemu_config cfg = {
		.state_dir = d->opt.state_dir, .notice = qemu_notice,
		.append = d->opt.guest_append,
	};
	int r = dhp_qemu_accel_parse(d->opt.accel, &cfg.accel);

	if (!r)
		r = dhp_qemu_new(d->server, d->loop, &cfg, &d->backend, err);
	if (r < 0)
		return r;
	if (!d->opt.phase_deadline_ms)
		d->opt.phase_deadline_ms = DHPD_QEMU_PHASE_DEADLINE_MS;
	dhpd_log("qemu %s (%s): processors leave partitions by %s: %s",
		 dhp_qemu_version(d->backend), dhp_qemu_accel(d->backend),
		 dhp_qemu_cpu_remove_method(d->backend), dhp_qemu_cpu_remove_reason(d->backend));
	return 0;
}

static int open_backend(struct dhpd *d, struct dhp_error *err)
{
	bool qemu = !strncmp(d->opt.server, "qemu:", 5);
	const char *topology = d->opt.server + (qemu ? 5 : 4);
	char path[DHPD_PATH_MAX];
	int r;

	if ((!qemu && strncmp(d->opt.server, "sim:", 4)) || !*topology) {
		dhp_error_set(err, -EINVAL, "unknown server \"%s\"", d->opt.server);
		return dhp_error_resolve(err, "use --server sim:TOPOLOGY or qemu:TOPOLOGY "
					 "(docs/topology.md)");
	}
	r = dhp_topology_load(topology, &d->server, err);
	if (!r)
		r = dhpd_path(path, sizeof(path), d->opt.state_dir, "state.db", err);
	if (!r)
		r = dhp_store_open(path, &d->store, err);
	if (!r)
		dhp_store_set_retention(d->store, &(struct dhp_store_retention){
			d->opt.task_retention, d->opt.event_retention });
	if (!r && qemu)
		return open_qemu(d, err);
	if (!r)
		r = dhpd_path(path, sizeof(path), d->opt.state_dir, "sim-hw", err);
	if (!r)
		r = dhp_sim_new(d->server, d->loop, path, &d->backend, err);
	if (r < 0)
		return r;
	dhp_sim_set_latency(d->backend, d->opt.sim_latency_ms);
	if (d->opt.sim_faults[0])
		r = dhp_sim_faults_configure(d->backend, d->opt.sim_faults, err);
	return r;
}

/* Once when the state directory fills, once when it takes writes again:
 * not a line per refused request. */
static void storage_full(void *ctx, bool full, const struct dhp_error *why)
{
	struct dhpd *d = ctx;

	if (full)
		dhpd_log("%s; changes are refused and operations wait until space returns",
			 why && why->message[0] ? why->message : "the state directory is full");
	else
		dhpd_log("state directory %s: writes succeed again; changes are accepted",
			 d->opt.state_dir);
}

/* ---- the API's sender for push subscriptions: src/push ---- */

static void *send_post(void *ctx, const char *url, const char *body, size_t len,
		       redfish_sent_fn done, void *arg)
{
	return push_post(ctx, url, body, len, done, arg);
}

static void send_cancel(void *ctx, void *post)
{
	push_cancel(ctx, post);
}

static void api_log(void *ctx, const char *line)
{
	(void)ctx;
	dhpd_log("%s", line);
}

static int open_engine(struct dhpd *d, struct dhp_error *err)
{
	struct push_config push_cfg = {
		.ca_file = d->opt.event_ca_file[0] ? d->opt.event_ca_file : NULL,
	};
	struct dhp_core_config cfg = {
		.server = d->server, .store = d->store, .backend = d->backend, .loop = d->loop,
		.phase_deadline_ms = d->opt.phase_deadline_ms,
		.storage_full = storage_full, .storage_ctx = d,
	};
	struct redfish_config rf_cfg = {
		.auth = d->auth, .loop = d->loop, .max_sse_clients = d->opt.max_sse_clients,
		.sender = { .post = send_post, .cancel = send_cancel },
		.retry_attempts = d->opt.event_retry_attempts,
		.retry_interval_s = d->opt.event_retry_interval_s,
		.reservation_lifetime_s = d->opt.reservation_lifetime_s,
		.log = api_log,
	};
	int r = push_new(d->loop, &push_cfg, &d->push, err);

	if (r < 0)
		return r;
	rf_cfg.sender.ctx = d->push;
	r = redfish_new(&rf_cfg, &d->rf, err);

	if (r < 0)
		return r;
	cfg.listener = redfish_core_listener(d->rf);
	r = dhp_core_new(&cfg, &d->core, err);
	if (r < 0)
		return r;
	redfish_set_core(d->rf, d->core);
	return 0;
}

/* MHD's own diagnostics, as dhpd's lines, at a bounded rate (log-limit.c). */
static void http_log(void *ctx, const char *fmt, va_list ap)
{
	struct dhpd *d = ctx;
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strcspn(line, "\n");
	line[n] = '\0';
	if (line[0] >= 'A' && line[0] <= 'Z')
		line[0] = (char)(line[0] - 'A' + 'a');
	dhpd_log_limited(&d->http_log_limit, fmt, line);
}

static int start_http(struct dhpd *d, struct dhp_error *err)
{
	struct http_config cfg = {
		.address = d->opt.address, .port = d->opt.port, .log = http_log, .log_ctx = d,
		.cert_pem = d->opt.no_tls ? NULL : d->cert_pem,
		.key_pem = d->opt.no_tls ? NULL : d->key_pem,
		.limits = d->opt.limits,
		.handler = dhpd_console_handler(d->console, redfish_http_handler(d->rf)),
	};

	dhpd_log_limit_init(&d->http_log_limit, d->loop);
	return http_new(d->loop, &cfg, &d->http, err);
}

/* --console-dir must work; the built-in folder may be missing (an
 * installed dhpd started without the option): dhpd then serves no console. */
static int open_console(struct dhpd *d, struct dhp_error *err)
{
	const char *dir = d->opt.console_dir[0] ? d->opt.console_dir : DHPD_CONSOLE_DIR;
	int r = dhpd_console_new(dir, &d->console, err);

	if (r == -ENOENT && !d->opt.console_dir[0]) {
		dhpd_log("no web console: %s", err->message);
		*err = (struct dhp_error){ 0 };
		r = dhpd_console_new(NULL, &d->console, err);
	}
	return r;
}

static void begin_stop(struct dhpd *d, int exit_code);
static void finish(struct dhpd *d);

static void on_recovered(void *ctx, int rc, const struct dhp_error *err)
{
	struct dhpd *d = ctx;
	bool v6 = strchr(d->opt.address, ':') != NULL;

	if (rc < 0) {
		if (err)
			dhpd_log_error(err);
		dhpd_log("recovery of %s failed", d->opt.state_dir);
		d->exit_code = 1;
		finish(d);	/* the engine cannot take requests: nothing to wait for */
		return;
	}
	if (d->stopping)
		return;		/* a signal came during recovery */
	redfish_set_state(d->rf, REDFISH_READY);
	dhpd_log("ready on %s://%s%s%s:%u", d->opt.no_tls ? "http" : "https", v6 ? "[" : "",
		 d->opt.address, v6 ? "]" : "", http_port(d->http));
}

/* ---- stopping ---- */

/* dhpd's own handles and the HTTP server: what keeps the loop going. */
static void close_handles(struct dhpd *d)
{
	if (d->handles_closed)
		return;
	d->handles_closed = true;
	uv_close((uv_handle_t *)&d->stop_timer, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	http_free(d->http);	/* ends the event streams */
	d->http = NULL;
	dhpd_log_limit_release(&d->http_log_limit);
}

static void finish(struct dhpd *d)
{
	close_handles(d);
	uv_stop(&d->uv);	/* the engine's timers may still be armed */
}

/* First operations in flight end (or the grace runs out), then the event
 * streams: they tell of those operations' last events. */
static void stop_poll(uv_timer_t *t)
{
	struct dhpd *d = t->data;
	uint64_t now = uv_now(&d->uv);

	if (!d->ending_streams) {
		if (!dhp_core_idle(d->core) && now < d->stop_deadline)
			return;
		if (!dhp_core_idle(d->core))
			dhpd_log("operations still running after %u s: stopping anyway; "
				 "the next start recovers them", STOP_GRACE_MS / 1000);
		d->ending_streams = true;
		d->stop_deadline = now + STREAMS_GRACE_MS;
	}
	if (!d->http || !http_end_streams(d->http) || now >= d->stop_deadline)
		finish(d);
}

static void begin_stop(struct dhpd *d, int exit_code)
{
	if (d->stopping) {
		finish(d);	/* asked twice: at once */
		return;
	}
	d->stopping = true;
	d->exit_code = exit_code;
	dhpd_log("stopping");
	if (d->http)
		http_quiesce(d->http);
	redfish_set_state(d->rf, REDFISH_STOPPING);
	d->stop_deadline = uv_now(&d->uv) + STOP_GRACE_MS;
	uv_timer_start(&d->stop_timer, stop_poll, 0, STOP_POLL_MS);
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	begin_stop(s->data, 0);
}

/* ---- main ---- */

/* 1,000 event streams need more descriptors than the usual soft limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int start(struct dhpd *d, struct dhp_error *err)
{
	int r = dhpd_state_open(d->opt.state_dir, &d->lock_fd, err);

	if (!r && !d->opt.no_tls)
		r = dhpd_tls_material(d->opt.state_dir, &d->cert_pem, &d->key_pem, err);
	if (!r)
		r = open_auth(d, err);
	if (!r)
		r = open_backend(d, err);
	if (!r)
		r = open_engine(d, err);
	if (!r)
		r = open_console(d, err);
	if (!r)
		r = start_http(d, err);
	if (!r)
		r = dhp_core_recover(d->core, on_recovered, d);
	return r;
}

static void init_handles(struct dhpd *d)
{
	uv_signal_init(&d->uv, &d->sigterm);
	uv_signal_init(&d->uv, &d->sigint);
	uv_timer_init(&d->uv, &d->stop_timer);
	d->sigterm.data = d->sigint.data = d->stop_timer.data = d;
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
}

/* In reverse order of start(); the loop runs once more for libuv's close
 * callbacks (timers, HTTP handles, push's sockets) before it is closed. */
static void stop(struct dhpd *d)
{
	close_handles(d);
	dhpd_console_free(d->console);
	dhp_core_free(d->core);
	redfish_free(d->rf);
	push_free(d->push);	/* after the service: it cancels its POSTs */
	dhp_backend_free(d->backend);
	dhp_store_close(d->store);
	dhp_server_free(d->server);
	auth_free(d->auth);
	uvloop_free(d->loop);
	uv_run(&d->uv, UV_RUN_DEFAULT);
	uv_loop_close(&d->uv);
	free(d->cert_pem);
	free(d->key_pem);
	if (d->lock_fd >= 0)
		close(d->lock_fd);	/* and the lock with it */
}

int main(int argc, char **argv)
{
	static struct dhpd d = { .lock_fd = -1 };
	struct dhp_error err = { 0 };
	int r = dhpd_options_parse(argc, argv, &d.opt, &err);

	if (r < 0) {
		dhpd_log_error(&err);
		return 2;
	}
	if (r == DHPD_EXIT_OK)
		return 0;
	signal(SIGPIPE, SIG_IGN);	/* a client gone mid-write is an error, not a death */
	raise_fd_limit();
	uv_loop_init(&d.uv);
	init_handles(&d);
	d.loop = uvloop_new(&d.uv);
	r = d.loop ? start(&d, &err) : dhp_error_set(&err, -ENOMEM, "out of memory");
	if (r < 0) {
		dhpd_log_error(&err);
		d.exit_code = 1;
	} else {
		uv_run(&d.uv, UV_RUN_DEFAULT);
	}
	stop(&d);
	return d.exit_code;
}
