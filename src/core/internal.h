/* SPDX-License-Identifier: MIT */
/* Shared by the files of the engine only. */
#ifndef DHP_CORE_INTERNAL_H
#define DHP_CORE_INTERNAL_H

#include "core/core.h"

/* What a phase asks of the backend. */
enum step {
	STEP_NONE,
	STEP_COMMIT,		/* the point of no return: the model changes */
	STEP_POWER_ON,
	STEP_POWER_OFF,
	STEP_NOTIFY,
	STEP_ATTACH,
	STEP_DETACH,
	STEP_ONLINE,
	STEP_OFFLINE,
	STEP_MOVE,		/* units[0] -> spare */
	STEP_MOVE_BACK,		/* spare -> units[0] */
	STEP_BOOT,
	STEP_SHUTDOWN,
};

/* Which units a phase acts on. */
enum target {
	TARGET_UNIT,		/* units[0] */
	TARGET_SPARE,
	TARGET_OWNED,		/* every unit the partition owns now */
	TARGET_NEXT,		/* the units it will own after staged changes */
	TARGET_PARTITION,	/* the partition itself */
};

struct phase_desc {
	const char *name;
	enum step run, undo;
	enum target target;
	enum dhp_notification note, undo_note;
	enum dhp_partition_state enter;	/* partition state when it begins, or MAX */
};

struct op_desc {
	const struct phase_desc *phases;
	unsigned n_phases;
	/* Change the model at STEP_COMMIT; writes go to the store. */
	int (*commit)(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err);
	enum dhp_partition_state begin_state;	/* or MAX: untouched */
	enum dhp_partition_state undo_state;	/* after a rollback, or MAX */
	bool recover_forward;	/* recovery finishes it instead of undoing it */
};

const struct op_desc *op_desc(enum dhp_op_kind kind);
/* Index of the commit phase of an operation kind. */
unsigned op_commit_phase(const struct op_desc *desc);

struct core_op {
	struct dhp_op op;
	struct dhp_core *core;
	const struct op_desc *desc;
	uint64_t token;			/* of the backend call in flight, 0 if none */
	struct dhp_timer *deadline;
	struct dhp_timer *kick;
	size_t cursor;			/* next unit to visit in a multi-unit phase */
	unsigned sub_done;		/* units done in this phase */
	bool undo_failed;
	bool os_down;			/* the partition's OS went down meanwhile */
	bool recovering;
	struct core_op *next;
};

struct dhp_core {
	struct dhp_server *server;
	struct dhp_store *store;
	struct dhp_backend *backend;
	struct dhp_loop *loop;
	uint32_t deadline_ms;
	struct dhp_core_listener listener;
	struct dhp_store_counters counters;

	struct core_op *ops;		/* running */
	struct core_op *ending;		/* ended, waiting for their durable commit */
	struct dhp_timer *flush_timer;
	struct dhp_event *unpublished;	/* appended, not yet committed */
	size_t n_unpublished, cap_unpublished;
	uint64_t next_token;
	bool recovered;
	int store_error;		/* a failed write or commit: refuse further work */
	struct dhp_error store_failure;	/* its detail */

	/* Recovery in progress. */
	struct dhp_backend_view view;
	dhp_core_done_fn recover_done;
	void *recover_ctx;
	uint64_t recover_token;
};

static inline struct dhp_partition *core_op_partition(struct core_op *cop)
{
	return dhp_server_partition(cop->core->server, cop->op.partition);
}

/* journal.c: events, writes, commits. A failed write is remembered in
 * core->store_error: further requests are refused and nothing more is
 * committed (core_commit). */
uint64_t core_wall_ms(void);
/* Append an event (published after its commit); the store's result. */
__attribute__((format(printf, 6, 7)))
int core_event(struct dhp_core *core, enum dhp_event_kind kind, uint64_t op,
	       uint32_t partition, const struct dhp_unit *unit, const char *fmt, ...);
/* Commit (durably or not), then publish the committed events; after a
 * store failure, roll back instead and fail. */
int core_commit(struct dhp_core *core, bool durable, struct dhp_error *err);
void core_put_unit(struct dhp_core *core, const struct dhp_unit *unit);
void core_put_op(struct dhp_core *core, const struct dhp_op *op);
void core_set_partition_state(struct dhp_core *core, struct dhp_partition *p,
			      enum dhp_partition_state state, const char *why);
/* The operation ended: commit durably (grouped) and free it later. */
void core_op_ended(struct dhp_core *core, struct core_op *cop);

/* calls.c: the backend calls of phases. */
/* Issue the next call of a phase: 0 under way, 1 nothing left to do, or
 * a negative errno when it could not begin. */
int core_call_issue(struct core_op *cop, enum step step, enum dhp_notification note,
		    enum target target);
/* The unit the call in flight acts on (NULL for the partition). */
struct dhp_unit *core_call_unit(struct core_op *cop, enum target target);
/* A power step succeeded: the model follows. */
void core_call_apply_power(struct core_op *cop, enum step step, enum target target);

/* engine.c: an operation's state machine. */
struct core_op *core_op_new(struct dhp_core *core, const struct dhp_op *op);
void core_op_start(struct core_op *cop);
void core_op_free(struct core_op *cop);
/* The outcome of the call in flight: its answer, or its deadline. */
void core_op_result(struct core_op *cop, int rc, const struct dhp_error *err);

/* recovery.c: called as operations end; finishes recovery after the last. */
void core_recovery_progress(struct dhp_core *core);

/* validate.c: check a request against the model and fill *op. */
int core_validate(struct dhp_core *core, const struct dhp_request *req, struct dhp_op *op,
		  struct dhp_error *err);
/* Mark the units and partition of op busy, or not. */
void core_hold(struct dhp_core *core, const struct dhp_op *op, uint64_t holder);

/* phases.c: the units of a partition after its staged changes. */
bool unit_in_next(const struct dhp_unit *unit, uint32_t partition);

#endif
