/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim: run dhp's engine on the simulated backend, in this process, on
 * a state directory that persists between runs. For the demo, and to try
 * operations before the daemon exists. docs/dhp-sim.md is its manual.
 *
 * Start-up order: state directory, loop (real time), topology, store,
 * simulated backend (latency, faults), engine, recovery; then one command,
 * and everything is freed in reverse. Interrupting a run mid-operation is a
 * crash of the manager: the next run recovers it.
 */
#include "common/fs.h"
#include "dhp-sim.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/topology.h"

#include "dhp-sim-demo.h"
#include "dhp-sim-show.h"

#define DEFAULT_TOPOLOGY "topologies/demo"
#define DEFAULT_STATE_DIR "./dhp-state"
#define DEFAULT_LATENCY_MS 40u
#define PATH_LEN 4096

static void sim_print_error(const struct dhp_error *err)
{
	fflush(stdout);
	fprintf(stderr, PROG ": %s\n", err->message[0] ? err->message : dhp_error_name(err->code));
	if (err->resolution[0])
		fprintf(stderr, "  hint: %s\n", err->resolution);
}

__attribute__((format(printf, 2, 3)))
static int usage_error(const char *hint, const char *fmt, ...)
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

/* ---- describing operations and events ---- */

__attribute__((format(printf, 4, 5)))
static void buf_add(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	*pos = n < 0 ? len : *pos + (size_t)n;
}

static const char *unit_name(const struct dhp_server *server, uint32_t index)
{
	return index < server->n_units ? server->units[index].id : "?";
}

static void sim_describe_op(const struct dhp_server *server, const struct dhp_op *op,
			    char *buf, size_t len)
{
	const char *p = op->partition_name[0] ? op->partition_name : "-";
	size_t pos = 0;

	buf[0] = '\0';
	buf_add(buf, len, &pos, "%s", dhp_op_kind_name(op->kind));
	if (op->kind == DHP_OP_CREATE)
		buf_add(buf, len, &pos, " %s (%s:", p, op->profile ? op->profile->name : "?");
	for (unsigned i = 0; i < op->n_units; i++)
		buf_add(buf, len, &pos, " %s", unit_name(server, op->units[i]));
	switch (op->kind) {
	case DHP_OP_CREATE:
		buf_add(buf, len, &pos, ")");
		break;
	case DHP_OP_ASSIGN:
	case DHP_OP_HOT_ADD:
		buf_add(buf, len, &pos, " -> %s", p);
		break;
	case DHP_OP_UNASSIGN:
	case DHP_OP_HOT_REMOVE:
		buf_add(buf, len, &pos, " from %s", p);
		break;
	case DHP_OP_HOT_REPLACE:
		buf_add(buf, len, &pos, " -> %s in %s",
			op->spare >= 0 ? unit_name(server, (uint32_t)op->spare) : "?", p);
		break;
	case DHP_OP_POWER_ON:
	case DHP_OP_POWER_OFF:
		break;
	default:
		buf_add(buf, len, &pos, " %s", p);
		break;
	}
	if (op->staged)
		buf_add(buf, len, &pos, " at restart");
}

/* An event as it happens: "  [ 120] hot-add 3: phase attach done". */
static void print_live_event(struct sim *s, const struct dhp_event *ev)
{
	unsigned long long t = dhp_loop_now(s->loop) - s->t0;

	if (ev->unit[0] && !strstr(ev->text, ev->unit))
		printf("  [%4llu] %s (%s)\n", t, ev->text, ev->unit);
	else
		printf("  [%4llu] %s\n", t, ev->text);
}

static void on_event(void *ctx, const struct dhp_event *ev)
{
	struct sim *s = ctx;

	if (s->recovering && !s->n_recovery_events++)
		printf("recovering the state in %s:\n", s->opt.state_dir);
	print_live_event(s, ev);
}

