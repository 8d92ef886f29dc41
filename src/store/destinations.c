/* SPDX-License-Identifier: MIT */
/*
 * Event destinations: the Redfish API's push subscriptions, one row each
 * (core/store.h). The store keeps them and does not read them: settings
 * is the API's JSON text. Subscriptions change rarely, so the statements
 * are prepared each time rather than cached.
 */
#include "store/internal.h"

static int write_add(struct dhp_store *store, const char *destination, const char *settings,
		     uint64_t *ret_id, struct dhp_error *err)
{
	STORE_ONCE(st);
	int r = store_write_begin(store, err);

	if (!r)
		r = store_prepare(store, "INSERT INTO event_destinations (destination, settings)"
				  " VALUES (?1, ?2)", &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, destination, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, settings, -1, SQLITE_STATIC);
	r = store_step_done(store, st, "add event destination", err);
	if (!r)
		*ret_id = (uint64_t)sqlite3_last_insert_rowid(store->db);
	return r;
}

int dhp_store_add_destination(struct dhp_store *store, const char *destination,
			      const char *settings, uint64_t *ret_id, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	return r ? r : store_write_end(store, write_add(store, destination, settings, ret_id, &e),
				       &e, err);
}

/* One statement that changes the row of id (settings NULL: delete it). */
static int write_row(struct dhp_store *store, uint64_t id, const char *settings,
		     struct dhp_error *err)
{
	STORE_ONCE(st);
	int r;

	if (id > INT64_MAX)
		return dhp_error_set(err, -ENOENT, "no event destination %llu",
				     (unsigned long long)id);
	r = store_write_begin(store, err);
	if (!r)
		r = store_prepare(store, settings
				  ? "UPDATE event_destinations SET settings = ?2 WHERE id = ?1"
				  : "DELETE FROM event_destinations WHERE id = ?1", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	if (settings)
		sqlite3_bind_text(st, 2, settings, -1, SQLITE_STATIC);
	r = store_step_done(store, st, settings ? "update event destination"
						: "delete event destination", err);
	return r;
}

int dhp_store_update_destination(struct dhp_store *store, uint64_t id, const char *settings,
				 struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	if (r)
		return r;
	r = store_write_end(store, write_row(store, id, settings, &e), &e, err);
	if (!r && !sqlite3_changes(store->db))
		return dhp_error_set(err, -ENOENT, "no event destination %llu",
				     (unsigned long long)id);
	return r;
}

int dhp_store_delete_destination(struct dhp_store *store, uint64_t id, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = store_write_check(store, err);

	return r ? r : store_write_end(store, write_row(store, id, NULL, &e), &e, err);
}

int dhp_store_destinations(struct dhp_store *store, dhp_store_destination_fn fn, void *arg,
			   struct dhp_error *err)
{
	STORE_ONCE(st);
	int rc = SQLITE_DONE, r;

	r = store_prepare(store, "SELECT id, destination, settings FROM event_destinations"
			  " ORDER BY id", &st, err);
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn(arg, (uint64_t)sqlite3_column_int64(st, 0), store_column_str(st, 1),
		       store_column_str(st, 2));
	if (!r && rc != SQLITE_DONE)
		r = store_error(store, rc, "read event destinations", err);
	return r;
}
