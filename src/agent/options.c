/* SPDX-License-Identifier: MIT */
/* dhp-agent's options (docs/agent-protocol.md, dhp-agent's options). */
#include "agent/agent.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: dhp-agent [--device PATH | --socket PATH] [--sysfs DIR]\n"
		   "                 [--settle-ms N] [--offline-timeout-ms N]\n"
		   "                 [--no-uevents] [--verbose]\n"
		   "                 [--app-socket PATH | --no-apps] [--app-timeout-ms N]\n"
		   "Speaks the dhp agent protocol (version %d) with dhpd: docs/agent-protocol.md.\n"
		   "  --device PATH       serial port to dhpd (default /dev/ttyS1, set raw 115200 8N1)\n"
		   "  --socket PATH       connect to a unix socket instead (tests)\n"
		   "  --sysfs DIR         sysfs root (default /sys; tests use a fake tree)\n"
		   "  --settle-ms N       wait up to N ms for a hot-added unit's sysfs node (5000)\n"
		   "  --offline-timeout-ms N  give a memory block N ms to go offline (20000)\n"
		   "  --no-uevents        do not relay kernel uevents\n"
		   "  --app-socket PATH   where applications (libdhp) register (%s)\n"
		   "  --no-apps           no applications: notifications are approved at once\n"
		   "  --app-timeout-ms N  wait up to N ms for the applications' answers (2000)\n"
		   "  --verbose           log every refused line and notification\n",
		DHP_PROTO_VERSION, AGENT_APP_SOCKET);
}

/* A number up to max for option name; false (and a log line) if not. */
static bool parse_number(const char *name, const char *arg, unsigned min, unsigned max,
			 unsigned *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || !*arg || *arg == '-' || v < min || v > max) {
		agent_log("--%s wants a number from %u to %u, not \"%s\"", name, min, max, arg);
		return false;
	}
	*ret = (unsigned)v;
	return true;
}

int agent_options(int argc, char **argv, struct agent_config *cfg)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "sysfs", required_argument, NULL, 'S' },
		{ "settle-ms", required_argument, NULL, 't' },
		{ "offline-timeout-ms", required_argument, NULL, 'o' },
		{ "no-uevents", no_argument, NULL, 'U' },
		{ "app-socket", required_argument, NULL, 'A' },
		{ "no-apps", no_argument, NULL, 'N' },
		{ "app-timeout-ms", required_argument, NULL, 'T' },
		/* Tests only: the cap on applications, to test it cheaply. */
		{ "app-max", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cfg->device = optarg; break;
		case 's': cfg->socket = optarg; break;
		case 'S': cfg->sysfs = optarg; break;
		case 'U': cfg->uevents = false; break;
		case 'v': cfg->verbose = true; break;
		case 'A': cfg->app_socket = optarg; break;
		case 'N': cfg->app_socket = NULL; break;
		case 't':
			if (!parse_number("settle-ms", optarg, 0, 600000, &cfg->settle_ms))
				return 2;
			break;
		case 'o':
			if (!parse_number("offline-timeout-ms", optarg, 100, 600000, &cfg->offline_ms))
				return 2;
			break;
		case 'T':
			if (!parse_number("app-timeout-ms", optarg, 0, 600000, &cfg->app_timeout_ms))
				return 2;
			break;
		case 'M':
			if (!parse_number("app-max", optarg, 1, AGENT_APPS_MAX, &cfg->app_max))
				return 2;
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
