/* SPDX-License-Identifier: MIT */
/*
 * What every store file uses to talk to SQLite: the statement cache, the
 * mapping of SQLite's errors to ours, and reading rows into fixed fields.
 */
#include "store/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_error(struct dhp_store *store, int rc, const char *what, struct dhp_error *err)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		rc = dhp_error_set(err, -EBUSY, "state directory is in use by another dhp process");
		/* dhp_error_resolve() returns 0 when err is NULL: keep the code. */
		dhp_error_resolve(err, "stop the other dhpd, or give this one another state directory");
		return rc;
	case SQLITE_NOMEM:
		return dhp_error_set(err, -ENOMEM, "out of memory (%s)", what);
	case SQLITE_CONSTRAINT:
		/* The engine checks first: this is a bug, but say it precisely. */
		return dhp_error_set(err, rc == SQLITE_CONSTRAINT_UNIQUE ||
					  rc == SQLITE_CONSTRAINT_PRIMARYKEY ? -EEXIST : -EINVAL,
				     "store: %s: %s", what, sqlite3_errmsg(store->db));
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		rc = dhp_error_set(err, -EIO, "store: %s: %s", what, sqlite3_errmsg(store->db));
		dhp_error_resolve(err, "%s is damaged: restore it from a backup, or move it away and dhp starts afresh",
				  sqlite3_db_filename(store->db, "main"));
		return rc;
	default:
		return dhp_error_set(err, -EIO, "store: %s: %s", what, sqlite3_errmsg(store->db));
	}
}

int store_stmt(struct dhp_store *store, enum store_stmt id, const char *sql,
	       sqlite3_stmt **ret_stmt, struct dhp_error *err)
{
	int rc;

	if (!store->stmt[id]) {
		rc = sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
					&store->stmt[id], NULL);
		if (rc != SQLITE_OK)
			return store_error(store, rc, "prepare statement", err);
	}
	*ret_stmt = store->stmt[id];
	return 0;
}

int store_prepare(struct dhp_store *store, const char *sql, sqlite3_stmt **ret_stmt,
		  struct dhp_error *err)
{
	int rc = sqlite3_prepare_v2(store->db, sql, -1, ret_stmt, NULL);

	return rc == SQLITE_OK ? 0 : store_error(store, rc, "prepare statement", err);
}

void store_finalize(sqlite3_stmt **stmt)
{
	sqlite3_finalize(*stmt);
	*stmt = NULL;
}

void store_stmt_done(sqlite3_stmt **stmt)
{
	if (*stmt) {
		sqlite3_reset(*stmt);
		sqlite3_clear_bindings(*stmt);
	}
}

void store_column_text(sqlite3_stmt *stmt, int col, char *buf, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, col);

	snprintf(buf, size, "%s", text ? (const char *)text : "");
}

void *store_grow(void **array, size_t *n, size_t *cap, size_t elem_size)
{
	char *elem;

	if (*n == *cap) {
		size_t new_cap = *cap ? 2 * *cap : 16;
		void *v = reallocarray(*array, new_cap, elem_size);

		if (!v)
			return NULL;
		*array = v;
		*cap = new_cap;
	}
	elem = (char *)*array + (*n)++ * elem_size;
	memset(elem, 0, elem_size);
	return elem;
}
