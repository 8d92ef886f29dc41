/* SPDX-License-Identifier: MIT */
/*
 * Private to src/store/: the store handle, its cache of prepared
 * statements and the helpers every store file shares. The schema and the
 * durability rule are in docs/store.md.
 */
#ifndef DHP_STORE_INTERNAL_H
#define DHP_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "core/store.h"

/* One slot per cached statement; each is prepared on first use. */
enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_GET_META,
	STMT_PUT_META,
	STMT_PUT_UNIT,
	STMT_PUT_PARTITION,
	STMT_DELETE_PARTITION,
	STMT_PUT_OP,
	STMT_GET_OP,
	STMT_APPEND_EVENT,
	STMT_FIRST_EVENT,
	STMT_PRUNE_OPS_CUTOFF,
	STMT_PRUNE_OPS,
	STMT_PRUNE_EVENTS_FLOOR,
	STMT_PRUNE_EVENTS,
	STMT_MAX
};

struct dhp_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_MAX];
	bool in_tx;		/* BEGIN IMMEDIATE done, COMMIT pending */
	bool unsynced;		/* a plain commit since the last fsync of the WAL */
	uint64_t last_event;	/* highest event seq handed out */
	/* The first write of the open transaction that failed (code 0: none).
	 * Later writes are refused and the commit fails and rolls back: a
	 * transaction is all of its writes or nothing (docs/store.md). */
	struct dhp_error tx_error;
	/* Retention (retention.c): what to keep, the highest operation id
	 * written, and the operation id and event number from which to look
	 * again (0: at the next dhp_store_prune). */
	struct dhp_store_retention keep;
	uint64_t max_op;
	uint64_t prune_op, prune_event;
};

/*
 * The cached statement id, reset and with no bindings; sql is used the
 * first time only. Callers declare the handle with STORE_STMT so that it
 * is reset when it goes out of scope: a SELECT left half-stepped would
 * hold a read snapshot open and stall WAL checkpoints.
 */
int store_stmt(struct dhp_store *store, enum store_stmt id, const char *sql,
	       sqlite3_stmt **ret_stmt, struct dhp_error *err);
void store_stmt_done(sqlite3_stmt **stmt);
#define STORE_STMT(name) sqlite3_stmt *name __attribute__((cleanup(store_stmt_done))) = NULL

/* A statement run once (load, checks): finalized when it goes out of
 * scope. Declare with STORE_ONCE. */
int store_prepare(struct dhp_store *store, const char *sql, sqlite3_stmt **ret_stmt,
		  struct dhp_error *err);
void store_finalize(sqlite3_stmt **stmt);
#define STORE_ONCE(name) sqlite3_stmt *name __attribute__((cleanup(store_finalize))) = NULL

/*
 * Turn a SQLite result code into the store's error: -EBUSY when another
 * process holds the database, -EEXIST for a duplicate key, -EINVAL for
 * another constraint, -ENOMEM, else -EIO; the message is SQLite's.
 * what says what was being done ("save unit", ...).
 */
int store_error(struct dhp_store *store, int rc, const char *what, struct dhp_error *err);

/* Step a statement that returns no rows (SQLITE_DONE expected). */
int store_step_done(struct dhp_store *store, sqlite3_stmt *stmt, const char *what,
		    struct dhp_error *err);

/* Run one or more statements of SQL text that return no rows (rare paths). */
int store_exec(struct dhp_store *store, const char *sql, const char *what,
	       struct dhp_error *err);

/* Open the write transaction if none is open: every put calls this first. */
int store_write_begin(struct dhp_store *store, struct dhp_error *err);

/*
 * Every public write (put, delete, append) is wrapped by these two:
 * store_write_check() refuses a write to a transaction that already had a
 * failed one; store_write_end() takes the write's result r and detail e,
 * remembers the first failure in store->tx_error, copies e to err and
 * returns r.
 */
int store_write_check(struct dhp_store *store, struct dhp_error *err);
int store_write_end(struct dhp_store *store, int r, const struct dhp_error *e,
		    struct dhp_error *err);

/* Bring the schema to the current version (schema.c). */
int store_migrate(struct dhp_store *store, const char *path, struct dhp_error *err);

/* Roll back the write transaction, if any: nothing of it reaches the file. */
void store_rollback(struct dhp_store *store);

/* Highest event number ever given out, from sqlite_sequence (events.c). */
int store_read_last_event(struct dhp_store *store, uint64_t *ret_seq,
			  struct dhp_error *err);

/* Text of a column, "" for NULL, copied bounded into buf. */
void store_column_text(sqlite3_stmt *stmt, int col, char *buf, size_t size);

/* Text of a column, "" for NULL; valid until the next step or reset. */
static inline const char *store_column_str(sqlite3_stmt *stmt, int col)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);

	return text ? (const char *)text : "";
}

/*
 * Append one element to a growing array; *cap doubles. Returns a pointer to
 * the new zeroed element, or NULL on allocation failure (array unchanged).
 */
void *store_grow(void **array, size_t *n, size_t *cap, size_t elem_size);

#endif
