/* SPDX-License-Identifier: MIT */
/*
 * The store's schema, its migrations and its integrity check.
 * PRAGMA user_version is the number of steps applied; each step runs in
 * its own transaction, so a crash leaves the store at one version or the
 * next, never between.
 * docs/store.md describes the tables.
 */
#include "store/internal.h"

#include <stdio.h>
#include <string.h>

#include "common/uuid.h"

/* "dhp0" in the file header, so that `file` and we know the file is ours. */
#define STORE_APPLICATION_ID 0x64687030

static int fill_partition_uuids(struct dhp_store *store, struct dhp_error *err);

/*
 * migrations[v] takes a store from version v to v + 1: its SQL, then its
 * fill (or NULL) for what SQL cannot make, in the same transaction.
 * Append only: a step that shipped is never edited, as stores in the
 * field already ran it.
 */
static const struct migration {
	const char *sql;
	int (*fill)(struct dhp_store *store, struct dhp_error *err);
} migrations[] = {
	/* 1: the first schema. */
	{
	"CREATE TABLE meta ("
	"	key TEXT PRIMARY KEY,"
	"	value NOT NULL"
	");"
	/* No foreign keys: 0 means "none" in units, and the journal keeps
	 * naming partitions after they are deleted. */
	"CREATE TABLE units ("
	"	id TEXT PRIMARY KEY,"
	"	powered INTEGER NOT NULL,"
	"	health TEXT NOT NULL,"
	"	partition INTEGER NOT NULL DEFAULT 0,"
	"	boot INTEGER NOT NULL DEFAULT 0,"
	"	staged_partition INTEGER NOT NULL DEFAULT 0,"
	"	staged_remove INTEGER NOT NULL DEFAULT 0"
	") WITHOUT ROWID;"
	"CREATE TABLE partitions ("
	"	id INTEGER PRIMARY KEY CHECK (id >= 1),"
	"	name TEXT NOT NULL UNIQUE,"
	"	profile TEXT NOT NULL,"
	"	state TEXT NOT NULL"
	");"
	"CREATE TABLE operations ("
	"	id INTEGER PRIMARY KEY CHECK (id >= 1),"
	"	kind TEXT NOT NULL,"
	"	state TEXT NOT NULL,"
	"	partition INTEGER NOT NULL,"
	"	partition_name TEXT NOT NULL,"
	"	profile TEXT,"
	"	units TEXT NOT NULL,"
	"	spare TEXT,"
	"	staged INTEGER NOT NULL,"
	"	phase INTEGER NOT NULL,"
	"	rolling_back INTEGER NOT NULL,"
	"	error_code INTEGER NOT NULL,"
	"	error_message TEXT NOT NULL,"
	"	error_resolution TEXT NOT NULL,"
	"	created_ms INTEGER NOT NULL,"
	"	ended_ms INTEGER NOT NULL"
	");"
	"CREATE INDEX operations_state ON operations (state);"
	/* AUTOINCREMENT: a number is never given twice, even after the
	 * newest events are deleted. */
	"CREATE TABLE events ("
	"	seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"	time_ms INTEGER NOT NULL,"
	"	kind TEXT NOT NULL,"
	"	op INTEGER NOT NULL,"
	"	partition INTEGER NOT NULL,"
	"	unit TEXT NOT NULL,"
	"	text TEXT NOT NULL"
	");",
	NULL },
	/* 2: a task's messages are its operation's events. */
	{ "CREATE INDEX events_op ON events (op, seq);", NULL },
	/* 3: a partition's UUID; those already there get one each, random
	 * like a new partition's (SQLite's randomblob is not getrandom). */
	{ "ALTER TABLE partitions ADD COLUMN uuid TEXT NOT NULL DEFAULT '';",
	  fill_partition_uuids },
	/* 4: Redfish push subscriptions (destinations.c). AUTOINCREMENT: a
	 * deleted subscription's number, and so its URI, is never given to
	 * another one. */
	{ "CREATE TABLE event_destinations ("
	  "	id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "	destination TEXT NOT NULL,"
	  "	settings TEXT NOT NULL"
	  ");", NULL },
	/* 5: the spare pool (a unit's spare flag), and the plans run as one
	 * operation: a resize's adds are units' first n_add, a move's
	 * receiving partition is target (issue 11). */
	{ "ALTER TABLE units ADD COLUMN spare INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE operations ADD COLUMN n_add INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE operations ADD COLUMN target INTEGER NOT NULL DEFAULT 0;", NULL },
};

#define STORE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int pragma_int(struct dhp_store *store, const char *sql, int *ret_value,
		      struct dhp_error *err)
{
	STORE_ONCE(st);
	int rc, r;

