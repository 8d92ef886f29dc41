/* SPDX-License-Identifier: MIT */
/*
 * The journal of operations. Units are stored by id, not by index, so the
 * rows stay readable and survive a reordering of the topology file; the
 * profile by name; a missing spare as NULL.
 */
#include "store/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OP_COLUMNS "id, kind, state, partition, partition_name, profile, units, spare," \
		   " staged, phase, rolling_back, error_code, error_message," \
		   " error_resolution, created_ms, ended_ms, n_add, target"

/* Room for every unit id of an operation, comma-separated. */
#define OP_UNITS_TEXT_MAX (DHP_OP_MAX_UNITS * DHP_UNIT_ID_MAX)

static int op_check(const struct dhp_server *server, const struct dhp_op *op,
		    struct dhp_error *err)
{
	if (op->id < 1 || op->id > INT64_MAX || (unsigned)op->kind >= DHP_OP_KIND_MAX ||
	    (unsigned)op->state >= DHP_OP_STATE_MAX || op->n_units > DHP_OP_MAX_UNITS ||
	    op->n_add > op->n_units)
		return dhp_error_set(err, -EINVAL, "operation %llu: invalid id, kind, state or units",
				     (unsigned long long)op->id);
	for (unsigned i = 0; i < op->n_units; i++)
		if (op->units[i] >= server->n_units)
			return dhp_error_set(err, -EINVAL, "operation %llu: no unit %u",
					     (unsigned long long)op->id, op->units[i]);
	if (op->spare < -1 || (op->spare >= 0 && (size_t)op->spare >= server->n_units))
		return dhp_error_set(err, -EINVAL, "operation %llu: no unit %d",
				     (unsigned long long)op->id, op->spare);
	return 0;
}

static void units_text(const struct dhp_server *server, const struct dhp_op *op,
		       char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < op->n_units && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "",
					server->units[op->units[i]].id);
}

