/* SPDX-License-Identifier: MIT */
/*
 * The operation engine: the one place that changes a server.
 *
 * A request is validated at once (a bad or conflicting request fails
 * before anything is written), journaled durably, and then runs as an
 * operation of phases on the event loop, each phase a backend call with a
 * deadline and an undo. A failed phase undoes the completed ones in
 * reverse, so the partition is exactly as before and the operation says
 * why. One operation at a time per partition and per unit: a request that
 * touches a busy one fails with -EBUSY, it does not wait.
 *
 * The engine knows nothing of SQLite, HTTP or QEMU: it talks to the store
 * (core/store.h) and a backend (core/backend.h) through their seams.
 */
#ifndef DHP_CORE_CORE_H
#define DHP_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/loop.h"
#include "core/backend.h"
#include "core/plan.h"
#include "core/store.h"
#include "model/event.h"
#include "model/operation.h"
#include "model/server.h"

/* What a client asks for; the engine picks the operation kind. */
enum dhp_verb {
	DHP_VERB_CREATE,	/* partition, profile, units */
	DHP_VERB_DELETE,	/* partition */
	DHP_VERB_START,
	DHP_VERB_STOP,
	DHP_VERB_RESTART,	/* applies staged changes */
	DHP_VERB_ADD,		/* assign (stopped), hot add (running) or stage */
	DHP_VERB_REMOVE,	/* unassign, hot remove or stage */
	DHP_VERB_REPLACE,	/* hot replace units[0] by spare (or a picked one) */
	DHP_VERB_POWER_ON,	/* a free unit */
	DHP_VERB_POWER_OFF,
	DHP_VERB_RESIZE,	/* add units and remove remove_units, as one operation */
	DHP_VERB_MOVE,		/* units from partition to target, both running */
	DHP_VERB_MAX
};

struct dhp_request {
	enum dhp_verb verb;
	const char *partition;		/* name */
	const char *profile;		/* create */
	const char *const *units;	/* unit ids */
	size_t n_units;
	const char *spare;		/* replace; NULL: picked from free identical units */
	bool on_restart;		/* apply time: at the partition's next restart */
	/*
	 * resize: the plan is units (to add) and remove_units (to remove),
	 * either may be empty but not both; at most DHP_OP_MAX_UNITS in all.
	 * It runs as one operation: on a running partition every add, then
	 * every remove, phase by phase (docs/engine.md); on a stopped one (or
	 * with on_restart) one assign-and-unassign commit. Refused whole,
	 * naming the step, when the OS profile cannot do one of them.
	 */
	const char *const *remove_units;
	size_t n_remove;
	const char *target;		/* move: the partition that receives units */
	uint64_t reservation;		/* units this reservation holds may be used (0: none) */
};

struct dhp_core_listener {
	/* Each event once it is committed, in order. */
	void (*event)(void *ctx, const struct dhp_event *ev);
	/* Each operation once its outcome is durable. */
	void (*op_end)(void *ctx, const struct dhp_op *op);
	void *ctx;
};

#define DHP_DEFAULT_PHASE_DEADLINE_MS 30000u

struct dhp_core_config {
	struct dhp_server *server;	/* borrowed; loaded from the store here */
	struct dhp_store *store;	/* borrowed */
	struct dhp_backend *backend;	/* borrowed; its listener is taken */
	struct dhp_loop *loop;		/* borrowed */
	uint32_t phase_deadline_ms;	/* 0: DHP_DEFAULT_PHASE_DEADLINE_MS */
	struct dhp_core_listener listener;
	/*
	 * Told once when the state directory's file system fills (full, why:
	 * what the store said and where) and once when a write succeeds
	 * again (why NULL), for a log line. Meanwhile changes are refused
	 * with -EDQUOT and operations wait; the engine resumes by itself
	 * (docs/engine.md, "A full disk"). May be NULL.
	 */
	void (*storage_full)(void *ctx, bool full, const struct dhp_error *why);
	void *storage_ctx;
};

struct dhp_core;

/*
 * Load the server's state from the store and make an engine. Call
 * dhp_core_recover() before submitting anything. Caller frees with
 * dhp_core_free(), which abandons operations still running (they are
 * recovered at the next start, as after a crash).
 */
int dhp_core_new(const struct dhp_core_config *config, struct dhp_core **ret_core,
		 struct dhp_error *err);
void dhp_core_free(struct dhp_core *core);

typedef void (*dhp_core_done_fn)(void *ctx, int rc, const struct dhp_error *err);

/*
 * Start-up recovery (DESIGN.md §6): reconcile with the backend, then drive
 * every unfinished operation to completed or rolled-back, with events.
 * done is called from the loop when it is over. Requests are refused with
 * -EAGAIN until then.
 */
