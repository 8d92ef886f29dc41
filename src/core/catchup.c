/* SPDX-License-Identifier: MIT */
/*
 * When the state directory's file system is full (docs/engine.md, "A full
 * disk"). Unlike an I/O error or corruption it passes, so it is not
 * latched: the engine waits, and resumes by itself once a write succeeds.
 *
 * What is safe to resume depends on what the failed write was:
 *
 * - a request's journal (dhp_core_submit): nothing in memory changed yet,
 *   the request is refused and rolled back, and the next request simply
 *   tries again;
 * - anything else (a phase, an outcome, a unit's power, a partition's
 *   state): memory has moved past the journal. The transaction cannot be
 *   dropped, nor can later ones be committed without it (recovery would
 *   trust a journal that lacks a phase's unit changes). So every write
 *   since the last good commit is tracked (units and partitions by id,
 *   events in the unpublished queue, every operation in flight whole) and
 *   the engine falls *behind*: writes only mark, each operation parks at
 *   its next commit (holding its units: no backend call is in flight
 *   then), and every commit, and a timer with bounded backoff, replays
 *   the tracked writes from memory in one transaction and commits it
 *   durably. The first replay that succeeds puts the journal where memory
 *   is, publishes the events, and the parked operations go on.
 *
 * Why not re-derive memory from the store, as recovery does: operations
 * hold backend calls and timers, and a phase done in hardware but not in
 * the journal would have to be undone, which fails again on a full disk.
 * Parking moves nothing, and a crash while parked is a crash like any
 * other: the journal is at its last good commit, which recovery
 * understands (tests/t0500-crash.c).
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

#define RETRY_FIRST_MS 100u
#define RETRY_MAX_MS 5000u	/* the Retry-After a refused client is given */

int core_catchup_init(struct dhp_core *core)
{
	core->dirty_units = calloc(core->server->n_units ? core->server->n_units : 1, 1);
	return core->dirty_units ? 0 : -ENOMEM;
}

void core_catchup_release(struct dhp_core *core)
{
	dhp_timer_cancel(core->loop, core->retry_timer);
	core->retry_timer = NULL;
	free(core->dirty_units);
	free(core->dirty_partitions);
}

void core_mark_unit(struct dhp_core *core, const struct dhp_unit *unit)
{
	size_t i = (size_t)(unit - core->server->units);

	if (i < core->server->n_units)
		core->dirty_units[i] = 1;
	core->n_writes++;
}

bool core_mark_partition(struct dhp_core *core, uint32_t id)
{
	struct dhp_error e = { 0 };

	core->n_writes++;
	for (size_t i = 0; i < core->n_dirty_partitions; i++)
		if (core->dirty_partitions[i] == id)
			return true;
	if (core->n_dirty_partitions == core->cap_dirty_partitions) {
		size_t cap = core->cap_dirty_partitions ? 2 * core->cap_dirty_partitions : 16;
		uint32_t *v = reallocarray(core->dirty_partitions, cap, sizeof(*v));

		if (!v) {
			/* Untracked, it could not be replayed: latch. */
			dhp_error_set(&e, -ENOMEM, "out of memory tracking a partition's write");
			core_note_store_error(core, -ENOMEM, &e);
			return false;
		}
		core->dirty_partitions = v;
		core->cap_dirty_partitions = cap;
	}
	core->dirty_partitions[core->n_dirty_partitions++] = id;
	return true;
}

bool core_journal_behind(const struct dhp_core *core)
{
	return core->behind && !core->store_error;
}

void core_storage_full(struct dhp_core *core, bool full, const struct dhp_error *why)
{
	if (core->full == full)
		return;
	core->full = full;
	if (core->storage_fn)
		core->storage_fn(core->storage_ctx, full, why);
}

static void retry_fire(void *arg);

static void arm_retry(struct dhp_core *core)
{
	if (!core->retry_timer)
		core->retry_timer = dhp_timer_add(core->loop, core->retry_ms, retry_fire, core);
}

