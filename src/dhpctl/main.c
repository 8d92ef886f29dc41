/* SPDX-License-Identifier: MIT */
/*
 * dhpctl's entry: parse the command line (global options may come anywhere,
 * before or after the verb), resolve the configuration, open the HTTP
 * layer, run the verb, and turn the outcome into the exit code.
 *
 * Start-up order: signals, command line, configuration, HTTP; torn down in
 * reverse. Nothing talks to the server before the whole command line has
 * been checked, so a usage error never leaves a half-done change.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "http.h"

enum {
	OPT_URL = 256, OPT_USER, OPT_PASSWORD, OPT_PASSWORD_FILE, OPT_TOKEN, OPT_CACERT,
	OPT_INSECURE, OPT_CONFIG, OPT_TIMEOUT, OPT_NO_WAIT, OPT_VERSION,
	OPT_VERB = 512,			/* + the index of the verb's option */
};

static const struct option global_options[] = {
	{ "url", required_argument, NULL, OPT_URL },
	{ "user", required_argument, NULL, OPT_USER },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "output", required_argument, NULL, 'o' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
};
#define N_GLOBAL (sizeof(global_options) / sizeof(global_options[0]))

struct cmdline {
	struct ctl_flags flags;
	bool json, no_wait, help, version;
	struct ctl_args args;
};

const struct ctl_cmd *ctl_current_cmd;
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;	/* async-safe; SA_RESETHAND lets a second Ctrl-C kill */
}

bool ctl_interrupted(void)
{
	return interrupted;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed stdout (dhpctl events | head) shows as a write error. */
	signal(SIGPIPE, SIG_IGN);
}

static int global_option(struct cmdline *cl, int c, const char *arg)
{
	char *end;

	switch (c) {
	case OPT_URL: cl->flags.url = arg; break;
	case OPT_USER: cl->flags.user = arg; break;
	case OPT_PASSWORD: cl->flags.password = arg; break;
	case OPT_PASSWORD_FILE: cl->flags.password_file = arg; break;
	case OPT_TOKEN: cl->flags.token = arg; break;
	case OPT_CACERT: cl->flags.cacert = arg; break;
	case OPT_INSECURE: cl->flags.insecure = true; break;
	case OPT_CONFIG: cl->flags.config = arg; break;
	case OPT_NO_WAIT: cl->no_wait = true; break;
	case OPT_VERSION: cl->version = true; break;
	case 'h': cl->help = true; break;
	case 'o':
		if (strcmp(arg, "json") && strcmp(arg, "table"))
			return ctl_usage("unknown output format \"%s\" (json or table)", arg);
		cl->json = !strcmp(arg, "json");
		break;
	case OPT_TIMEOUT:
		errno = 0;
		cl->flags.timeout_s = strtol(arg, &end, 10);
		if (errno || *end || cl->flags.timeout_s < 1 || cl->flags.timeout_s > 86400)
			return ctl_usage("bad --timeout \"%s\" (seconds, 1 to 86400)", arg);
		break;
	default:
		return -1;
	}
	return 0;
}

static int bad_option(int c, const char *verb, int argc, char **argv)
{
	const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	const char *sep = verb ? " for " : "";

	if (!verb)
		verb = "";
	if (c == ':')
		return ctl_usage("option \"%s\" needs an argument", opt);
	if (optopt > 0 && optopt < 256)
		return ctl_usage("unknown option \"-%c\"%s%s", optopt, sep, verb);
	return ctl_usage("unknown option \"%s\"%s%s", opt, sep, verb);
}

/*
 * Parse argv with the global options and, when cmd is given, its own.
 * Without cmd: stop at the first non-option (the verb). With it: options
 * may follow the arguments, which are left in cl->args.
 */
