/* SPDX-License-Identifier: MIT */
/*
 * The command table: every verb with its synopsis, options, help and an
 * example. main.c parses against it and help.c prints it, so a verb is
 * described once, here.
 */
#include "commands.h"

#include <string.h>

#define OS_PROFILES "linux, windows-server-2003-sp1, windows-server-2008-x86, " \
		    "windows-server-2008-x64"

const struct ctl_cmd ctl_cmds[] = {
	{ "server", "", "the server: name, partitioning mode, sockets, backend, unit counts",
	  "Show the server (the Redfish Chassis): its name, whether it is statically or "
	  "dynamically partitioned, its sockets, what runs its partitions (the simulated "
	  "server, or QEMU with its accelerator) and how a processor leaves a running "
	  "partition (unplug, or park where unplugging is unsafe), how many units of each "
	  "type it has, how many are free, and its partitions.",
	  "dhpctl server", { { 0 } }, 0, 0, cmd_server },
	{ "units", "[--free] [--spares] [--type TYPE]",
	  "every unit: type, model, size, power, health, owner",
	  "List the partition units (Redfish ResourceBlocks): id, type, model, size (memory), "
	  "power, health, composition state (free, spare, composed, composing, decomposing, "
	  "failed, unavailable; \"staged\" when reserved for a restart) and owning partition.",
	  "dhpctl units --free --type memory",
	  { { "free", NULL, "only the units that no partition owns (spares too)" },
	    { "spares", NULL, "only the units in the spare pool" },
	    { "type", "TYPE", "only units of TYPE: processor, memory or io-host-bridge" } },
	  0, 0, cmd_units },
	{ "partitions", "", "every partition: profile, state, processors, memory, units",
	  "List the partitions (Redfish Systems): name, OS profile, state, number of "
	  "processors, memory in GiB, units, and changes staged for the next restart "
	  "(+joining -leaving).",
	  "dhpctl partitions", { { 0 } }, 0, 0, cmd_partitions },
	{ "create", "NAME --os PROFILE UNIT... | NAME --processors N --memory SIZE [--dry-run]",
	  "a new, stopped partition: of free units, or of sizes (dhpd picks the units)",
	  "Create a stopped partition NAME running the OS profile PROFILE (" OS_PROFILES
	  ") on the given free units. It needs a processor and a memory module to start. "
	  "Or state sizes and let dhpd pick the units by locality (constrained composition): "
	  "--processors and --memory (e.g. 32GiB; a size the free modules make), optionally "
	  "--io-bridges and --socket (the home socket); --os defaults to linux. The plan is "
	  "printed, each step with its reason; --dry-run prints it and changes nothing.",
	  "dhpctl create web --processors 8 --memory 32GiB --dry-run",
	  { { "os", "PROFILE", "the OS profile (required with units; linux with sizes)" },
	    { "processors", "N", "sizes: how many processors" },
	    { "memory", "SIZE", "sizes: how much memory (GiB, or with MiB, GiB, TiB)" },
	    { "io-bridges", "N", "sizes: how many I/O host bridges (0)" },
	    { "socket", "S", "sizes: the home socket (default: the one with most room)" },
	    { "dry-run", NULL, "sizes: print the plan only (a Compose Preview)" } },
	  1, -1, cmd_create },
	{ "delete", "NAME", "delete a stopped partition; its units go free",
	  "Delete the stopped partition NAME. Its units become free (and powered off).",
	  "dhpctl delete web", { { 0 } }, 1, 1, cmd_delete },
	{ "start", "NAME", "power a partition's units on and boot its OS",
	  "Start the partition NAME: power its units on and boot its OS "
	  "(ComputerSystem.Reset, ResetType On).",
	  "dhpctl start web", { { 0 } }, 1, 1, cmd_reset },
	{ "stop", "NAME [--force]", "shut a partition's OS down and power its units off",
	  "Stop the partition NAME: shut its OS down (GracefulShutdown) and power its units "
	  "off.",
	  "dhpctl stop web",
	  { { "force", NULL, "power off at once (ForceOff), without asking the OS" } }, 1, 1,
	  cmd_reset },
	{ "restart", "NAME [--force]", "stop, apply the staged changes, start",
	  "Restart the partition NAME (GracefulRestart), applying the changes staged with "
	  "--on-restart.",
	  "dhpctl restart legacy",
	  { { "force", NULL, "restart without asking the OS (ForceRestart)" } }, 1, 1,
	  cmd_reset },
	{ "add", "NAME UNIT... [--on-restart]", "hot add units (or assign, or stage)",
	  "Add units to the partition NAME: hot add to a running partition (one operation "
	  "per unit, in order, stopping at the first that does not complete), assign to a "
	  "stopped one, or, with --on-restart, stage them for its next restart.",
	  "dhpctl add web s0-cpu2 s0-mem1",
	  { { "on-restart", NULL, "stage the change; it applies at the next restart" } }, 2, -1,
	  cmd_add },
	{ "remove", "NAME UNIT... [--on-restart]", "hot remove units (or unassign, or stage)",
	  "Remove units from the partition NAME: hot remove from a running partition (one "
	  "operation per unit), unassign from a stopped one, or, with --on-restart, stage "
	  "their removal for its next restart.",
	  "dhpctl remove web s0-cpu1",
	  { { "on-restart", NULL, "stage the change; it applies at the next restart" } }, 2, -1,
	  cmd_remove },
	{ "replace", "NAME UNIT [--spare UNIT]", "hot replace a unit by an identical free one",
	  "Hot replace UNIT of the running partition NAME by an identical free unit, in one "
	  "operation: the OS keeps its processors and memory size throughout. The spare is "
	  "picked among the identical free units unless --spare names it.",
	  "dhpctl replace web s0-mem0 --spare s0-mem2",
	  { { "spare", "UNIT", "the free unit to take UNIT's place" } }, 2, 2, cmd_replace },
	{ "resize", "NAME [--add UNIT,...] [--remove UNIT,...] [--on-restart] | "
	  "NAME [--processors N] [--memory SIZE] [--io-bridges N] [--dry-run]",
	  "add and remove units as one operation, named or planned from sizes",
	  "Resize the partition NAME by a plan: the units of --add join it and those of "
	  "--remove leave it, as one operation (#DhpComputerSystem.Resize): every step is "
	  "done, or every step is undone. Running, the steps are hot adds and hot removes "
	  "(adds first); stopped, or with --on-restart, changes for its next start. The plan "
	  "is refused whole, naming the step, when the OS cannot do one of its steps. Or "
	  "state the sizes to reach and let dhpd plan by locality: the plan is printed, each "
	  "step with its reason, then run; --dry-run prints it and changes nothing.",
	  "dhpctl resize web --processors 4 --dry-run",
	  { { "add", "UNIT,...", "free units to add (not spares)" },
	    { "remove", "UNIT,...", "units of NAME to remove" },
	    { "on-restart", NULL, "stage the plan; it applies at the next restart" },
	    { "processors", "N", "sizes: processors NAME should have" },
	    { "memory", "SIZE", "sizes: memory NAME should have (GiB, or MiB, GiB, TiB)" },
	    { "io-bridges", "N", "sizes: I/O host bridges NAME should have" },
	    { "dry-run", NULL, "sizes: print the plan only" } },
	  1, 1, cmd_resize },
	{ "move", "UNIT[,UNIT...] FROM TO", "move units between two running partitions",
	  "Move units from the running partition FROM to the running partition TO as one "
	  "operation (#DhpComputerSystem.Move): hot removed from FROM and hot added to TO; a "
	  "failure or a veto on either side leaves both as they were.",
	  "dhpctl move s0-cpu1,s0-mem1 web db", { { 0 } }, 3, 3, cmd_move },
	{ "spare", "add|remove UNIT", "put a free unit in the spare pool, or take it out",
	  "Put the free unit UNIT in the spare pool (add) or take it out (remove). Spares are "
	  "held back: create, add and resize refuse them; a hot replace that names no spare "
	  "takes an identical spare first, on the same socket first. `dhpctl units --spares` "
	  "lists them.",
	  "dhpctl spare add s3-mem3", { { 0 } }, 2, 2, cmd_spare },
	{ "power-on", "UNIT", "power a free unit on",
	  "Power the free unit UNIT on.", "dhpctl power-on s3-cpu0", { { 0 } }, 1, 1, cmd_power },
	{ "power-off", "UNIT", "power a free unit off",
	  "Power the free unit UNIT off.", "dhpctl power-off s3-cpu0", { { 0 } }, 1, 1,
	  cmd_power },
	{ "ops", "[ID] [--wait]", "the operations, or one with its phases",
	  "Without ID: every operation (Redfish Tasks) with its state, duration, what it did, "
	  "and why it did not complete. With ID: that operation's phases and outcome.",
	  "dhpctl ops 12",
	  { { "wait", NULL, "with ID: follow the operation until it ends" } }, 0, 1, cmd_ops },
	{ "events", "[--follow] [--since ID] [--partition NAME]", "the numbered event stream",
	  "Print events as \"[seq] time text\". Without --follow: the events after --since "
	  "(default: all) and exit. With --follow: keep printing new events (after --since "
	  "when given) until Ctrl-C, reconnecting from the last event seen when the "
	  "connection drops.",
	  "dhpctl events --follow --partition web",
	  { { "follow", NULL, "keep printing new events" },
	    { "since", "ID", "only the events after number ID" },
	    { "partition", "NAME", "only the events of partition NAME" } },
	  0, 0, cmd_events },
	{ "console", "NAME [--follow] [--all]", "a partition's console log (tail -f with --follow)",
	  "Print the console log of the partition NAME: what its OS printed on its first "
	  "serial port, kept by dhpd (a QEMU server; the simulated server has none). Without "
	  "options the last 64 KiB. With --follow, keep printing what the OS prints, every "
	  "half second, until Ctrl-C; a log that starts again (the partition restarted) is "
	  "followed from its start. To a terminal, control characters are shown as '?'.",
	  "dhpctl console web --follow",
	  { { "follow", NULL, "keep printing new output until Ctrl-C" },
	    { "all", NULL, "the whole log, not only its last 64 KiB" } },
	  1, 1, cmd_console },
	{ "login", "", "log in: print a session token for DHP_TOKEN",
	  "Create a session with the user and password and print its token, so that "
	  "later commands can use it instead of the password: "
	  "export DHP_TOKEN=$(dhpctl --user admin login).",
	  "dhpctl --user admin --password-file ~/.dhp-pass login", { { 0 } }, 0, 0, cmd_login },
	{ 0 }
};

const struct ctl_cmd *ctl_cmd_find(const char *name)
{
	for (const struct ctl_cmd *cmd = ctl_cmds; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd;
	return NULL;
}

int ctl_cmd_option(const struct ctl_cmd *cmd, const char *name)
{
	for (int i = 0; i < CTL_MAX_OPTIONS && cmd->options[i].name; i++)
		if (!strcmp(cmd->options[i].name, name))
			return i;
	return -1;
}

const char *ctl_arg_opt(const struct ctl_args *args, const char *name)
{
	int i = ctl_cmd_option(ctl_current_cmd, name);

	return i < 0 ? NULL : args->opt[i];
}