int dhp_core_recover(struct dhp_core *core, dhp_core_done_fn done, void *ctx);

/*
 * Validate and journal a request (durably) and start its operation; the
 * id is returned in *ret_op_id. Errors: docs/errors.md.
 */
int dhp_core_submit(struct dhp_core *core, const struct dhp_request *req,
		    uint64_t *ret_op_id, struct dhp_error *err);

/*
 * Delete a finished operation from the journal (its Task), durably: 0,
 * -ENOENT when there is none, -EBUSY while it runs, -EIO when the store
 * failed. Its events stay until retention prunes them (docs/store.md).
 */
int dhp_core_delete_op(struct dhp_core *core, uint64_t id, struct dhp_error *err);

/*
 * A write of the API's own records (event destinations, core/store.h)
 * in a transaction of its own, committed durably before this returns:
 * pending writes of running operations are committed plainly first, then
 * write(store, arg, err) runs. A failure of write that is the store's
 * (not -ENOENT, -EINVAL) freezes the journal as any failed write does.
 * -EAGAIN while recovering, -EIO once the store has failed.
 */
typedef int (*dhp_core_write_fn)(struct dhp_store *store, void *arg, struct dhp_error *err);
int dhp_core_store_write(struct dhp_core *core, dhp_core_write_fn write, void *arg,
			 struct dhp_error *err);

/*
 * Put a unit in the spare pool (spare true) or take it out, durably, with
 * an event. A spare is free, held back from create, add and resize (naming
 * it there is refused: take it out of the pool first) and taken first by
 * a hot replace that names no spare. -ENOENT no such unit, -EBUSY it
 * belongs to (or is staged for) a partition or an operation holds it,
 * -EIO it has failed; 0 also when it already was as asked. Store errors
 * as dhp_core_store_write.
 */
int dhp_core_set_spare(struct dhp_core *core, const char *unit, bool spare,
		       struct dhp_error *err);

/* An operation in progress, or NULL (then ask the store). */
const struct dhp_op *dhp_core_active_op(struct dhp_core *core, uint64_t id);
/* No operation in progress and recovery done. */
bool dhp_core_idle(const struct dhp_core *core);

struct dhp_server *dhp_core_server(struct dhp_core *core);
struct dhp_store *dhp_core_store(struct dhp_core *core);
/* The backend, for its queries (info, console_open); its calls are the
 * engine's alone. */
struct dhp_backend *dhp_core_backend(struct dhp_core *core);

/*
 * The invariants of DESIGN.md §2, checked against the backend's own view
 * (from its reconcile call). Only meaningful while the engine is idle.
 * 0, or -EPROTO with the first broken invariant in err.
 */
int dhp_core_check_invariants(struct dhp_core *core, const struct dhp_backend_view *view,
			      struct dhp_error *err);

/* The phases of an operation kind (docs/engine.md): how many, and the
 * name of the i-th ("?" out of range). op->phase counts those done. */
unsigned dhp_core_phase_count(enum dhp_op_kind kind);
const char *dhp_core_phase_name(enum dhp_op_kind kind, unsigned i);

/*
 * Placement (core/plan.h) on the engine's server, at the engine's clock:
 * req->now_ms is filled in. Changes nothing.
 */
int dhp_core_plan(struct dhp_core *core, const struct dhp_plan_request *req,
		  struct dhp_plan *ret_plan, struct dhp_error *err);

/*
 * Composition reservations (docs/engine.md, "Reservations"): hold units
 * for reservation id until until_ms (dhp_core_now's clock). A held unit
 * is refused to every request (create, add, replace's spare) but one
 * whose dhp_request.reservation is id, and the planner skips it; the
 * hold ends by itself at until_ms. Runtime only: a restart drops every
 * hold. 0; -EINVAL for id 0 or a unit twice; -EBUSY when a unit is not
 * free (owned, staged, busy, held by another reservation); -EIO failed;
 * nothing is held then.
 */
int dhp_core_reserve(struct dhp_core *core, uint64_t id, const uint32_t *units, size_t n,
		     uint64_t until_ms, struct dhp_error *err);
/* Drop every hold of reservation id (expired ones too). */
void dhp_core_unreserve(struct dhp_core *core, uint64_t id);
/* The engine's clock, in ms (its loop's: virtual in tests). */
uint64_t dhp_core_now(struct dhp_core *core);

const char *dhp_verb_name(enum dhp_verb verb);
int dhp_verb_parse(const char *name, enum dhp_verb *ret_verb);

#endif
