/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim's commands: one table row each (name, what runs it, how many
 * arguments and which options it takes, its line of --help), kvmtool's
 * command table in small.
 */
#include "dhp-sim/dhp-sim.h"

#include <stdio.h>
#include <string.h>

static int cmd_demo(struct sim *s, const struct args *a)
{
	(void)a;
	return demo_run(s);
}

static int cmd_units(struct sim *s, const struct args *a)
{
	show_units(s, a->free_only);
	return SIM_EXIT_OK;
}

static int cmd_partitions(struct sim *s, const struct args *a)
{
	(void)a;
	show_partitions(s);
	return SIM_EXIT_OK;
}

static int cmd_ops(struct sim *s, const struct args *a)
{
	return show_ops(s, a->has_last ? a->last : 20);
}

static int cmd_events(struct sim *s, const struct args *a)
{
	return show_events(s, a->has_last ? a->last : 50);
}

/* create, delete, start, ... power-off: one request to the engine. */
static int cmd_verb(struct sim *s, const struct args *a)
{
	struct dhp_request req = { .profile = a->os, .spare = a->spare,
				   .on_restart = a->on_restart };
	struct dhp_error err = { 0 };
	unsigned first = 0;
	int rc;

	dhp_verb_parse(a->command, &req.verb);
	if (req.verb != DHP_VERB_POWER_ON && req.verb != DHP_VERB_POWER_OFF)
		req.partition = a->pos[first++];
	req.units = (const char *const *)&a->pos[first];
	req.n_units = a->n_pos - first;
	rc = sim_run(s, &req, NULL, &err);
	if (rc == SIM_EXIT_REFUSED)
		sim_print_error(&err);
	return rc;
}

#define MAXU (DHP_OP_MAX_UNITS + 1)

static const struct command commands[] = {
	{ "demo", cmd_demo, 0, 0, 0, "demo",
	  "the scripted scenario (on a fresh state)" },
	{ "units", cmd_units, 0, 0, CO_FREE, "units [--free]",
	  "the server's units; --free: only the free ones" },
	{ "partitions", cmd_partitions, 0, 0, 0, "partitions",
	  "the partitions and what they own" },
	{ "ops", cmd_ops, 0, 0, CO_LAST, "ops [--last N]",
	  "the last N operations (20; 0: all)" },
	{ "events", cmd_events, 0, 0, CO_LAST, "events [--last N]",
	  "the last N events (50; 0: all)" },
	{ "create", cmd_verb, 1, MAXU, CO_OS, "create NAME --os PROFILE UNIT...",
	  "a stopped partition owning these units" },
	{ "delete", cmd_verb, 1, 1, 0, "delete NAME",
	  "a stopped partition; its units go free" },
	{ "start", cmd_verb, 1, 1, 0, "start NAME",
	  "power its units on and boot its OS" },
	{ "stop", cmd_verb, 1, 1, 0, "stop NAME",
	  "shut its OS down and power its units off" },
	{ "restart", cmd_verb, 1, 1, 0, "restart NAME",
	  "stop, apply the staged changes, start" },
	{ "add", cmd_verb, 2, MAXU, CO_ON_RESTART, "add NAME UNIT... [--on-restart]",
	  "hot add (running), assign (stopped) or stage" },
	{ "remove", cmd_verb, 2, MAXU, CO_ON_RESTART, "remove NAME UNIT... [--on-restart]",
	  "hot remove, unassign or stage" },
	{ "replace", cmd_verb, 2, 2, CO_SPARE, "replace NAME UNIT [--spare UNIT]",
	  "hot replace by an identical free unit" },
	{ "power-on", cmd_verb, 1, 1, 0, "power-on UNIT", "a free unit" },
	{ "power-off", cmd_verb, 1, 1, 0, "power-off UNIT", "a free unit" },
};

void sim_print_help(void)
{
	unsigned n_profiles;
	const struct dhp_os_profile *profiles = dhp_profiles(&n_profiles);

	printf("usage: " PROG " [OPTIONS] COMMAND [ARGS]\n\n"
	       "Run dhp's engine on the simulated backend, in this process. Each run\n"
	       "opens the state directory, recovers it, runs one command and exits;\n"
	       "the state persists between runs.\n\n"
	       "options:\n"
	       "  --topology FILE   server topology (default " SIM_DEFAULT_TOPOLOGY ")\n"
	       "  --state-dir DIR   state directory, created 0700 if missing\n"
	       "                    (default " SIM_DEFAULT_STATE_DIR ")\n"
	       "  --fresh           forget the state in DIR first\n"
	       "  --faults SPEC     inject faults: CALL[:NOTE][@UNIT][/PARTITION]=EFFECT[:ARG]\n"
	       "                    [*COUNT], comma-separated (e.g. notify:add-start=veto)\n"
	       "  --latency MS      delay of every simulated hardware answer (default %u)\n"
	       "  --deadline MS     time limit of each operation phase (default %u)\n"
	       "  -h, --help        this text\n\n"
	       "commands:\n", SIM_DEFAULT_LATENCY_MS, DHP_DEFAULT_PHASE_DEADLINE_MS);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-36s %s\n", commands[i].usage, commands[i].help);
	printf("\nOS profiles:");
	for (unsigned i = 0; i < n_profiles; i++)
		printf(" %s", profiles[i].name);
	printf("\n\nexit status:\n"
	       "  0  ok\n"
	       "  1  the operation failed or was rolled back\n"
	       "  2  bad usage\n"
	       "  3  refused: the request was not valid now (nothing was changed)\n"
	       "  4  the topology, state directory or store could not be used,\n"
	       "     or recovery failed\n");
}

const struct command *sim_command_find(const struct args *a)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, a->command))
			return &commands[i];
	return NULL;
}

/* Indexed by the bit number of enum cmd_opt. */
static const char *const cmd_opt_names[] = {
	"--os", "--on-restart", "--spare", "--free", "--last",
};

int sim_command_check(const struct command *cmd, const struct args *a)
{
	char hint[128];

	snprintf(hint, sizeof(hint), "usage: " PROG " [OPTIONS] %s", cmd->usage);
	if (a->n_pos < cmd->min_pos || a->n_pos > cmd->max_pos)
		return sim_usage_error(hint, "%s takes %s arguments", cmd->name,
				       a->n_pos < cmd->min_pos ? "more" : "fewer");
	for (unsigned i = 0; i < sizeof(cmd_opt_names) / sizeof(cmd_opt_names[0]); i++)
		if (a->seen & ~cmd->opts & (1u << i))
			return sim_usage_error(hint, "%s does not apply to %s", cmd_opt_names[i],
					       cmd->name);
	if ((cmd->opts & CO_OS) && !a->os)
		return sim_usage_error(hint, "create needs --os PROFILE");
	return 0;
}
