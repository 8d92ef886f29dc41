/* SPDX-License-Identifier: MIT */
/*
 * A whole dhp for tests: a topology, a real SQLite store in a fresh
 * directory, the simulated backend with its hardware file, the engine,
 * on a virtual-time loop (deadlines of 30 s pass in microseconds).
 */
#ifndef DHP_TESTS_TESTBED_H
#define DHP_TESTS_TESTBED_H

#include <stdbool.h>

#include "backend/sim/sim.h"
#include "core/core.h"

struct testbed {
	char dir[256];
	char topology[256];
	bool virtual_time;
	uint32_t deadline_ms;
	struct dhp_loop *loop;
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_backend *backend;
	struct dhp_core *core;
	struct dhp_backend_view view;
	unsigned n_events;		/* events seen by the listener */
	uint64_t last_seq;
	bool seq_broken;		/* an event number went backwards */
	struct dhp_error recover_err;
	int recover_rc;
	/* Optional, set before tb_open (which keeps them): told what the
	 * engine tells its listener and its storage_full callback. */
	void (*hook_event)(struct testbed *tb, const struct dhp_event *ev);
	void (*hook_op_end)(struct testbed *tb, const struct dhp_op *op);
	void (*hook_storage)(struct testbed *tb, bool full, const struct dhp_error *why);
};

/* A fresh directory (under $DHP_TEST_TMP or /tmp) and a recovered engine. */
int tb_open(struct testbed *tb, const char *topology, struct dhp_error *err);
/* tb_open in virtual time; a test that cannot open its testbed has
 * nothing to test: it says why and exits 1. */
void tb_open_virtual(struct testbed *tb, const char *topology);
/* Open on an existing directory (after tb_close or a crash) and recover. */
int tb_open_dir(struct testbed *tb, const char *topology, const char *dir,
		struct dhp_error *err);
/* Free everything but keep the directory. */
void tb_close(struct testbed *tb);
/* tb_close and remove the directory. */
void tb_destroy(struct testbed *tb);

/* Run the loop until the engine is idle (or nothing is left to run). */
void tb_settle(struct testbed *tb);

/*
 * Submit a request and settle; *ret_op is the operation as journaled at
 * its end. units is a space-separated list of unit ids (may be NULL).
 * Returns the submit's result (the operation's outcome is in ret_op).
 */
int tb_do(struct testbed *tb, enum dhp_verb verb, const char *partition, const char *units,
	  struct dhp_op *ret_op, struct dhp_error *err);
int tb_do_req(struct testbed *tb, const struct dhp_request *req, struct dhp_op *ret_op,
	      struct dhp_error *err);
/* A resize: adds and removes are space-separated unit ids (may be NULL). */
int tb_resize(struct testbed *tb, const char *partition, const char *adds, const char *removes,
	      bool on_restart, struct dhp_op *ret_op, struct dhp_error *err);
/* A move of units from one partition to another. */
int tb_move(struct testbed *tb, const char *from, const char *to, const char *units,
	    struct dhp_op *ret_op, struct dhp_error *err);
/* Like tb_do, with an OS profile (create) or a spare (replace) or on-restart. */
int tb_create(struct testbed *tb, const char *name, const char *profile, const char *units,
	      struct dhp_error *err);

/* Reconcile with the backend and run the invariant checker. */
int tb_invariants(struct testbed *tb, struct dhp_error *err);

/* A text picture of the model and the hardware, to compare before/after.
 * Caller frees. */
char *tb_snapshot(struct testbed *tb);

#endif
