/* SPDX-License-Identifier: MIT */
/*
 * The event journal. SQLite numbers the events (AUTOINCREMENT), so a
 * number is never given twice once committed, even after old events are
 * pruned; an append rolled back may see its number given again, which is
 * why events are published only after their commit.
 */
#include "store/internal.h"

#include <stdlib.h>

static int write_event(struct dhp_store *store, struct dhp_event *ev,
		       struct dhp_error *err)
{
	STORE_STMT(st);
	int r;

	if ((unsigned)ev->kind >= DHP_EVENT_KIND_MAX || ev->time_ms > INT64_MAX ||
	    ev->op > INT64_MAX)
		return dhp_error_set(err, -EINVAL, "invalid event");
	r = store_write_begin(store, err);
	if (!r)
		r = store_stmt(store, STMT_APPEND_EVENT,
			       "INSERT INTO events (time_ms, kind, op, partition, unit, text)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, (int64_t)ev->time_ms);
	sqlite3_bind_text(st, 2, dhp_event_kind_name(ev->kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)ev->op);
	sqlite3_bind_int64(st, 4, ev->partition);
	sqlite3_bind_text(st, 5, ev->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ev->text, -1, SQLITE_STATIC);
	r = store_step_done(store, st, "append event", err);
	if (r)
		return r;
	ev->seq = (uint64_t)sqlite3_last_insert_rowid(store->db);
	store->last_event = ev->seq;
	return 0;
}

int dhp_store_append_event(struct dhp_store *store, struct dhp_event *ev,
			   struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	return r ? r : store_write_end(store, write_event(store, ev, &e), &e, err);
}

static int event_from_row(sqlite3_stmt *st, struct dhp_event *ev, struct dhp_error *err)
{
	const char *kind = store_column_str(st, 2);

	ev->seq = (uint64_t)sqlite3_column_int64(st, 0);
	if (dhp_event_kind_parse(kind, &ev->kind))
		return dhp_error_set(err, -EINVAL, "store: event %llu has unknown kind \"%s\"",
				     (unsigned long long)ev->seq, kind);
	ev->time_ms = (uint64_t)sqlite3_column_int64(st, 1);
	ev->op = (uint64_t)sqlite3_column_int64(st, 3);
	ev->partition = (uint32_t)sqlite3_column_int64(st, 4);
	store_column_text(st, 5, ev->unit, sizeof(ev->unit));
	store_column_text(st, 6, ev->text, sizeof(ev->text));
	return 0;
}

/* The rows of a prepared query of events, bound by the caller. */
static int read_events(struct dhp_store *store, sqlite3_stmt *st, struct dhp_event **ret_events,
		       size_t *ret_n, struct dhp_error *err)
{
	struct dhp_event *events = NULL, *ev;
	size_t n = 0, cap = 0;
	int rc = SQLITE_DONE, r = 0;

	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ev = store_grow((void **)&events, &n, &cap, sizeof(*events));
		r = ev ? event_from_row(st, ev, err)
		       : dhp_error_set(err, -ENOMEM, "out of memory");
	}
	if (!r && rc != SQLITE_DONE)
		r = store_error(store, rc, "read events", err);
	if (r) {
		free(events);
		return r;
	}
	*ret_events = events;
	*ret_n = n;
	return 0;
}

static int64_t clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int dhp_store_events(struct dhp_store *store, uint64_t after_seq, size_t max,
		     struct dhp_event **ret_events, size_t *ret_n, struct dhp_error *err)
{
	STORE_ONCE(st);
	int r = store_prepare(store, "SELECT seq, time_ms, kind, op, partition, unit, text"
			      " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2", &st, err);

	if (r)
		return r;
	sqlite3_bind_int64(st, 1, clamp(after_seq));
	sqlite3_bind_int64(st, 2, clamp(max));
	return read_events(store, st, ret_events, ret_n, err);
}

int dhp_store_op_events(struct dhp_store *store, uint64_t op, uint64_t after_seq, size_t max,
			struct dhp_event **ret_events, size_t *ret_n, struct dhp_error *err)
{
	STORE_ONCE(st);
	int r = store_prepare(store, "SELECT seq, time_ms, kind, op, partition, unit, text"
			      " FROM events WHERE op = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
			      &st, err);

	if (r)
		return r;
	sqlite3_bind_int64(st, 1, clamp(op));
	sqlite3_bind_int64(st, 2, clamp(after_seq));
	sqlite3_bind_int64(st, 3, clamp(max));
	return read_events(store, st, ret_events, ret_n, err);
}

uint64_t dhp_store_last_event(struct dhp_store *store)
{
	return store->last_event;
}

/* sqlite_sequence keeps the highest number given, even once deleted. */
int store_read_last_event(struct dhp_store *store, uint64_t *ret_seq, struct dhp_error *err)
{
	STORE_ONCE(st);
	int rc, r;

	r = store_prepare(store, "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
			  &st, err);
	if (r)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(store, rc, "read the last event number", err);
	*ret_seq = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	return 0;
}

int dhp_store_first_event(struct dhp_store *store, uint64_t *ret_seq, struct dhp_error *err)
{
	STORE_STMT(st);
	int rc, r;

	/* MIN of the rowid: one step down the table's b-tree. */
	r = store_stmt(store, STMT_FIRST_EVENT, "SELECT MIN(seq) FROM events", &st, err);
	if (r)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_error(store, rc, "read the oldest event number", err);
	*ret_seq = sqlite3_column_type(st, 0) == SQLITE_NULL
		   ? store->last_event + 1 : (uint64_t)sqlite3_column_int64(st, 0);
	return 0;
}