static void on_op_end(void *ctx, const struct dhp_op *op)
{
	struct sim *s = ctx;

	if (op->id != s->watch_id)
		return;
	s->watch_op = *op;
	s->watch_ended = true;
}

static void on_recovered(void *ctx, int rc, const struct dhp_error *err)
{
	struct sim *s = ctx;

	s->recover_done = true;
	s->recover_rc = rc;
	if (err)
		s->recover_err = *err;
}

/* Run the loop until *flag is set, or nothing is left to run. */
static void run_until(struct sim *s, const bool *flag)
{
	while (!*flag && dhp_loop_pending(s->loop))
		dhp_loop_run_once(s->loop);
}

/* ---- running one request ---- */

static void print_outcome(struct sim *s, const struct dhp_op *op)
{
	char what[512];
	unsigned long long ms = op->ended_ms >= op->created_ms ? op->ended_ms - op->created_ms : 0;

	sim_describe_op(s->server, op, what, sizeof(what));
	if (op->state == DHP_OP_COMPLETED) {
		printf("operation %llu %s: completed (%llu ms)\n", (unsigned long long)op->id,
		       what, ms);
		return;
	}
	printf("operation %llu %s: %s: %s\n", (unsigned long long)op->id, what,
	       dhp_op_state_name(op->state), op->error.message);
	if (op->error.resolution[0])
		printf("  hint: %s\n", op->error.resolution);
}

static int sim_run(struct sim *s, const struct dhp_request *req, struct dhp_op *ret_op,
		   struct dhp_error *err)
{
	uint64_t id = 0;
	int r;

	s->t0 = dhp_loop_now(s->loop);
	s->watch_ended = false;
	r = dhp_core_submit(s->core, req, &id, err);
	if (r < 0)
		return SIM_EXIT_REFUSED;
	s->watch_id = id;
	run_until(s, &s->watch_ended);
	s->watch_id = 0;
	if (!s->watch_ended) {
		dhp_error_set(err, -EIO, "operation %llu did not end", (unsigned long long)id);
		sim_print_error(err);
		return SIM_EXIT_STATE;
	}
	print_outcome(s, &s->watch_op);
	if (ret_op)
		*ret_op = s->watch_op;
	return s->watch_op.state == DHP_OP_COMPLETED ? SIM_EXIT_OK : SIM_EXIT_FAILED;
}

/* ---- the state directory and the engine ---- */

static int state_path(const struct sim *s, const char *name, char *buf, size_t len,
		      struct dhp_error *err)
{
	int n = snprintf(buf, len, "%s/%s", s->opt.state_dir, name);

	if (n < 0 || (size_t)n >= len)
		return dhp_error_set(err, -ENAMETOOLONG, "state directory path too long");
	return 0;
}

/*
 * One dhp-sim at a time per state directory: two would each drive the
 * same simulated hardware from their own copy of the model.
 */
static int lock_state_dir(struct sim *s, struct dhp_error *err)
{
	char path[PATH_LEN];
	int r = state_path(s, "dhp-sim.lock", path, sizeof(path), err);

	if (r < 0)
		return r;
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		int e = errno;

		return dhp_error_set(err, -e, "cannot open %s: %s", path, strerror(e));
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		dhp_error_set(err, -EBUSY, "state directory %s is in use by another dhp-sim",
			      s->opt.state_dir);
		return dhp_error_resolve(err, "wait for it to end, or use another --state-dir");
	}
	return 0;
}

