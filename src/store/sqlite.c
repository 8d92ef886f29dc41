/* SPDX-License-Identifier: MIT */
/*
 * The store on SQLite: opening, closing, the write transaction and the
 * durability rule (docs/store.md), and the helpers the other store files
 * share.
 */
#include "store/internal.h"

#include <stdlib.h>
#include <string.h>

/*
 * Short: a second dhp holding the write lock is reported at once, not
 * waited for; the other brief holders of a lock (a checkpoint, WAL
 * recovery at open, a sqlite3 shell) let go well within it.
 */
#define STORE_BUSY_TIMEOUT_MS 100

/* Numbers handed out by a transaction that is gone may be given again. */
static void store_tx_lost(struct dhp_store *store)
{
	store->in_tx = false;
	store_read_last_event(store, &store->last_event, NULL);
	store->prune_op = store->prune_event = 0;	/* a prune may be gone too */
}

/*
 * A failed statement may have rolled the whole transaction back (an I/O
 * error, a full disk): learn it from SQLite rather than guess, so the next
 * write opens a new transaction instead of writing outside one.
 */
static void store_sync_tx_state(struct dhp_store *store)
{
	if (store->in_tx && sqlite3_get_autocommit(store->db))
		store_tx_lost(store);
}

int store_step_done(struct dhp_store *store, sqlite3_stmt *stmt, const char *what,
		    struct dhp_error *err)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	/* The statement's error is returned by reset, and errmsg then says
	 * it: read it before store_sync_tx_state, whose own statement would
	 * reset it to "not an error". */
	sqlite3_reset(stmt);
	rc = store_error(store, rc, what, err);
	store_sync_tx_state(store);
	return rc;
}

int store_exec(struct dhp_store *store, const char *sql, const char *what,
	       struct dhp_error *err)
{
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		rc = store_error(store, rc, what, err);	/* before errmsg is reset */
		store_sync_tx_state(store);
		return rc;
	}
	return 0;
}

/* Run a cached statement that returns no rows. */
static int store_run(struct dhp_store *store, enum store_stmt id, const char *sql,
		     const char *what, struct dhp_error *err)
{
	STORE_STMT(st);
	int r = store_stmt(store, id, sql, &st, err);

	return r ? r : store_step_done(store, st, what, err);
}

int store_write_begin(struct dhp_store *store, struct dhp_error *err)
{
	int r;

	if (store->in_tx)
		return 0;
	/* IMMEDIATE: take the write lock now, so a second dhp is refused
	 * here and not at COMMIT after work was done. */
	r = store_run(store, STMT_BEGIN, "BEGIN IMMEDIATE", "begin a transaction", err);
	if (!r)
		store->in_tx = true;
	return r;
}

static int copy_error(struct dhp_error *err, const struct dhp_error *e)
{
	int r = dhp_error_set(err, e->code, "%s", e->message);

	if (e->resolution[0])
		dhp_error_resolve(err, "%s", e->resolution);
	return r;
}

/*
 * Defence in depth for "acknowledged only once journaled": a caller that
 * drops a write's result must not get a commit that succeeds without that
 * write. A failed statement may also have rolled the transaction back
 * already (see store_sync_tx_state), and the next write would open a new
 * one: committing that would journal half of what the caller meant.
 */
int store_write_check(struct dhp_store *store, struct dhp_error *err)
{
	if (!store->tx_error.code)
		return 0;
	return dhp_error_set(err, store->tx_error.code,
			     "store: a write of this transaction failed already (%s)",
			     store->tx_error.message);
}

int store_write_end(struct dhp_store *store, int r, const struct dhp_error *e,
		    struct dhp_error *err)
{
	if (!r)
		return 0;
	if (!store->tx_error.code) {
		store->tx_error = *e;
		if (!store->tx_error.code)	/* a write that gave no detail */
			dhp_error_set(&store->tx_error, r, "%s", dhp_error_name(r));
	}
	if (e->code)
		return copy_error(err, e);
	return dhp_error_set(err, r, "store: write failed: %s", dhp_error_name(r));
}

/*
 * The durability rule (docs/store.md). Every transaction commits with
 * synchronous=NORMAL: the WAL is written, not fsynced, which survives a
 * crash of the process. A durable commit then fsyncs the WAL file itself,
 * which covers every frame written before, so one fsync makes this commit
 * and all earlier plain ones survive a power loss: the same guarantee as
 * synchronous=FULL, whose commit is exactly "write frames, fsync the WAL".
 *
 * Why not switch to FULL for a durable commit: SQLite refuses to change
 * synchronous inside a transaction, and the store only learns at commit
 * time that it must be durable. Why not a checkpoint: it cannot finish
 * while a reader holds an older snapshot, and then it syncs nothing.
 */