static int parse(struct cmdline *cl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	struct option opts[N_GLOBAL + CTL_MAX_OPTIONS + 1];
	size_t n = N_GLOBAL;
	int c;

	memcpy(opts, global_options, sizeof(global_options));
	for (int i = 0; cmd && i < CTL_MAX_OPTIONS && cmd->options[i].name; i++)
		opts[n++] = (struct option){ cmd->options[i].name,
					     cmd->options[i].arg ? required_argument : no_argument,
					     NULL, OPT_VERB + i };
	memset(&opts[n], 0, sizeof(opts[n]));
	optind = 0;	/* glibc: start afresh */
	opterr = 0;
	while ((c = getopt_long(argc, argv, cmd ? ":ho:" : "+:ho:", opts, NULL)) != -1) {
		if (c >= OPT_VERB && cmd) {
			cl->args.opt[c - OPT_VERB] = optarg ? optarg : "";
			continue;
		}
		if (c == '?' || c == ':')
			return bad_option(c, cmd ? cmd->name : NULL, argc, argv);
		if (global_option(cl, c, optarg))
			return CTL_EXIT_USAGE;
	}
	return 0;
}

static int check_args(const struct ctl_cmd *cmd, const struct ctl_args *args)
{
	if (args->n < cmd->min_args)
		return ctl_usage("%s: missing arguments (usage: " PROG " %s %s)", cmd->name,
				 cmd->name, cmd->synopsis);
	if (cmd->max_args >= 0 && args->n > cmd->max_args)
		return ctl_usage("%s: unexpected argument \"%s\" (usage: " PROG " %s %s)",
				 cmd->name, args->v[cmd->max_args], cmd->name, cmd->synopsis);
	return 0;
}

static int run(struct cmdline *cl, const struct ctl_cmd *cmd)
{
	struct ctl ctl = { .json = cl->json, .no_wait = cl->no_wait, .expand = -1 };
	struct ctl_error err = { 0 };
	int rc;

	cl->flags.need_password = !strcmp(cmd->name, "login");
	if (ctl_config_resolve(&cl->flags, &ctl.cfg, &err) < 0)
		return ctl_error_print(&err);
	if (http_new(&ctl.cfg, &ctl.http, &err) < 0) {
		ctl_config_release(&ctl.cfg);
		return ctl_error_print(&err);
	}
	ctl_current_cmd = cmd;
	rc = cmd->run(&ctl, &cl->args);
	http_free(ctl.http);
	ctl_config_release(&ctl.cfg);
	return rc;
}

int main(int argc, char **argv)
{
	struct cmdline cl = { 0 };
	const struct ctl_cmd *cmd;
	int verb, rc;

	setup_signals();
	if (parse(&cl, NULL, argc, argv))
		return CTL_EXIT_USAGE;
	verb = optind;
	if (cl.version) {
		printf(PROG " %s (libcurl %s, jansson %s)\n", DHPCTL_VERSION,
		       curl_version_info(CURLVERSION_NOW)->version, jansson_version_str());
		return CTL_EXIT_OK;
	}
	if (verb >= argc) {
		if (cl.help) {
			help_print();
			return CTL_EXIT_OK;
		}
		return ctl_usage("no command given");
	}
	if (!strcmp(argv[verb], "help")) {
		cmd = verb + 1 < argc ? ctl_cmd_find(argv[verb + 1]) : NULL;
		if (verb + 1 < argc && !cmd)
			return ctl_usage("unknown command \"%s\"", argv[verb + 1]);
		cmd ? help_print_cmd(cmd) : help_print();
		return CTL_EXIT_OK;
	}
	cmd = ctl_cmd_find(argv[verb]);
	if (!cmd)
		return ctl_usage("unknown command \"%s\"", argv[verb]);
	if (parse(&cl, cmd, argc - verb, argv + verb))
		return CTL_EXIT_USAGE;
	if (cl.help) {
		help_print_cmd(cmd);
		return CTL_EXIT_OK;
	}
	cl.args.n = argc - verb - optind;
	cl.args.v = argv + verb + optind;
	if (check_args(cmd, &cl.args))
		return CTL_EXIT_USAGE;
	rc = run(&cl, cmd);
	if (fflush(stdout) && errno != EPIPE) {
		fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
		return rc ? rc : CTL_EXIT_FAILED;
	}
	return rc;
}