static int prepare_state_dir(struct sim *s, struct dhp_error *err)
{
	static const char *const files[] = { "state.db", "state.db-wal", "state.db-shm", "sim-hw" };
	char path[PATH_LEN];
	struct stat st;
	int r = dhp_mkdir_p(s->opt.state_dir, err);

	if (r < 0)
		return r;
	if (stat(s->opt.state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return dhp_error_set(err, -ENOTDIR, "%s is not a directory", s->opt.state_dir);
	r = lock_state_dir(s, err);
	if (r < 0)
		return r;
	for (size_t i = 0; s->opt.fresh && i < sizeof(files) / sizeof(files[0]); i++) {
		r = state_path(s, files[i], path, sizeof(path), err);
		if (r < 0)
			return r;
		if (unlink(path) < 0 && errno != ENOENT) {
			int e = errno;

			return dhp_error_set(err, -e, "cannot remove %s: %s", path, strerror(e));
		}
	}
	return 0;
}

static int open_backend(struct sim *s, struct dhp_error *err)
{
	char path[PATH_LEN];
	int r = state_path(s, "sim-hw", path, sizeof(path), err);

	if (!r)
		r = dhp_sim_new(s->server, s->loop, path, &s->backend, err);
	if (r < 0)
		return SIM_EXIT_STATE;
	dhp_sim_set_latency(s->backend, s->opt.latency_ms);
	if (s->opt.faults && dhp_sim_faults_configure(s->backend, s->opt.faults, err) < 0)
		return SIM_EXIT_USAGE;
	return SIM_EXIT_OK;
}

static int open_core(struct sim *s, struct dhp_error *err)
{
	struct dhp_core_config cfg = {
		.server = s->server, .store = s->store, .backend = s->backend, .loop = s->loop,
		.phase_deadline_ms = s->opt.deadline_ms,
		.listener = { on_event, on_op_end, s },
	};
	int r = dhp_core_new(&cfg, &s->core, err);

	if (r < 0)
		return r;
	s->t0 = dhp_loop_now(s->loop);
	s->recovering = true;
	r = dhp_core_recover(s->core, on_recovered, s);
	if (r < 0)
		return dhp_error_set(err, r, "recovery could not begin");
	run_until(s, &s->recover_done);
	s->recovering = false;
	if (!s->recover_done)
		return dhp_error_set(err, -EIO, "recovery did not end");
	if (s->recover_rc < 0 && err)
		*err = s->recover_err;
	return s->recover_rc;
}

/* Everything up to a recovered engine; an exit code. sim_close undoes it. */
static int sim_open(struct sim *s, struct dhp_error *err)
{
	char path[PATH_LEN];
	int r;

	if (prepare_state_dir(s, err) < 0)
		return SIM_EXIT_STATE;
	s->loop = dhp_loop_new(false);
	if (!s->loop) {
		dhp_error_set(err, -ENOMEM, "out of memory");
		return SIM_EXIT_STATE;
	}
	if (dhp_topology_load(s->opt.topology, &s->server, err) < 0) {
		if (!err->resolution[0])
			dhp_error_resolve(err, "name a topology file with --topology FILE "
					  "(docs/topology.md)");
		return SIM_EXIT_STATE;
	}
	if (state_path(s, "state.db", path, sizeof(path), err) < 0 ||
	    dhp_store_open(path, &s->store, err) < 0)
		return SIM_EXIT_STATE;
	r = open_backend(s, err);
	if (r != SIM_EXIT_OK)
		return r;
	if (open_core(s, err) < 0)
		return SIM_EXIT_STATE;
	if (s->n_recovery_events)
		printf("recovered.\n");
	return SIM_EXIT_OK;
}

static void sim_close(struct sim *s)
{
	dhp_core_free(s->core);
	dhp_backend_free(s->backend);
	dhp_store_close(s->store);
	dhp_server_free(s->server);
	dhp_loop_free(s->loop);
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* and the lock with it */
}

/* ---- the command line ---- */

enum cmd_opt {
	CO_OS = 1 << 0,
	CO_ON_RESTART = 1 << 1,
	CO_SPARE = 1 << 2,
	CO_FREE = 1 << 3,
	CO_LAST = 1 << 4,
};

struct args {
	const char *command;
	char *pos[DHP_OP_MAX_UNITS + 2];	/* arguments after the command */
	unsigned n_pos;
	const char *os, *spare;
	bool free_only, on_restart;
	size_t last;
	bool has_last;
	unsigned seen;				/* enum cmd_opt */
	bool help;
};

struct command {
	const char *name;
	int (*run)(struct sim *s, const struct args *a);
	unsigned min_pos, max_pos;
	unsigned opts;				/* enum cmd_opt allowed */
	const char *usage;
	const char *help;
};

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

static void print_help(void)
{
	unsigned n_profiles;
	const struct dhp_os_profile *profiles = dhp_profiles(&n_profiles);

	printf("usage: " PROG " [OPTIONS] COMMAND [ARGS]\n\n"
	       "Run dhp's engine on the simulated backend, in this process. Each run\n"
	       "opens the state directory, recovers it, runs one command and exits;\n"
	       "the state persists between runs.\n\n"
	       "options:\n"
	       "  --topology FILE   server topology (default " DEFAULT_TOPOLOGY ")\n"
	       "  --state-dir DIR   state directory, created 0700 if missing\n"
	       "                    (default " DEFAULT_STATE_DIR ")\n"
	       "  --fresh           forget the state in DIR first\n"
	       "  --faults SPEC     inject faults: CALL[:NOTE][@UNIT][/PARTITION]=EFFECT[:ARG]\n"
	       "                    [*COUNT], comma-separated (e.g. notify:add-start=veto)\n"
	       "  --latency MS      delay of every simulated hardware answer (default %u)\n"
	       "  --deadline MS     time limit of each operation phase (default %u)\n"
	       "  -h, --help        this text\n\n"
	       "commands:\n", DEFAULT_LATENCY_MS, DHP_DEFAULT_PHASE_DEADLINE_MS);
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

static int parse_count(const char *opt, const char *text, uint64_t max, uint64_t *ret)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno == ERANGE || (end != text && !*end && text[0] != '-' && v > max))
		return usage_error(NULL, "%s %s is too large", opt, text);
	if (errno || end == text || *end || text[0] == '-')
		return usage_error(NULL, "%s takes a whole number, not \"%s\"", opt, text);
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
		return usage_error(NULL, "too many arguments (at most %d units per request)",
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
			return usage_error(NULL, "%s \"%s\"", c == '?' ? "unknown option" :
					   "missing value for option", argv[optind - 1]);
		r = take_option(o, a, c, optarg);
		if (r)
			return r;
	}
	return 0;
}

static const struct command *find_command(const struct args *a)
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

static int check_command(const struct command *cmd, const struct args *a)
{
	char hint[128];

	snprintf(hint, sizeof(hint), "usage: " PROG " [OPTIONS] %s", cmd->usage);
	if (a->n_pos < cmd->min_pos || a->n_pos > cmd->max_pos)
		return usage_error(hint, "%s takes %s arguments", cmd->name,
				   a->n_pos < cmd->min_pos ? "more" : "fewer");
	for (unsigned i = 0; i < sizeof(cmd_opt_names) / sizeof(cmd_opt_names[0]); i++)
		if (a->seen & ~cmd->opts & (1u << i))
			return usage_error(hint, "%s does not apply to %s", cmd_opt_names[i],
					   cmd->name);
	if ((cmd->opts & CO_OS) && !a->os)
		return usage_error(hint, "create needs --os PROFILE");
	return 0;
}

int main(int argc, char **argv)
{
	struct sim s = {
		.opt = { .topology = DEFAULT_TOPOLOGY, .state_dir = DEFAULT_STATE_DIR,
			 .latency_ms = DEFAULT_LATENCY_MS },
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
		print_help();
		return SIM_EXIT_OK;
	}
	if (!a.command)
		return usage_error(NULL, "no command given");
	cmd = find_command(&a);
	if (!cmd)
		return usage_error(NULL, "unknown command \"%s\"", a.command);
	rc = check_command(cmd, &a);
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
