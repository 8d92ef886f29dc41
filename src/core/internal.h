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
	TARGET_ADDS,		/* each of units[0..n_add): a resize's adds */
	TARGET_REMOVES,		/* each of units[n_add..n_units): its removes */
	TARGET_ALL,		/* each of units[]: a move's units */
};

struct phase_desc {
	const char *name;
	enum step run, undo;
	enum target target;
	enum dhp_notification note, undo_note;
	enum dhp_partition_state enter;	/* partition state when it begins, or MAX */
	bool at_target;			/* the call is for op.target (a move's receiver) */
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
	bool target_down;		/* the same for a move's target */
	bool recovering;
	bool parked;			/* waiting for the journal to catch up (catchup.c) */
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

	/* A full file system (catchup.c): not latched like store_error. */
	bool full;			/* the last write met it; told once to storage_fn */
	bool behind;			/* memory is ahead of the journal: replay, then commit */
	struct dhp_timer *retry_timer;	/* the next replay while behind */
	uint32_t retry_ms;		/* its backoff */
	uint8_t *dirty_units;		/* per unit: written since the last commit */
	uint32_t *dirty_partitions;	/* ids written or deleted since then */
	size_t n_dirty_partitions, cap_dirty_partitions;
	size_t n_writes;		/* writes since the last commit */
	void (*storage_fn)(void *ctx, bool full, const struct dhp_error *why);
	void *storage_ctx;

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
 * committed (core_commit). A full file system is not: see catchup.c. */
uint64_t core_wall_ms(void);
/* Append an event (published after its commit); the store's result. */
__attribute__((format(printf, 6, 7)))
int core_event(struct dhp_core *core, enum dhp_event_kind kind, uint64_t op,
	       uint32_t partition, const struct dhp_unit *unit, const char *fmt, ...);
/* The same for a request's own event: a failure is only returned, with
 * its detail in err (the request's caller rolls back), never replayed. */
__attribute__((format(printf, 7, 8)))
int core_request_event(struct dhp_core *core, struct dhp_error *err, enum dhp_event_kind kind,
		       uint64_t op, uint32_t partition, const struct dhp_unit *unit,
		       const char *fmt, ...);
/* Commit (durably or not), then publish the committed events; after a
 * store failure, roll back instead and fail; while behind, replay. */
int core_commit(struct dhp_core *core, bool durable, struct dhp_error *err);
/* Commit a request's transaction durably. On failure it is rolled back
 * and its events after n_unpublished dropped: never replayed, as the
 * request is refused. */
int core_commit_request(struct dhp_core *core, size_t n_unpublished, struct dhp_error *err);
void core_put_unit(struct dhp_core *core, const struct dhp_unit *unit);
/* -EAGAIN while recovering, -EIO once the store failed (latched), or 0. */
int core_refuse_write(struct dhp_core *core, struct dhp_error *err);
/* e (a deeper layer's detail) into err, with code r; returns r. */
int core_copy_error(struct dhp_error *err, int r, const struct dhp_error *e);
void core_put_op(struct dhp_core *core, const struct dhp_op *op);
/* A partition's row, written or (gone from the model) deleted: 0, or the
 * store's error other than a full disk (which is replayed). */
int core_put_partition(struct dhp_core *core, uint32_t id, struct dhp_error *err);
void core_set_partition_state(struct dhp_core *core, struct dhp_partition *p,
			      enum dhp_partition_state state, const char *why);
/* Remember a failed write or commit: a full disk (-EDQUOT) is noted and
 * told; any other error latches store_error. */
void core_note_store_error(struct dhp_core *core, int r, const struct dhp_error *e);
/* A successful commit: forget what was written, publish the events. */
void core_committed(struct dhp_core *core);
void core_publish(struct dhp_core *core);

/*
 * catchup.c: a full file system. Writes are tracked since the last
 * commit; when a commit fails for lack of space the engine falls behind:
 * operations park at their next commit, and the tracked writes are
 * replayed on a timer with backoff until a commit succeeds.
 */
int core_catchup_init(struct dhp_core *core);
void core_catchup_release(struct dhp_core *core);
void core_mark_unit(struct dhp_core *core, const struct dhp_unit *unit);
/* false when the write cannot be tracked (out of memory: latched). */
bool core_mark_partition(struct dhp_core *core, uint32_t id);
/* A write failed for lack of space: drop the transaction, replay later. */
void core_fall_behind(struct dhp_core *core);
/* Replay every tracked write and the active operations, commit durably. */
int core_catchup(struct dhp_core *core, struct dhp_error *err);
/* Memory is ahead of the journal, which will catch up: callers park. */
bool core_journal_behind(const struct dhp_core *core);
/* The disk filled (full) or took a write again: tell once. */
void core_storage_full(struct dhp_core *core, bool full, const struct dhp_error *why);
/* Stop waiting (caught up, or latched): parked operations go on. */
void core_unpark_all(struct dhp_core *core);
/* The operation ended: commit durably (grouped) and free it later. */
void core_op_ended(struct dhp_core *core, struct core_op *cop);
/* Give the ended operations their durable commit from the next turn. */
void core_flush_later(struct dhp_core *core);

/* calls.c: the backend calls of phases. */
/* Issue the next call of a phase: 0 under way, 1 nothing left to do, or
 * a negative errno when it could not begin. */
int core_call_issue(struct core_op *cop, const struct phase_desc *ph, bool undo);
/* The partition a phase's calls are for: the op's, or a move's target. */
struct dhp_partition *core_phase_partition(struct core_op *cop, const struct phase_desc *ph);
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
/* Shared checks (validate.c), for resize.c. Each returns 0 or fills err. */
int core_find_unit(struct dhp_core *core, const char *id, struct dhp_unit **ret_unit,
		   struct dhp_error *err);
/* Free, healthy, and not held by a reservation other than req's. */
int core_need_free(struct dhp_core *core, const struct dhp_request *req,
		   const struct dhp_unit *u, struct dhp_error *err);
/* Free and not in the spare pool: for create, add and resize. */
int core_need_usable(struct dhp_core *core, const struct dhp_request *req,
		     const struct dhp_unit *u, struct dhp_error *err);
int core_check_online(struct dhp_core *core, const struct dhp_partition *p,
		      enum dhp_online_action action, const struct dhp_unit *u,
		      struct dhp_error *err);
/* The request's partition, found and not busy. */
int core_find_partition(struct dhp_core *core, const char *name, struct dhp_partition **ret_p,
			struct dhp_error *err);

/* resize.c: the plan kinds (resize, hot resize, hot move). */
int core_validate_resize(struct dhp_core *core, const struct dhp_request *req,
			 struct dhp_partition *p, struct dhp_op *op, struct dhp_error *err);
int core_validate_move(struct dhp_core *core, const struct dhp_request *req,
		       struct dhp_partition *p, struct dhp_op *op, struct dhp_error *err);
int core_commit_resize(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err);
int core_commit_hot_resize(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err);
int core_commit_hot_move(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err);
/* phases.c: a unit leaves its partition, nothing of its role there stays. */
void core_unit_release(struct dhp_unit *u);

/* Mark the units and partition of op busy, or not. */
void core_hold(struct dhp_core *core, const struct dhp_op *op, uint64_t holder);
/* reserve.c: 0, or -EBUSY naming the reservation that holds u (unless
 * it is mine). */
int core_check_hold(struct dhp_core *core, const struct dhp_unit *u, uint64_t mine,
		    struct dhp_error *err);

/* phases.c: the units of a partition after its staged changes. */
bool unit_in_next(const struct dhp_unit *unit, uint32_t partition);

#endif
