/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim: run dhp's engine on the simulated backend, in this process, on
 * a state directory that persists between runs. For the demo, and to try
 * operations before the daemon exists. docs/dhp-sim.md is its manual.
 *
 * This file reads the command line; main() opens the engine (open.c), runs
 * one command (commands.c) and closes everything again.
 */
#include "dhp-sim/dhp-sim.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_usage_error(const char *hint, const char *fmt, ...)
{
	struct dhp_error err = { .code = -EINVAL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	snprintf(err.resolution, sizeof(err.resolution), "%s",
		 hint ? hint : "run " PROG " --help for the usage");
	sim_print_error(&err);
	return SIM_EXIT_USAGE;
}

static int parse_count(const char *opt, const char *text, uint64_t max, uint64_t *ret)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno == ERANGE || (end != text && !*end && text[0] != '-' && v > max))
		return sim_usage_error(NULL, "%s %s is too large", opt, text);
	if (errno || end == text || *end || text[0] == '-')
		return sim_usage_error(NULL, "%s takes a whole number, not \"%s\"", opt, text);
	*ret = v;
	return 0;
}

enum long_opt {
	OPT_TOPOLOGY = 256, OPT_STATE_DIR, OPT_FRESH, OPT_FAULTS, OPT_LATENCY, OPT_DEADLINE,
	OPT_OS, OPT_ON_RESTART, OPT_SPARE, OPT_FREE, OPT_LAST,
};

static const struct option long_options[] = {
	{ "topology", required_argument, NULL, OPT_TOPOLOGY },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "fresh", no_argument, NULL, OPT_FRESH },
	{ "faults", required_argument, NULL, OPT_FAULTS },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ "os", required_argument, NULL, OPT_OS },
	{ "on-restart", no_argument, NULL, OPT_ON_RESTART },
	{ "spare", required_argument, NULL, OPT_SPARE },
	{ "free", no_argument, NULL, OPT_FREE },
	{ "last", required_argument, NULL, OPT_LAST },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int take_positional(struct args *a, char *arg)
{
	if (!a->command) {
		a->command = arg;
		return 0;
	}
	if (a->n_pos == sizeof(a->pos) / sizeof(a->pos[0]))
		return sim_usage_error(NULL, "too many arguments (at most %d units per request)",
				       DHP_OP_MAX_UNITS);
	a->pos[a->n_pos++] = arg;
	return 0;
}

static int take_number(const char *opt, const char *arg, uint64_t max, uint64_t *ret)
{
	return parse_count(opt, arg, max, ret) ? SIM_EXIT_USAGE : 0;
}

/* A command's own option; 0, or an exit code. */
static int take_command_option(struct args *a, int c, char *arg)
{
	uint64_t v = 0;
	int r = 0;

	switch (c) {
	case OPT_OS:
		a->os = arg;
		a->seen |= CO_OS;
		break;
	case OPT_ON_RESTART:
		a->on_restart = true;
		a->seen |= CO_ON_RESTART;
		break;
	case OPT_SPARE:
		a->spare = arg;
		a->seen |= CO_SPARE;
		break;
	case OPT_FREE:
		a->free_only = true;
		a->seen |= CO_FREE;
		break;
	case OPT_LAST:
		r = take_number("--last", arg, SIZE_MAX, &v);
		a->last = (size_t)v;
		a->has_last = true;
		a->seen |= CO_LAST;
		break;
	default:
		return SIM_EXIT_USAGE;
	}
	return r;
}

/* One option or positional argument; 0, or an exit code. */
static int take_option(struct sim_options *o, struct args *a, int c, char *arg)
{
	uint64_t v = 0;
	int r = 0;

	switch (c) {
	case 1:
		return take_positional(a, arg);
	case 'h':
		a->help = true;
		break;
	case OPT_TOPOLOGY:
		o->topology = arg;
		break;
	case OPT_STATE_DIR:
		o->state_dir = arg;
		break;
	case OPT_FRESH:
		o->fresh = true;
		break;
	case OPT_FAULTS:
		o->faults = arg;
		break;
	case OPT_LATENCY:
		r = take_number("--latency", arg, UINT32_MAX, &v);
		o->latency_ms = (uint32_t)v;
		break;
	case OPT_DEADLINE:
		r = take_number("--deadline", arg, UINT32_MAX, &v);
		o->deadline_ms = (uint32_t)v;
		break;
	default:
		return take_command_option(a, c, arg);
	}
	return r;
}

static int parse_args(int argc, char **argv, struct sim_options *o, struct args *a)
{
	int c, r;

	opterr = 0;
	/* "-": arguments come back in order, options anywhere on the line. */
	while ((c = getopt_long(argc, argv, "-:h", long_options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return sim_usage_error(NULL, "%s \"%s\"", c == '?' ? "unknown option" :
					       "missing value for option", argv[optind - 1]);
		r = take_option(o, a, c, optarg);
		if (r)
			return r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sim s = {
		.opt = { .topology = SIM_DEFAULT_TOPOLOGY, .state_dir = SIM_DEFAULT_STATE_DIR,
			 .latency_ms = SIM_DEFAULT_LATENCY_MS },
		.lock_fd = -1,
	};
	struct args a = { 0 };
	struct dhp_error err = { 0 };
	const struct command *cmd;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);	/* events show as they happen */
	rc = parse_args(argc, argv, &s.opt, &a);
	if (rc)
		return rc;
	if (a.help) {
		sim_print_help();
		return SIM_EXIT_OK;
	}
	if (!a.command)
		return sim_usage_error(NULL, "no command given");
	cmd = sim_command_find(&a);
	if (!cmd)
		return sim_usage_error(NULL, "unknown command \"%s\"", a.command);
	rc = sim_command_check(cmd, &a);
	if (rc)
		return rc;
	rc = sim_open(&s, &err);
	if (rc == SIM_EXIT_OK) {
		rc = cmd->run(&s, &a);
	} else {
		if (err.code == -ESTALE && !err.resolution[0])
			dhp_error_resolve(&err, "use another --state-dir, or --fresh to start over");
		sim_print_error(&err);
	}
	sim_close(&s);
	return rc;
}
