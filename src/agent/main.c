/* SPDX-License-Identifier: MIT */
/*
 * dhp-agent: start-up and the loop (options.c has the options). Start-up
 * order: the sysfs root, the kernel's uevents, the applications' socket,
 * then the channel to dhpd, reopened for as long as the agent runs (dhpd
 * restarts, a test reconnects, the serial port reports EIO); every
 * (re)opening begins with a hello. Applications are served all the
 * while, the channel open or not.
 */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

static volatile sig_atomic_t stopping;
/* SIGTERM and SIGINT are blocked except while the agent waits (ppoll), so
 * that one arriving just before a wait cannot be missed. */
static sigset_t wait_mask;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;	/* async-signal-safe: the loop sees it after poll */
}

bool agent_stopping(void)
{
	return stopping;
}

const sigset_t *agent_wait_mask(void)
{
	return &wait_mask;
}

int64_t agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 1, 0)))
static void vlog(const char *fmt, va_list ap)
{
	fputs("dhp-agent: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void agent_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void agent_debug(const struct agent *a, const char *fmt, ...)
{
	va_list ap;

	if (!a->cfg.verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/* One turn: wait up to timeout_ms (-1: no limit) for dhpd, the kernel or
 * the applications, and answer. Returns whether the channel delivered
 * anything (for the back-off). */
static bool serve(struct agent *a, int timeout_ms)
{
	size_t n_apps = apps_poll_count(a);
	struct pollfd *p = calloc(2 + n_apps, sizeof(*p));
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
	char buf[DHP_PROTO_LINE_MAX];
	bool lively = false;
	ssize_t n;

	if (!p) {
		agent_log("cannot wait: %s", strerror(ENOMEM));
		ts = (struct timespec){ 0, 100000000L };
		ppoll(NULL, 0, &ts, &wait_mask);
		return false;
	}
	/* Closed descriptors (-1) are skipped by poll. */
	p[0] = (struct pollfd){ a->chan_fd, POLLIN, 0 };
	p[1] = (struct pollfd){ a->uevent_fd, POLLIN, 0 };
	apps_poll_fill(a, p + 2);
	if (ppoll(p, 2 + n_apps, timeout_ms < 0 ? NULL : &ts, &wait_mask) <= 0)
		goto out;	/* EINTR: the caller looks at stopping */
	if (p[1].revents)
		uevents_relay(a);
	/* Before dhpd's line: a notification changes the applications. */
	apps_poll_handle(a, p + 2);
	if (!p[0].revents || a->chan_fd < 0)
		goto out;
	n = read(a->chan_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		goto out;
	if (n <= 0) {
		/* EOF from a socket, EIO from a serial port or pty that lost
		 * its other side: reopen. */
		agent_debug(a, "channel closed: %s", n ? strerror(errno) : "end of file");
		channel_close(a);
		goto out;
	}
	lively = true;
	dhp_proto_reader_push(&a->reader, buf, (size_t)n, agent_serve_line, a, NULL);
	if (a->chan_broken)
		channel_close(a);
out:
	free(p);
	apps_sweep(a);
	return lively;
}

/* The back-off before reopening the channel: applications are served. */
static void sleep_ms(struct agent *a, unsigned ms)
{
	int64_t end = agent_now_ms() + ms, left;

	while (!stopping && (left = end - agent_now_ms()) > 0)
		serve(a, (int)left);
}

int main(int argc, char **argv)
{
	struct agent a = {
		.cfg = { .device = "/dev/ttyS1", .sysfs = "/sys", .settle_ms = 5000, .offline_ms = 20000,
			 .uevents = true, .app_socket = AGENT_APP_SOCKET,
			 .app_timeout_ms = 2000, .app_max = AGENT_APPS_MAX },
		.sysfs_fd = -1, .chan_fd = -1, .uevent_fd = -1,
		.apps = { .listen_fd = -1 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t stop_signals;
	unsigned backoff = BACKOFF_MIN_MS;
	char last[DHP_ERROR_TEXT_MAX] = "";
	bool first = true, lively = false;
	int r;

	if ((r = agent_options(argc, argv, &a.cfg)) >= 0)
		return r;
	/* No SA_RESTART: ppoll returns and the loop sees stopping. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigprocmask(SIG_BLOCK, &stop_signals, &wait_mask);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	signal(SIGPIPE, SIG_IGN);	/* a closed socket is EPIPE, then reopen */
	a.sysfs_fd = open(a.cfg.sysfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a.sysfs_fd < 0) {
		agent_log("cannot open the sysfs root \"%s\": %s", a.cfg.sysfs, strerror(errno));
		return 1;
	}
	dhp_proto_reader_init(&a.reader);
	if (a.cfg.uevents && (r = uevents_open(&a)) < 0)
		agent_log("kernel uevents will not be relayed: %s", strerror(-r));
	if (a.cfg.app_socket) {
		struct dhp_error err = { 0 };

		if (apps_open(&a, &err) < 0)
			agent_log("applications cannot register: %s", err.message);
	}

	while (!stopping) {
		if (a.chan_fd < 0) {
			struct dhp_error err = { 0 };

			if (!first) {
				/* A channel that closed at once must not spin. */
				backoff = lively ? BACKOFF_MIN_MS
						 : (backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
										 : backoff * 2);
				sleep_ms(&a, backoff);
			}
			first = false;
			lively = false;
			if (channel_open(&a, &err) < 0) {
				/* Once per reason, not every back-off. */
				if (strcmp(last, err.message))
					agent_log("%s", err.message);
				snprintf(last, sizeof(last), "%s", err.message);
				continue;
			}
			last[0] = '\0';
			agent_debug(&a, "channel open; sending hello");
			agent_send_hello(&a);
			if (a.chan_broken)
				channel_close(&a);
			continue;
		}
		lively |= serve(&a, -1);
	}
	channel_close(&a);
	apps_close(&a);
	uevents_close(&a);
	close(a.sysfs_fd);
	return 0;
}