static int write_op(struct dhp_store *store, const struct dhp_server *server,
		    const struct dhp_op *op, struct dhp_error *err)
{
	char units[OP_UNITS_TEXT_MAX];
	STORE_STMT(st);
	int r;

	r = op_check(server, op, err);
	if (!r)
		r = store_write_begin(store, err);
	/* REPLACE is an upsert here: the id is the only unique column. */
	if (!r)
		r = store_stmt(store, STMT_PUT_OP,
			       "INSERT OR REPLACE INTO operations (" OP_COLUMNS ") VALUES"
			       " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
			       " ?17, ?18)",
			       &st, err);
	if (r)
		return r;
	units_text(server, op, units, sizeof(units));
	sqlite3_bind_int64(st, 1, (int64_t)op->id);
	sqlite3_bind_text(st, 2, dhp_op_kind_name(op->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, dhp_op_state_name(op->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, op->partition);
	sqlite3_bind_text(st, 5, op->partition_name, -1, SQLITE_STATIC);
	if (op->profile)
		sqlite3_bind_text(st, 6, op->profile->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, units, -1, SQLITE_STATIC);
	if (op->spare >= 0)
		sqlite3_bind_text(st, 8, server->units[op->spare].id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, op->staged);
	sqlite3_bind_int(st, 10, op->phase);
	sqlite3_bind_int(st, 11, op->rolling_back);
	sqlite3_bind_int(st, 12, op->error.code);
	sqlite3_bind_text(st, 13, op->error.message, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, op->error.resolution, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, (int64_t)op->created_ms);
	sqlite3_bind_int64(st, 16, (int64_t)op->ended_ms);
	sqlite3_bind_int(st, 17, (int)op->n_add);
	sqlite3_bind_int64(st, 18, op->target);
	r = store_step_done(store, st, "save operation", err);
	if (!r && op->id > store->max_op)
		store->max_op = op->id;
	return r;
}

int dhp_store_put_op(struct dhp_store *store, const struct dhp_server *server,
		     const struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	return r ? r : store_write_end(store, write_op(store, server, op, &e), &e, err);
}

/* dhp_server_unit() only reads the server, though it is not declared so. */
static int unit_index(const struct dhp_server *server, uint64_t op, const char *id,
		      uint32_t *ret_index, struct dhp_error *err)
{
	struct dhp_unit *unit = dhp_server_unit((struct dhp_server *)server, id);

	if (!unit)
		return dhp_error_set(err, -ESTALE,
				     "store: operation %llu names unit \"%s\", which server \"%s\" does not have",
				     (unsigned long long)op, id, server->name);
	*ret_index = dhp_server_unit_index(server, unit);
	return 0;
}

static int parse_units(const struct dhp_server *server, const char *text,
		       struct dhp_op *op, struct dhp_error *err)
{
	char id[DHP_UNIT_ID_MAX];
	int r;

	while (*text) {
		size_t len = strcspn(text, ",");

		if (op->n_units == DHP_OP_MAX_UNITS)
			return dhp_error_set(err, -EIO, "store: operation %llu has more than %d units",
					     (unsigned long long)op->id, DHP_OP_MAX_UNITS);
		if (len >= sizeof(id))
			return dhp_error_set(err, -ESTALE,
					     "store: operation %llu names a unit id longer than any unit's",
					     (unsigned long long)op->id);
		snprintf(id, sizeof(id), "%.*s", (int)len, text);
		r = unit_index(server, op->id, id, &op->units[op->n_units], err);
		if (r)
			return r;
		op->n_units++;
		text += len + (text[len] == ',');
	}
	return 0;
}

/* The enum and profile columns; NULL profile is none. */
static int parse_names(sqlite3_stmt *st, struct dhp_op *op, struct dhp_error *err)
{
	const char *kind = store_column_str(st, 1);
	const char *state = store_column_str(st, 2);

	if (dhp_op_kind_parse(kind, &op->kind))
		return dhp_error_set(err, -EINVAL, "store: operation %llu has unknown kind \"%s\"",
				     (unsigned long long)op->id, kind);
	if (dhp_op_state_parse(state, &op->state))
		return dhp_error_set(err, -EINVAL, "store: operation %llu has unknown state \"%s\"",
				     (unsigned long long)op->id, state);
	if (sqlite3_column_type(st, 5) == SQLITE_NULL)
		return 0;
	op->profile = dhp_profile_find(store_column_str(st, 5));
	if (!op->profile)
		return dhp_error_set(err, -EINVAL,
				     "store: operation %llu has OS profile \"%s\", which this dhp does not know",
				     (unsigned long long)op->id, store_column_str(st, 5));
	return 0;
}

/* One row of OP_COLUMNS into *op. */
static int op_from_row(const struct dhp_server *server, sqlite3_stmt *st,
		       struct dhp_op *op, struct dhp_error *err)
{
	uint32_t spare = 0;
	int r;

	memset(op, 0, sizeof(*op));
	op->id = (uint64_t)sqlite3_column_int64(st, 0);
	r = parse_names(st, op, err);
	if (!r)
		r = parse_units(server, store_column_str(st, 6), op, err);
	if (r)
		return r;
	op->spare = -1;
	if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
		r = unit_index(server, op->id, store_column_str(st, 7), &spare, err);
		if (r)
			return r;
		op->spare = (int32_t)spare;
	}
	op->partition = (uint32_t)sqlite3_column_int64(st, 3);
	store_column_text(st, 4, op->partition_name, sizeof(op->partition_name));
	op->staged = sqlite3_column_int(st, 8);
	op->phase = sqlite3_column_int(st, 9);
	op->rolling_back = sqlite3_column_int(st, 10);
	op->error.code = sqlite3_column_int(st, 11);
	store_column_text(st, 12, op->error.message, sizeof(op->error.message));
	store_column_text(st, 13, op->error.resolution, sizeof(op->error.resolution));
	op->created_ms = (uint64_t)sqlite3_column_int64(st, 14);
	op->ended_ms = (uint64_t)sqlite3_column_int64(st, 15);
	op->n_add = (unsigned)sqlite3_column_int(st, 16);
	op->target = (uint32_t)sqlite3_column_int64(st, 17);
	if (op->n_add > op->n_units)
		return dhp_error_set(err, -EINVAL, "store: operation %llu adds %u of its %u units",
				     (unsigned long long)op->id, op->n_add, op->n_units);
	return 0;
}

int dhp_store_get_op(struct dhp_store *store, const struct dhp_server *server,
		     uint64_t id, struct dhp_op *ret_op, struct dhp_error *err)
{
	struct dhp_op op;
	STORE_STMT(st);
	int rc, r;

	r = store_stmt(store, STMT_GET_OP,
		       "SELECT " OP_COLUMNS " FROM operations WHERE id = ?1", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return dhp_error_set(err, -ENOENT, "no operation %llu", (unsigned long long)id);
	if (rc != SQLITE_ROW)
		return store_error(store, rc, "read operation", err);
	r = op_from_row(server, st, &op, err);
	if (!r)
		*ret_op = op;
	return r;
}

/* Every row of a prepared query; the array grows as rows come. */
static int collect_ops(struct dhp_store *store, const struct dhp_server *server,
		       sqlite3_stmt *st, struct dhp_op **ret_ops, size_t *ret_n,
		       struct dhp_error *err)
{
	struct dhp_op *ops = NULL, *op;
	size_t n = 0, cap = 0;
	int rc = SQLITE_DONE, r = 0;

	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		op = store_grow((void **)&ops, &n, &cap, sizeof(*ops));
		r = op ? op_from_row(server, st, op, err)
		       : dhp_error_set(err, -ENOMEM, "out of memory");
	}
	if (!r && rc != SQLITE_DONE)
		r = store_error(store, rc, "read operations", err);
	if (r) {
		free(ops);
		return r;
	}
	*ret_ops = ops;
	*ret_n = n;
	return 0;
}

int dhp_store_unfinished_ops(struct dhp_store *store, const struct dhp_server *server,
			     struct dhp_op **ret_ops, size_t *ret_n, struct dhp_error *err)
{
	STORE_ONCE(st);
	int r;

	/* The state names come from the one table in model/names.c. */
	r = store_prepare(store, "SELECT " OP_COLUMNS " FROM operations"
			  " WHERE state IN (?1, ?2) ORDER BY id", &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, dhp_op_state_name(DHP_OP_QUEUED), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dhp_op_state_name(DHP_OP_RUNNING), -1, SQLITE_STATIC);
	return collect_ops(store, server, st, ret_ops, ret_n, err);
}

int dhp_store_list_ops(struct dhp_store *store, const struct dhp_server *server,
		       uint64_t after_id, size_t max, struct dhp_op **ret_ops,
		       size_t *ret_n, struct dhp_error *err)
{
	STORE_ONCE(st);
	int r;

	r = store_prepare(store, "SELECT " OP_COLUMNS " FROM operations"
			  " WHERE id > ?1 ORDER BY id LIMIT ?2", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, after_id > INT64_MAX ? INT64_MAX : (int64_t)after_id);
	sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	return collect_ops(store, server, st, ret_ops, ret_n, err);
}

/* -ENOENT, or -EBUSY when the operation has not finished. */
static int check_finished(struct dhp_store *store, uint64_t id, struct dhp_error *err)
{
	STORE_ONCE(st);
	enum dhp_op_state state;
	int rc, r;

	r = store_prepare(store, "SELECT state FROM operations WHERE id = ?1", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, id > INT64_MAX ? INT64_MAX : (int64_t)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return dhp_error_set(err, -ENOENT, "no operation %llu", (unsigned long long)id);
	if (rc != SQLITE_ROW)
		return store_error(store, rc, "read operation", err);
	if (dhp_op_state_parse(store_column_str(st, 0), &state) || !dhp_op_state_final(state)) {
		dhp_error_set(err, -EBUSY, "operation %llu has not finished (%s)",
			      (unsigned long long)id, store_column_str(st, 0));
		return dhp_error_resolve(err, "wait until it has ended, then delete it");
	}
	return 0;
}

static int delete_op(struct dhp_store *store, uint64_t id, struct dhp_error *err)
{
	STORE_ONCE(st);
	int r = store_write_begin(store, err);

	if (!r)
		r = store_prepare(store, "DELETE FROM operations WHERE id = ?1", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	return store_step_done(store, st, "delete operation", err);
}

int dhp_store_delete_op(struct dhp_store *store, uint64_t id, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	if (!r)
		r = check_finished(store, id, err);
	return r ? r : store_write_end(store, delete_op(store, id, &e), &e, err);
}
