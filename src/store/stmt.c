/* SPDX-License-Identifier: MIT */
/*
 * What every store file uses to talk to SQLite: the statement cache, the
 * mapping of SQLite's errors to ours, and reading rows into fixed fields.
 */
#include "store/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A full file system is its own case: it passes when space returns, while
 * corruption or an I/O error does not (docs/store.md, "A full disk").
 * SQLite says SQLITE_FULL for ENOSPC on a write; a quota (EDQUOT), or
 * ENOSPC met while growing the -shm or truncating, come as an I/O error
 * whose system errno tells. Returns that errno, or 0 when not full.
 */
static bool errno_full(int sys)
{
	return sys == ENOSPC || sys == EDQUOT;
}

/* The errno of the last failed call on a file of the store (the unix VFS
 * keeps one per file), 0 if unknown. */
static int file_errno(sqlite3_file *file)
{
	int sys = 0;

	if (!file || !file->pMethods ||
	    file->pMethods->xFileControl(file, SQLITE_FCNTL_LAST_ERRNO, &sys) != SQLITE_OK)
		return 0;
	return sys;
}

static int full_errno(struct dhp_store *store, int rc)
{
	sqlite3_file *file = NULL;
	int sys;

	if ((rc & 0xff) == SQLITE_FULL)
		return ENOSPC;
	if ((rc & 0xff) != SQLITE_IOERR)
		return 0;
	/* sqlite3_system_errno() is errno read when SQLite reports the error,
	 * which the rollback before it may have changed; the file's own
	 * record of its failed write is kept. The WAL is where commits write. */
	sys = sqlite3_system_errno(store->db);
	if (!errno_full(sys) &&
	    sqlite3_file_control(store->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) == SQLITE_OK)
		sys = file_errno(file);
	if (!errno_full(sys) &&
	    sqlite3_file_control(store->db, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK)
		sys = file_errno(file);
	return errno_full(sys) ? sys : 0;
}

/* The directory of the store file, where space is missing. */
static void store_dir(struct dhp_store *store, char *buf, size_t size)
{
	const char *path = sqlite3_db_filename(store->db, "main");
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (!path || !*path)
		snprintf(buf, size, "the store's directory");
	else if (!slash)
		snprintf(buf, size, ".");
	else
		snprintf(buf, size, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

static int full_error(struct dhp_store *store, int sys, const char *what,
		      struct dhp_error *err)
{
	char dir[256];
	int r;

	store_dir(store, dir, sizeof(dir));
	r = dhp_error_set(err, -EDQUOT, "store: %s: %s (%s): the file system of %s is full",
			  what, sqlite3_errmsg(store->db), sys == EDQUOT ? "EDQUOT" : "ENOSPC", dir);
	dhp_error_resolve(err, "free space on the file system of %s, or raise its quota", dir);
	return r;
}

int store_error(struct dhp_store *store, int rc, const char *what, struct dhp_error *err)
{
	int sys = full_errno(store, rc);

	if (sys)
		return full_error(store, sys, what, err);
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
