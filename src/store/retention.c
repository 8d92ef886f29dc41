/* SPDX-License-Identifier: MIT */
/*
 * Retention (docs/store.md, "Retention"): the journal keeps every
 * unfinished operation and the newest finished ones up to a count, and the
 * newest events up to a count. Events go oldest first and never one of an
 * unfinished operation or a newer one, so the events kept are one run of
 * numbers: a client resuming the stream after an older number can be told
 * exactly which ones it missed (dhp_store_first_event).
 *
 * Pruning is a write like a put: it joins the open transaction, which the
 * engine commits durably with an outcome, so a crash keeps either all of
 * it or none. Recovery needs only the unfinished operations, which are
 * never pruned; the counters and AUTOINCREMENT keep pruned numbers from
 * being given again. Each call deletes at most a batch (a large backlog,
 * say of a store from before retention, goes a batch per outcome), and
 * looks at the tables only every few operations or events (every()).
 */
#include "store/internal.h"

#define PRUNE_OPS_BATCH		256
#define PRUNE_EVENTS_BATCH	4096
/* Look again once this many operations or events were written: a
 * sixteenth of what is kept (so at most that much more is kept), no more
 * than 32 operations and 256 events, and at least one. */
#define PRUNE_EVERY_MAX_OPS	32
#define PRUNE_EVERY_MAX_EVENTS	256

static uint64_t every(uint32_t keep, uint64_t max)
{
	uint64_t n = keep / 16;

	return n < 1 ? 1 : n > max ? max : n;
}

void dhp_store_set_retention(struct dhp_store *store, const struct dhp_store_retention *keep)
{
	store->keep = *keep;
	store->prune_op = store->prune_event = 0;
}

/* ?1 and ?2: the states of an unfinished operation (model/names.c). */
static void bind_unfinished(sqlite3_stmt *st)
{
	sqlite3_bind_text(st, 1, dhp_op_state_name(DHP_OP_QUEUED), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dhp_op_state_name(DHP_OP_RUNNING), -1, SQLITE_STATIC);
}

/* The id of the oldest finished operation kept; 0 when all are kept. */
static int ops_cutoff(struct dhp_store *store, int64_t *ret_id, struct dhp_error *err)
{
	STORE_STMT(st);
	int rc, r;

	r = store_stmt(store, STMT_PRUNE_OPS_CUTOFF,
		       "SELECT id FROM operations WHERE state NOT IN (?1, ?2)"
		       " ORDER BY id DESC LIMIT 1 OFFSET ?3", &st, err);
	if (r)
		return r;
	bind_unfinished(st);
	sqlite3_bind_int64(st, 3, (int64_t)store->keep.ops - 1);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(store, rc, "find the operations to prune", err);
	*ret_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	return 0;
}

/* The oldest finished operations older than the newest keep.ops. */
static int prune_ops(struct dhp_store *store, unsigned *ret_n, struct dhp_error *err)
{
	STORE_STMT(st);
	int64_t cutoff = 0;
	int r;

	*ret_n = 0;
	if (!store->keep.ops)
		return 0;
	r = ops_cutoff(store, &cutoff, err);
	if (r || !cutoff)
		return r;
	r = store_stmt(store, STMT_PRUNE_OPS,
		       "DELETE FROM operations WHERE id IN (SELECT id FROM operations"
		       " WHERE id < ?3 AND state NOT IN (?1, ?2) ORDER BY id LIMIT ?4)", &st, err);
	if (r)
		return r;
	bind_unfinished(st);
	sqlite3_bind_int64(st, 3, cutoff);
	sqlite3_bind_int(st, 4, PRUNE_OPS_BATCH);
	r = store_step_done(store, st, "prune operations", err);
	if (!r)
		*ret_n = (unsigned)sqlite3_changes(store->db);
	return r;
}

/* The oldest event of an unfinished operation, in *floor if below it. */
static int unfinished_floor(struct dhp_store *store, uint64_t *floor, struct dhp_error *err)
{
	STORE_STMT(st);
	int rc, r;

	r = store_stmt(store, STMT_PRUNE_EVENTS_FLOOR,
		       "SELECT MIN(seq) FROM events WHERE op IN"
		       " (SELECT id FROM operations WHERE state IN (?1, ?2))", &st, err);
	if (r)
		return r;
	bind_unfinished(st);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_error(store, rc, "find the events of unfinished operations", err);
	if (sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    (uint64_t)sqlite3_column_int64(st, 0) <= *floor)
		*floor = (uint64_t)sqlite3_column_int64(st, 0) - 1;
	return 0;
}

/* Events up to a floor: the newest keep.events and those of unfinished
 * operations stay, and everything newer than those. */
static int prune_events(struct dhp_store *store, unsigned *ret_n, struct dhp_error *err)
{
	STORE_STMT(st);
	uint64_t floor, first = 0;
	int r;

	*ret_n = 0;
	if (!store->keep.events || store->last_event <= store->keep.events)
		return 0;
	floor = store->last_event - store->keep.events;
	r = unfinished_floor(store, &floor, err);
	if (!r)
		r = dhp_store_first_event(store, &first, err);
	if (r || first > floor)
		return r;
	if (floor - first >= PRUNE_EVENTS_BATCH)
		floor = first + PRUNE_EVENTS_BATCH - 1;
	r = store_stmt(store, STMT_PRUNE_EVENTS, "DELETE FROM events WHERE seq <= ?1", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, (int64_t)floor);
	r = store_step_done(store, st, "prune events", err);
	if (!r)
		*ret_n = (unsigned)sqlite3_changes(store->db);
	return r;
}

static int prune(struct dhp_store *store, struct dhp_error *err)
{
	unsigned n_ops = 0, n_events = 0;
	bool more;
	int r;

	r = store_write_begin(store, err);
	if (!r)
		r = prune_ops(store, &n_ops, err);
	if (!r)
		r = prune_events(store, &n_events, err);
	if (r)
		return r;
	/* A full batch leaves more: then look again at the next call. */
	more = n_ops == PRUNE_OPS_BATCH || n_events == PRUNE_EVENTS_BATCH;
	store->prune_op = more ? 0 : store->max_op + every(store->keep.ops, PRUNE_EVERY_MAX_OPS);
	store->prune_event = more ? 0 : store->last_event + every(store->keep.events,
								  PRUNE_EVERY_MAX_EVENTS);
	return 0;
}

int dhp_store_prune(struct dhp_store *store, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	if (r)
		return r;
	if ((!store->keep.ops && !store->keep.events) ||
	    (store->max_op < store->prune_op && store->last_event < store->prune_event))
		return 0;
	return store_write_end(store, prune(store, &e), &e, err);
}