static int store_sync_wal(struct dhp_store *store, struct dhp_error *err)
{
	sqlite3_file *wal = NULL;
	int rc;

	rc = sqlite3_file_control(store->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
	if (rc != SQLITE_OK)
		return store_error(store, rc, "find the WAL", err);
	/* No WAL open: nothing was written since the last checkpoint. */
	if (!wal || !wal->pMethods)
		return 0;
	/* SQLITE_SYNC_NORMAL is what SQLite itself asks at a FULL commit
	 * (fdatasync on Linux). */
	rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
	if (rc != SQLITE_OK) {
		/* After a failed fsync the kernel may have dropped the pages:
		 * nothing since the last good sync can be called durable. */
		rc = dhp_error_set(err, -EIO, "store: fsync of the WAL failed: %s", sqlite3_errstr(rc));
		dhp_error_resolve(err, "check the disk; stop dhpd, as acknowledged writes may be lost");
		return rc;
	}
	return 0;
}

void store_rollback(struct dhp_store *store)
{
	dhp_error_clear(&store->tx_error);
	if (sqlite3_get_autocommit(store->db)) {
		/* SQLite may have rolled back on its own (an I/O error). */
		if (store->in_tx)
			store_tx_lost(store);
		return;
	}
	sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	store_tx_lost(store);
}

void dhp_store_rollback(struct dhp_store *store)
{
	if (store)
		store_rollback(store);
}

int dhp_store_commit(struct dhp_store *store, bool durable, struct dhp_error *err)
{
	int r;

	/* A transaction with a failed write is not committed, in part or at
	 * all: it is rolled back, and the first failure is the answer. */
	if (store->tx_error.code) {
		r = dhp_error_set(err, store->tx_error.code,
				  "store: commit refused, a write of the transaction failed: %s",
				  store->tx_error.message);
		dhp_error_resolve(err, "nothing of the transaction was written%s%s",
				  store->tx_error.resolution[0] ? "; " : "",
				  store->tx_error.resolution);
		store_rollback(store);
		return r;
	}
	if (store->in_tx) {
		r = store_run(store, STMT_COMMIT, "COMMIT", "commit", err);
		if (r)
			return r;
		store->in_tx = false;
		store->unsynced = true;
	}
	if (!durable || !store->unsynced)
		return 0;
	r = store_sync_wal(store, err);
	if (!r)
		store->unsynced = false;
	return r;
}

/* WAL: readers never block the writer, and a commit is one append. */
static int store_pragmas(struct dhp_store *store, const char *path, struct dhp_error *err)
{
	sqlite3_stmt *st = NULL;
	char mode[16] = "";
	int rc;

	/* The first statement to read the file: a damaged one fails here,
	 * and the message names the file. */
	rc = sqlite3_prepare_v2(store->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_column_text(st, 0, mode, sizeof(mode));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_error(store, rc, path, err);
	if (strcmp(mode, "wal"))
		return dhp_error_set(err, -EIO, "store: %s: cannot use WAL journal mode (got \"%s\")",
				     path, mode);
	/* NORMAL: the WAL is fsynced only by a durable commit (see
	 * store_sync_wal) and at checkpoints. */
	return store_exec(store, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
			  "set pragmas", err);
}

int dhp_store_open(const char *path, struct dhp_store **ret_store, struct dhp_error *err)
{
	struct dhp_store *store;
	int rc, r;

	if (!path || !*path)
		return dhp_error_set(err, -EINVAL, "no store path");
	store = calloc(1, sizeof(*store));
	if (!store)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	rc = sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		r = dhp_error_set(err, rc == SQLITE_NOMEM ? -ENOMEM : -EIO,
				  "cannot open store %s: %s", path,
				  store->db ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc));
		goto close_db;
	}
	/* SQLite opens a file it may not write read-only, silently; the first
	 * write would fail much later, after recovery began. Say it now. */
	if (sqlite3_db_readonly(store->db, "main") == 1) {
		r = dhp_error_set(err, -EROFS, "store %s cannot be opened for writing "
				  "(read-only file system, or no write permission)", path);
		dhp_error_resolve(err, "mount its file system read-write, or give the user dhpd "
				  "runs as write access to it and to its directory");
		goto close_db;
	}
	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);
	r = store_pragmas(store, path, err);
	if (r)
		goto close_db;
	r = store_migrate(store, path, err);
	if (r)
		goto close_db;
	r = store_read_last_event(store, &store->last_event, err);
	if (r)
		goto close_db;
	store->keep = (struct dhp_store_retention){ DHP_STORE_DEFAULT_OPS_KEPT,
						     DHP_STORE_DEFAULT_EVENTS_KEPT };
	*ret_store = store;
	return 0;

close_db:
	dhp_store_close(store);
	return r;
}

void dhp_store_close(struct dhp_store *store)
{
	if (!store)
		return;
	/* Explicit, though close would do it: uncommitted means unacknowledged. */
	if (store->db)
		store_rollback(store);
	for (int i = 0; i < STMT_MAX; i++)
		sqlite3_finalize(store->stmt[i]);
	sqlite3_close(store->db);
	free(store);
}
