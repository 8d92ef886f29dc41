/* SPDX-License-Identifier: MIT */
/*
 * dhp-sim: dhp's engine on the simulated backend, in one process.
 *
 * Shared by the parts of the program (dhp-sim.c, dhp-sim-show.h,
 * dhp-sim-demo.h), which make one translation unit: the Makefile turns
 * every .c file under src/tools into a program of its own, so the parts other than
 * the main file are headers of static functions included once, by it.
 */
#ifndef DHP_TOOLS_DHP_SIM_H
#define DHP_TOOLS_DHP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/sim/sim.h"
#include "core/core.h"

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

#define PROG "dhp-sim"
#define SIM_GIB (1024.0 * 1024.0 * 1024.0)

/* dhp-sim.c */
static void sim_print_error(const struct dhp_error *err);
/* "hot-add s0-cpu1 -> web", "create web (linux: s0-cpu0 s0-mem0)", ... */
static void sim_describe_op(const struct dhp_server *server, const struct dhp_op *op,
			    char *buf, size_t len);
/*
 * Submit req, print its events as they come and its outcome line. Returns
 * an exit code; a refusal (SIM_EXIT_REFUSED) is not printed but left in
 * err for the caller, and *ret_op (may be NULL) is the ended operation.
 */
static int sim_run(struct sim *s, const struct dhp_request *req, struct dhp_op *ret_op,
		   struct dhp_error *err);

/* dhp-sim-show.h */
static void show_units(struct sim *s, bool free_only);
static void show_partitions(struct sim *s);
static void show_summary(struct sim *s);
static int show_ops(struct sim *s, size_t last);
static int show_events(struct sim *s, size_t last);

/* dhp-sim-demo.h */
static int demo_run(struct sim *s);

#endif