	r = store_prepare(store, sql, &st, err);
	if (r)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_error(store, rc, "read the schema version", err);
	*ret_value = sqlite3_column_int(st, 0);
	return 0;
}

/* A store with tables but no version is some other program's database. */
static int check_empty(struct dhp_store *store, const char *path, struct dhp_error *err)
{
	STORE_ONCE(st);
	int rc, r;

	r = store_prepare(store, "SELECT 1 FROM sqlite_master LIMIT 1", &st, err);
	if (r)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return dhp_error_set(err, -EINVAL, "%s is a SQLite database but not a dhp store", path);
	return rc == SQLITE_DONE ? 0 : store_error(store, rc, "read the schema", err);
}

static int read_version(struct dhp_store *store, const char *path, int *ret_version,
			struct dhp_error *err)
{
	int app_id, version, r;

	r = pragma_int(store, "PRAGMA application_id", &app_id, err);
	if (!r)
		r = pragma_int(store, "PRAGMA user_version", &version, err);
	if (r)
		return r;
	if (app_id != 0 && app_id != STORE_APPLICATION_ID)
		return dhp_error_set(err, -EINVAL, "%s is a SQLite database but not a dhp store", path);
	if (version > STORE_SCHEMA_VERSION) {
		r = dhp_error_set(err, -EPROTONOSUPPORT,
				  "store %s has schema version %d but this dhp knows up to %d: a newer dhp wrote it",
				  path, version, STORE_SCHEMA_VERSION);
		dhp_error_resolve(err, "run the newer dhp, or start afresh with another state directory");
		return r;
	}
	*ret_version = version;
	return 0;
}

static int apply_step(struct dhp_store *store, const char *path, int version,
		      struct dhp_error *err)
{
	char sql[96];
	int r;

	if (version == 0) {
		r = check_empty(store, path, err);
		if (r)
			return r;
	}
	r = store_exec(store, migrations[version].sql, "migrate the schema", err);
	if (!r && migrations[version].fill)
		r = migrations[version].fill(store, err);
	if (r)
		return r;
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 STORE_APPLICATION_ID, version + 1);
	return store_exec(store, sql, "migrate the schema", err);
}

static int fill_partition_uuid(struct dhp_store *store, int64_t id, struct dhp_error *err)
{
	STORE_ONCE(st);
	char uuid[DHP_UUID_LEN];
	int r = dhp_uuid_random(uuid);

	if (r < 0)
		return dhp_error_set(err, r, "cannot make a partition's UUID: %s", strerror(-r));
	r = store_prepare(store, "UPDATE partitions SET uuid = ?1 WHERE id = ?2", &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	return store_step_done(store, st, "give a partition its UUID", err);
}

/* A row is looked up again after each UPDATE rather than updated under a
 * running SELECT of the same table, whose later rows SQLite leaves
 * undefined. Partitions are few: names are unique, ids never reused. */
static int fill_partition_uuids(struct dhp_store *store, struct dhp_error *err)
{
	STORE_ONCE(st);
	int rc, r;

	r = store_prepare(store, "SELECT id FROM partitions WHERE uuid = '' LIMIT 1", &st, err);
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		sqlite3_reset(st);
		r = fill_partition_uuid(store, id, err);
	}
	if (!r && rc != SQLITE_DONE)
		r = store_error(store, rc, "give partitions their UUIDs", err);
	return r;
}

static int migrate_one(struct dhp_store *store, const char *path, int *version,
		       struct dhp_error *err)
{
	int r = store_write_begin(store, err);

	if (r)
		return r;
	/* Another dhp may have migrated while this one waited for the lock. */
	r = read_version(store, path, version, err);
	if (!r && *version < STORE_SCHEMA_VERSION) {
		r = apply_step(store, path, *version, err);
		if (!r)
			++*version;
	}
	if (!r)
		return dhp_store_commit(store, true, err);
	store_rollback(store);
	return r;
}

int store_migrate(struct dhp_store *store, const char *path, struct dhp_error *err)
{
	int version, r;

	/* Read before locking: a current store needs no write lock to open. */
	r = read_version(store, path, &version, err);
	while (!r && version < STORE_SCHEMA_VERSION)
		r = migrate_one(store, path, &version, err);
	return r;
}

int dhp_store_integrity_check(struct dhp_store *store, struct dhp_error *err)
{
	STORE_ONCE(st);
	int rc, r;

	r = store_prepare(store, "PRAGMA integrity_check", &st, err);
	if (r)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_error(store, rc, "check integrity", err);
	if (!strcmp(store_column_str(st, 0), "ok"))
		return 0;
	r = dhp_error_set(err, -EIO, "store is damaged: %s", store_column_str(st, 0));
	dhp_error_resolve(err, "restore %s from a backup, or move it away and dhp starts afresh",
			  sqlite3_db_filename(store->db, "main"));
	return r;
}
