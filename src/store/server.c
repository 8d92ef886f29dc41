/* SPDX-License-Identifier: MIT */
/*
 * The server's persisted state: which server the store belongs to, unit
 * state, partitions and the counters that never go back.
 */
#include "store/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define META_SERVER_NAME	"server_name"
#define META_SERVER_DIGEST	"server_digest"
#define META_NEXT_PARTITION	"next_partition_id"
#define META_NEXT_OP		"next_op_id"

/* text NULL: store value as an integer, so the shell shows a number. */
static int put_meta(struct dhp_store *store, const char *key, const char *text,
		    int64_t value, struct dhp_error *err)
{
	STORE_STMT(st);
	int r;

	r = store_write_begin(store, err);
	if (!r)
		r = store_stmt(store, STMT_PUT_META,
			       "INSERT INTO meta (key, value) VALUES (?1, ?2)"
			       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			       &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, value);
	return store_step_done(store, st, "save meta", err);
}

/* -ENOENT, with err untouched, when key is absent. */
static int get_meta(struct dhp_store *store, const char *key, char *buf, size_t size,
		    int64_t *ret_value, struct dhp_error *err)
{
	STORE_STMT(st);
	int rc, r;

	r = store_stmt(store, STMT_GET_META, "SELECT value FROM meta WHERE key = ?1", &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return store_error(store, rc, "read meta", err);
	if (buf)
		store_column_text(st, 0, buf, size);
	if (ret_value)
		*ret_value = sqlite3_column_int64(st, 0);
	return 0;
}

static int write_unit(struct dhp_store *store, const struct dhp_unit *unit,
		      struct dhp_error *err)
{
	STORE_STMT(st);
	int r;

	if ((unsigned)unit->health >= DHP_HEALTH_MAX)
		return dhp_error_set(err, -EINVAL, "unit \"%s\": invalid health %d",
				     unit->id, (int)unit->health);
	r = store_write_begin(store, err);
	if (!r)
		r = store_stmt(store, STMT_PUT_UNIT,
			       "INSERT INTO units (id, powered, health, partition, boot,"
			       " staged_partition, staged_remove, spare)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			       " ON CONFLICT (id) DO UPDATE SET powered = excluded.powered,"
			       " health = excluded.health, partition = excluded.partition,"
			       " boot = excluded.boot, staged_partition = excluded.staged_partition,"
			       " staged_remove = excluded.staged_remove, spare = excluded.spare",
			       &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, unit->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, unit->powered);
	sqlite3_bind_text(st, 3, dhp_health_name(unit->health), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, unit->partition);
	sqlite3_bind_int(st, 5, unit->boot);
	sqlite3_bind_int64(st, 6, unit->staged_partition);
	sqlite3_bind_int(st, 7, unit->staged_remove);
	sqlite3_bind_int(st, 8, unit->spare);
	return store_step_done(store, st, "save unit", err);
}

int dhp_store_put_unit(struct dhp_store *store, const struct dhp_unit *unit,
		       struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	return r ? r : store_write_end(store, write_unit(store, unit, &e), &e, err);
}

static int write_partition(struct dhp_store *store, const struct dhp_partition *partition,
			   struct dhp_error *err)
{
	STORE_STMT(st);
	int r;

	if (partition->id < 1 || !partition->profile ||
	    (unsigned)partition->state >= DHP_PARTITION_STATE_MAX ||
	    !dhp_uuid_valid(partition->uuid))
		return dhp_error_set(err, -EINVAL,
				     "partition \"%s\": invalid id, profile, state or UUID",
				     partition->name);
	r = store_write_begin(store, err);
	/* The UUID is written with the row and never updated: it is the
	 * partition's for its whole life. */
	if (!r)
		r = store_stmt(store, STMT_PUT_PARTITION,
			       "INSERT INTO partitions (id, name, profile, state, uuid)"
			       " VALUES (?1, ?2, ?3, ?4, ?5)"
			       " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
			       " profile = excluded.profile, state = excluded.state",
			       &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, partition->id);
	sqlite3_bind_text(st, 2, partition->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, partition->profile->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, dhp_partition_state_name(partition->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, partition->uuid, -1, SQLITE_STATIC);
	return store_step_done(store, st, "save partition", err);
}

int dhp_store_put_partition(struct dhp_store *store, const struct dhp_partition *partition,
			    struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	return r ? r : store_write_end(store, write_partition(store, partition, &e), &e, err);
}

/* Deleting a partition the store does not have is not an error. */
static int write_delete_partition(struct dhp_store *store, uint32_t id, struct dhp_error *err)
{
	STORE_STMT(st);
	int r;

	r = store_write_begin(store, err);
	if (!r)
		r = store_stmt(store, STMT_DELETE_PARTITION,
			       "DELETE FROM partitions WHERE id = ?1", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(store, st, "delete partition", err);
}

int dhp_store_delete_partition(struct dhp_store *store, uint32_t id, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	return r ? r : store_write_end(store, write_delete_partition(store, id, &e), &e, err);
}

static int write_counters(struct dhp_store *store, const struct dhp_store_counters *counters,
			  struct dhp_error *err)
{
	int r;

	if (counters->next_partition_id < 1 || counters->next_op_id < 1 ||
	    counters->next_op_id > INT64_MAX)
		return dhp_error_set(err, -EINVAL, "invalid counters");
	r = put_meta(store, META_NEXT_PARTITION, NULL, counters->next_partition_id, err);
	return r ? r : put_meta(store, META_NEXT_OP, NULL, (int64_t)counters->next_op_id, err);
}

int dhp_store_put_counters(struct dhp_store *store, const struct dhp_store_counters *counters,
			   struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	return r ? r : store_write_end(store, write_counters(store, counters, &e), &e, err);
}

/* A new store: bind it to this server and write every unit's state. */
static int bind_server(struct dhp_store *store, const struct dhp_server *server,
		       const char *digest, struct dhp_error *err)
{
	int r;

	r = put_meta(store, META_SERVER_NAME, server->name, 0, err);
	if (!r)
		r = put_meta(store, META_SERVER_DIGEST, digest, 0, err);
	if (!r)
		r = dhp_store_put_counters(store, &(struct dhp_store_counters){ 1, 1 }, err);
	for (size_t i = 0; !r && i < server->n_units; i++)
		r = dhp_store_put_unit(store, &server->units[i], err);
	if (!r)
		r = dhp_store_commit(store, true, err);
	if (r)
		store_rollback(store);
	return r;
}

static int check_server(struct dhp_store *store, const struct dhp_server *server,
			const char *digest, const char *stored, struct dhp_error *err)
{
	char name[DHP_NAME_MAX] = "?";
	int r;

	if (!strcmp(digest, stored))
		return 0;
	get_meta(store, META_SERVER_NAME, name, sizeof(name), NULL, NULL);
	r = dhp_error_set(err, -ESTALE,
			  "the state directory belongs to another topology: it was written for server \"%s\", the topology describes server \"%s\"",
			  name, server->name);
	dhp_error_resolve(err, "use the topology it was made with, or another state directory");
	return r;
}

static int load_unit(struct dhp_server *server, sqlite3_stmt *st, struct dhp_error *err)
{
	const char *id = store_column_str(st, 0);
	const char *health = store_column_str(st, 2);
	struct dhp_unit *unit = dhp_server_unit(server, id);

	if (!unit)
		return dhp_error_set(err, -ESTALE,
				     "the store has unit \"%s\", which server \"%s\" does not have",
				     id, server->name);
	if (dhp_health_parse(health, &unit->health))
		return dhp_error_set(err, -EINVAL, "store: unit \"%s\" has unknown health \"%s\"",
				     id, health);
	unit->powered = sqlite3_column_int(st, 1);
	unit->partition = (uint32_t)sqlite3_column_int64(st, 3);
	unit->boot = sqlite3_column_int(st, 4);
	unit->staged_partition = (uint32_t)sqlite3_column_int64(st, 5);
	unit->staged_remove = sqlite3_column_int(st, 6);
	unit->spare = sqlite3_column_int(st, 7);
	return 0;
}

/* One statement for every unit, and a hash lookup per row: 12,544 units
 * load in a few milliseconds. */
static int load_units(struct dhp_store *store, struct dhp_server *server,
		      struct dhp_error *err)
{
	STORE_ONCE(st);
	int rc = SQLITE_DONE, r;

	r = store_prepare(store, "SELECT id, powered, health, partition, boot,"
			  " staged_partition, staged_remove, spare FROM units", &st, err);
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = load_unit(server, st, err);
	if (!r && rc != SQLITE_DONE)
		r = store_error(store, rc, "load units", err);
	return r;
}

static int load_partition(struct dhp_server *server, sqlite3_stmt *st, struct dhp_error *err)
{
	uint32_t id = (uint32_t)sqlite3_column_int64(st, 0);
	const char *name = store_column_str(st, 1);
	const char *profile_name = store_column_str(st, 2);
	const char *state_name = store_column_str(st, 3);
	const char *uuid = store_column_str(st, 4);
	const struct dhp_os_profile *profile = dhp_profile_find(profile_name);
	enum dhp_partition_state state;
	struct dhp_partition *p;

	if (!profile)
		return dhp_error_set(err, -EINVAL,
				     "store: partition \"%s\" has OS profile \"%s\", which this dhp does not know",
				     name, profile_name);
	if (dhp_partition_state_parse(state_name, &state))
		return dhp_error_set(err, -EINVAL, "store: partition \"%s\" has unknown state \"%s\"",
				     name, state_name);
	if (!dhp_uuid_valid(uuid))
		return dhp_error_set(err, -EINVAL, "store: partition \"%s\" has an invalid UUID \"%.40s\"",
				     name, uuid);
	p = dhp_server_add_partition(server, id, name, profile);
	if (!p)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	p->state = state;
	memcpy(p->uuid, uuid, DHP_UUID_LEN);
	return 0;
}

static int load_partitions(struct dhp_store *store, struct dhp_server *server,
			   struct dhp_error *err)
{
	STORE_ONCE(st);
	int rc = SQLITE_DONE, r;

	/* Ids grow with creation: id order is the order listings show. */
	r = store_prepare(store, "SELECT id, name, profile, state, uuid FROM partitions"
			  " ORDER BY id", &st, err);
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = load_partition(server, st, err);
	if (!r && rc != SQLITE_DONE)
		r = store_error(store, rc, "load partitions", err);
	return r;
}

static int load_counters(struct dhp_store *store, struct dhp_store_counters *ret,
			 struct dhp_error *err)
{
	int64_t part, op;
	int r;

	r = get_meta(store, META_NEXT_PARTITION, NULL, 0, &part, err);
	if (!r)
		r = get_meta(store, META_NEXT_OP, NULL, 0, &op, err);
	if (r == -ENOENT || (!r && (part < 1 || part > UINT32_MAX || op < 1)))
		return dhp_error_set(err, -EIO, "store: the counters are missing or invalid");
	if (r)
		return r;
	ret->next_partition_id = (uint32_t)part;
	ret->next_op_id = (uint64_t)op;
	return 0;
}

/*
 * On error the server may be half loaded: the caller frees it. A failed
 * bind leaves nothing in the store.
 */
int dhp_store_load(struct dhp_store *store, struct dhp_server *server,
		   struct dhp_store_counters *ret_counters, struct dhp_error *err)
{
	struct dhp_store_counters counters = { 1, 1 };
	char digest[17], stored[64];
	int r;

	snprintf(digest, sizeof(digest), "%016" PRIx64, dhp_server_digest(server));
	r = get_meta(store, META_SERVER_DIGEST, stored, sizeof(stored), NULL, err);
	if (r == -ENOENT) {
		/* The server is fresh from its topology: that is the state. */
		r = bind_server(store, server, digest, err);
		if (!r)
			*ret_counters = counters;
		return r;
	}
	if (!r)
		r = check_server(store, server, digest, stored, err);
	if (!r)
		r = load_units(store, server, err);
	if (!r)
		r = load_partitions(store, server, err);
	if (!r)
		r = load_counters(store, &counters, err);
	if (!r)
		*ret_counters = counters;
	return r;
}