void core_fall_behind(struct dhp_core *core)
{
	/* What the store holds of the transaction is dropped: the replay
	 * writes it again, whole. */
	dhp_store_rollback(core->store);
	if (core->behind || core->store_error)
		return;
	core->behind = true;
	core->retry_ms = RETRY_FIRST_MS;
	arm_retry(core);
}

/* Bounded backoff: the loop never blocks, and a full disk costs one
 * small transaction every few seconds at most. */
static void retry_fire(void *arg)
{
	struct dhp_core *core = arg;

	core->retry_timer = NULL;
	if (!core_journal_behind(core) || !core_commit(core, true, NULL))
		return;
	if (!core_journal_behind(core))
		return;		/* latched meanwhile */
	core->retry_ms = core->retry_ms * 2 < RETRY_MAX_MS ? core->retry_ms * 2 : RETRY_MAX_MS;
	arm_retry(core);
}

void core_unpark_all(struct dhp_core *core)
{
	core->behind = false;
	dhp_timer_cancel(core->loop, core->retry_timer);
	core->retry_timer = NULL;
	/* From the next turn of the loop, never inside the commit that
	 * caught up (it may be another operation's). */
	for (struct core_op *cop = core->ops; cop; cop = cop->next)
		if (cop->parked) {
			cop->parked = false;
			core_op_start(cop);
		}
	if (core->ending)
		core_flush_later(core);
}

void core_committed(struct dhp_core *core)
{
	bool wrote = core->n_writes || core->n_unpublished;

	if (core->n_writes)
		memset(core->dirty_units, 0, core->server->n_units);
	core->n_dirty_partitions = 0;
	core->n_writes = 0;
	core_publish(core);
	if (wrote)
		core_storage_full(core, false, NULL);
}

static int replay_partitions(struct dhp_core *core, struct dhp_error *err)
{
	int r = 0;

	for (size_t i = 0; i < core->n_dirty_partitions && !r; i++) {
		uint32_t id = core->dirty_partitions[i];
		const struct dhp_partition *p = dhp_server_partition(core->server, id);

		r = p ? dhp_store_put_partition(core->store, p, err)
		      : dhp_store_delete_partition(core->store, id, err);
	}
	return r;
}

static int replay_ops(struct dhp_core *core, const struct core_op *list, struct dhp_error *err)
{
	int r = 0;

	for (const struct core_op *cop = list; cop && !r; cop = cop->next)
		r = dhp_store_put_op(core->store, core->server, &cop->op, err);
	return r;
}

/* Every write since the last good commit, from memory, in one transaction. */
static int replay(struct dhp_core *core, struct dhp_error *err)
{
	int r = 0;

	for (size_t i = 0; i < core->server->n_units && !r; i++)
		if (core->dirty_units[i])
			r = dhp_store_put_unit(core->store, &core->server->units[i], err);
	if (!r)
		r = replay_partitions(core, err);
	if (!r)
		r = replay_ops(core, core->ops, err);
	if (!r)
		r = replay_ops(core, core->ending, err);
	/* Events again, in order: they get their numbers now. */
	for (size_t i = 0; i < core->n_unpublished && !r; i++)
		r = dhp_store_append_event(core->store, &core->unpublished[i], err);
	return r ? r : dhp_store_commit(core->store, true, err);
}

int core_catchup(struct dhp_core *core, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r;

	dhp_store_rollback(core->store);
	r = replay(core, &e);
	if (r < 0) {
		dhp_store_rollback(core->store);
		core_note_store_error(core, r, &e);
		if (core->store_error)
			core->n_unpublished = 0;	/* latched: never committed */
		r = dhp_error_set(err, r, "%s", e.message);
		if (e.resolution[0])
			dhp_error_resolve(err, "%s", e.resolution);
		return r;
	}
	core_committed(core);
	core_unpark_all(core);
	return 0;
}
