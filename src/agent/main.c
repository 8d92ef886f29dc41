/* SPDX-License-Identifier: MIT */
/*
 * dhp-agent: options, start-up and the loop. Start-up order: the sysfs
 * root, the kernel's uevents, then the channel to dhpd, reopened for as
 * long as the agent runs (dhpd restarts, a test reconnects, the serial
 * port reports EIO); every (re)opening begins with a hello.
 */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

void agent_log(const char *fmt, ...)
{
	va_list ap;

	fputs("dhp-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void agent_debug(const struct agent *a, const char *fmt, ...)
{
	va_list ap;

	if (!a->cfg.verbose)
		return;
	fputs("dhp-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dhp-agent [--device PATH | --socket PATH] [--sysfs DIR]\n"
		   "                 [--settle-ms N] [--no-uevents] [--verbose]\n"
		   "Speaks the dhp agent protocol (version %d) with dhpd: docs/agent-protocol.md.\n"
		   "  --device PATH   serial port to dhpd (default /dev/ttyS1, set raw 115200 8N1)\n"
		   "  --socket PATH   connect to a unix socket instead (tests)\n"
		   "  --sysfs DIR     sysfs root (default /sys; tests use a fake tree)\n"
		   "  --settle-ms N   wait up to N ms for a hot-added unit's sysfs node (5000)\n"
		   "  --no-uevents    do not relay kernel uevents\n"
		   "  --verbose       log every refused line and notification\n",
		DHP_PROTO_VERSION);
}

static int parse_options(int argc, char **argv, struct agent_config *cfg)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "sysfs", required_argument, NULL, 'S' },
		{ "settle-ms", required_argument, NULL, 't' },
		{ "no-uevents", no_argument, NULL, 'U' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cfg->device = optarg; break;
		case 's': cfg->socket = optarg; break;
		case 'S': cfg->sysfs = optarg; break;
		case 'U': cfg->uevents = false; break;
		case 'v': cfg->verbose = true; break;
		case 't':
			errno = 0;
			cfg->settle_ms = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || cfg->settle_ms > 600000) {
				agent_log("--settle-ms wants milliseconds up to 600000, not \"%s\"",
					  optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("%s (protocol %d)\n", AGENT_NAME, DHP_PROTO_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	ppoll(NULL, 0, &ts, &wait_mask);
}

/* One turn: wait for dhpd or the kernel, answer. Returns whether the
 * channel delivered anything (for the back-off). */
static bool serve(struct agent *a)
{
	struct pollfd p[2] = { { a->chan_fd, POLLIN, 0 }, { a->uevent_fd, POLLIN, 0 } };
	char buf[DHP_PROTO_LINE_MAX];
	ssize_t n;

	if (ppoll(p, a->uevent_fd >= 0 ? 2 : 1, NULL, &wait_mask) < 0)
		return false;	/* EINTR: the caller looks at stopping */
	if (a->uevent_fd >= 0 && p[1].revents)
		uevents_relay(a);
	if (!p[0].revents)
		return false;
	n = read(a->chan_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0) {
		/* EOF from a socket, EIO from a serial port or pty that lost
		 * its other side: reopen. */
		agent_debug(a, "channel closed: %s", n ? strerror(errno) : "end of file");
		channel_close(a);
		return false;
	}
	dhp_proto_reader_push(&a->reader, buf, (size_t)n, agent_serve_line, a, NULL);
	if (a->chan_broken)
		channel_close(a);
	return true;
}

int main(int argc, char **argv)
{
	struct agent a = {
		.cfg = { .device = "/dev/ttyS1", .sysfs = "/sys", .settle_ms = 5000,
			 .uevents = true },
		.sysfs_fd = -1, .chan_fd = -1, .uevent_fd = -1,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t stop_signals;
	unsigned backoff = BACKOFF_MIN_MS;
	char last[DHP_ERROR_TEXT_MAX] = "";
	bool first = true, lively = false;
	int r;

	if ((r = parse_options(argc, argv, &a.cfg)) >= 0)
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

	while (!stopping) {
		if (a.chan_fd < 0) {
			struct dhp_error err = { 0 };

			if (!first) {
				/* A channel that closed at once must not spin. */
				backoff = lively ? BACKOFF_MIN_MS
						 : (backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
										 : backoff * 2);
				sleep_ms(backoff);
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
		lively |= serve(&a);
	}
	channel_close(&a);
	uevents_close(&a);
	close(a.sysfs_fd);
	return 0;
}
