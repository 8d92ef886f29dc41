/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim: dhp's engine on the simulated backend, in one process
 * (docs/dhp-sim.md). What the program's files share:
 *
 *   main.c      the command line: options, arguments, main()
 *   commands.c  the command table, --help, checking a command's arguments
 *   open.c      sim_open/sim_close: state directory, store, backend, engine,
 *               recovery
 *   run.c       running one request and printing its events and outcome
 *   show.c      listings: units, partitions, operations, events
 *   demo.c      the scripted demo
 *
 * Internal to the program: nothing here is a library's API.
 */
#ifndef DHP_SIM_DHP_SIM_H
#define DHP_SIM_DHP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/sim/sim.h"
#include "core/core.h"

#define PROG "dhp-sim"
#define SIM_GIB (1024.0 * 1024.0 * 1024.0)

#define SIM_DEFAULT_TOPOLOGY "topologies/demo"
#define SIM_DEFAULT_STATE_DIR "./dhp-state"
#define SIM_DEFAULT_LATENCY_MS 40u

/* Exit codes; --help and docs/dhp-sim.md say the same. */
enum sim_exit {
	SIM_EXIT_OK = 0,
	SIM_EXIT_FAILED = 1,	/* the operation failed or was rolled back */
	SIM_EXIT_USAGE = 2,	/* bad command line */
	SIM_EXIT_REFUSED = 3,	/* the engine refused the request (validation) */
	SIM_EXIT_STATE = 4,	/* topology, state directory, store or recovery */
};

struct sim_options {
	const char *topology;
	const char *state_dir;
	const char *faults;		/* comma-separated fault specs, or NULL */
	bool fresh;
	uint32_t latency_ms;
	uint32_t deadline_ms;		/* 0: the engine's default */
};

struct sim {
	struct sim_options opt;
	struct dhp_loop *loop;
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_backend *backend;
	struct dhp_core *core;
	int lock_fd;			/* DIR/dhp-sim.lock, held while we run; -1 */

	uint64_t t0;			/* loop clock the live timestamps count from */
	bool recovering;
	bool recover_done;
	int recover_rc;
	struct dhp_error recover_err;
	unsigned n_recovery_events;

	uint64_t watch_id;		/* operation being waited for, 0 if none */
	bool watch_ended;
	struct dhp_op watch_op;		/* as it ended */
};

/* ---- the command line (main.c, commands.c) ---- */

/* Options a command may take; struct command says which. */
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

/* Print a usage error (hint NULL: "run dhp-sim --help"); SIM_EXIT_USAGE. */
__attribute__((format(printf, 2, 3)))
int sim_usage_error(const char *hint, const char *fmt, ...);

/* The command named a->command, or NULL. */
const struct command *sim_command_find(const struct args *a);
/* 0 if a's arguments and options fit cmd; else printed, SIM_EXIT_USAGE. */
int sim_command_check(const struct command *cmd, const struct args *a);
void sim_print_help(void);

/* ---- the engine (open.c) ---- */

/* Everything up to a recovered engine; an exit code, err filled when it is
 * not SIM_EXIT_OK. sim_close undoes it, whatever was done. */
int sim_open(struct sim *s, struct dhp_error *err);
void sim_close(struct sim *s);

/* ---- running requests (run.c) ---- */

/* "dhp-sim: MESSAGE" and its hint, on stderr. */
void sim_print_error(const struct dhp_error *err);
/* "hot-add s0-cpu1 -> web", "create web (linux: s0-cpu0 s0-mem0)", ... */
void sim_describe_op(const struct dhp_server *server, const struct dhp_op *op,
		     char *buf, size_t len);
/* The engine's listener (ctx: the struct sim): events as they happen, and
 * the end of the operation sim_run waits for. */
void sim_on_event(void *ctx, const struct dhp_event *ev);
void sim_on_op_end(void *ctx, const struct dhp_op *op);
/* Run the loop until *flag is set, or nothing is left to run. */
void sim_run_until(struct sim *s, const bool *flag);
/*
 * Submit req, print its events as they come and its outcome line. Returns
 * an exit code; a refusal (SIM_EXIT_REFUSED) is not printed but left in
 * err for the caller, and *ret_op (may be NULL) is the ended operation.
 */
int sim_run(struct sim *s, const struct dhp_request *req, struct dhp_op *ret_op,
	    struct dhp_error *err);

/* ---- listings (show.c); the int ones return an exit code ---- */

void show_units(struct sim *s, bool free_only);
void show_partitions(struct sim *s);
/* Every partition with its units, for the end of the demo. */
void show_summary(struct sim *s);
/* The last `last` operations, events (0: all). */
int show_ops(struct sim *s, size_t last);
int show_events(struct sim *s, size_t last);

/* ---- the demo (demo.c) ---- */

/* On a state without partitions; an exit code. */
int demo_run(struct sim *s);

#endif
