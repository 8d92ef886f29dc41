/* SPDX-License-Identifier: MIT */
/*
 * The store seam: the journal the engine keeps of the server's state,
 * operations and events. The engine knows only these calls; src/store/
 * implements them on SQLite (docs/store.md has the schema).
 *
 * Writes are buffered in one open transaction until dhp_store_commit();
 * every write returns 0 or a negative errno, and a commit after a failed
 * write fails (dhp_store_commit).
 * A durable commit survives a power loss (fsync); a plain commit survives a
 * crash of the process. The engine makes a durable commit when it
 * acknowledges a request and when an operation ends: at most two
 * synchronous commits per operation, and fewer when several partitions
 * work at once (group commit, see core/engine.c).
 */
#ifndef DHP_CORE_STORE_H
#define DHP_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "model/event.h"
#include "model/operation.h"
#include "model/server.h"

struct dhp_store;

/* Counters that must never go back, kept in the store. */
struct dhp_store_counters {
	uint32_t next_partition_id;	/* >= 1 */
	uint64_t next_op_id;		/* >= 1 */
};

/*
 * Open (creating if needed) the store file at path and migrate its schema
 * to the current version. A store written by a newer dhp is refused.
 * Caller frees with dhp_store_close(), which rolls back uncommitted writes.
 */
int dhp_store_open(const char *path, struct dhp_store **ret_store, struct dhp_error *err);
void dhp_store_close(struct dhp_store *store);

/*
 * Load the persisted state into server (fresh from its topology): unit
 * state, partitions and counters. An empty store is bound to this server
 * (its name and dhp_server_digest()) and gets every unit's state written.
 * A store bound to another server is refused with -ESTALE.
 */
int dhp_store_load(struct dhp_store *store, struct dhp_server *server,
		   struct dhp_store_counters *ret_counters, struct dhp_error *err);

int dhp_store_put_unit(struct dhp_store *store, const struct dhp_unit *unit,
		       struct dhp_error *err);
int dhp_store_put_partition(struct dhp_store *store, const struct dhp_partition *partition,
			    struct dhp_error *err);
int dhp_store_delete_partition(struct dhp_store *store, uint32_t id, struct dhp_error *err);
int dhp_store_put_counters(struct dhp_store *store, const struct dhp_store_counters *counters,
			   struct dhp_error *err);
/* Insert or update; units are stored by id, so server is needed. */
int dhp_store_put_op(struct dhp_store *store, const struct dhp_server *server,
		     const struct dhp_op *op, struct dhp_error *err);
/* Appends and sets ev->seq. */
int dhp_store_append_event(struct dhp_store *store, struct dhp_event *ev,
			   struct dhp_error *err);

/*
 * Commit the open transaction. A transaction is all its writes or none:
 * once a write of it failed, the store refuses its later writes with the
 * same error, and the commit rolls it back and returns that first failure
 * (so a caller that dropped a write's result cannot commit without it).
 * -EIO after the commit itself when a durable commit's fsync failed: the
 * writes are then in the file but their durability is unknown.
 */
int dhp_store_commit(struct dhp_store *store, bool durable, struct dhp_error *err);

/* Drop the open transaction, if any, and the failure it remembers: none
 * of its writes reaches the file. */
void dhp_store_rollback(struct dhp_store *store);

/* -ENOENT when there is no such operation. */
int dhp_store_get_op(struct dhp_store *store, const struct dhp_server *server,
		     uint64_t id, struct dhp_op *ret_op, struct dhp_error *err);

/*
 * Operations not in a final state, oldest first. Caller frees *ret_ops with
 * free(). *ret_ops is NULL when there are none.
 */
int dhp_store_unfinished_ops(struct dhp_store *store, const struct dhp_server *server,
			     struct dhp_op **ret_ops, size_t *ret_n, struct dhp_error *err);

/*
 * Operations with id > after_id (newest last), at most max; for listings.
 * Caller frees *ret_ops with free().
 */
int dhp_store_list_ops(struct dhp_store *store, const struct dhp_server *server,
		       uint64_t after_id, size_t max, struct dhp_op **ret_ops,
		       size_t *ret_n, struct dhp_error *err);

/* Events with seq > after_seq, oldest first, at most max. Caller frees
 * *ret_events with free(). */
int dhp_store_events(struct dhp_store *store, uint64_t after_seq, size_t max,
		     struct dhp_event **ret_events, size_t *ret_n, struct dhp_error *err);

/* The events of one operation with seq > after_seq, oldest first, at most
 * max. Caller frees *ret_events with free(). */
int dhp_store_op_events(struct dhp_store *store, uint64_t op, uint64_t after_seq, size_t max,
			struct dhp_event **ret_events, size_t *ret_n, struct dhp_error *err);

/* Highest event number written, 0 when none. */
uint64_t dhp_store_last_event(struct dhp_store *store);

/* Oldest event kept (events are pruned oldest first, so those kept are
 * every number from it to dhp_store_last_event()); last + 1 when none. */
int dhp_store_first_event(struct dhp_store *store, uint64_t *ret_seq, struct dhp_error *err);

/*
 * Retention (docs/store.md, "Retention"). The store keeps every unfinished
 * operation, the newest `ops` finished ones and the newest `events`
 * events, though never an event of an unfinished operation nor any newer
 * one; 0 keeps all. dhp_store_open() sets the defaults.
 */
#define DHP_STORE_DEFAULT_OPS_KEPT 1000
#define DHP_STORE_DEFAULT_EVENTS_KEPT 10000
struct dhp_store_retention {
	uint32_t ops;
	uint32_t events;
};
void dhp_store_set_retention(struct dhp_store *store, const struct dhp_store_retention *keep);

/*
 * A write (it joins the open transaction, as a put does): delete what
 * retention does not keep, oldest first, at most a bounded batch of
 * operations and of events per call; the next call continues. It looks
 * at the tables only once some operations or events were written since
 * it last found nothing more to do, so calling it at every commit of an
 * outcome is cheap.
 */
int dhp_store_prune(struct dhp_store *store, struct dhp_error *err);

/*
 * Delete a finished operation (a write). -ENOENT when there is none,
 * -EBUSY when it has not finished; neither touches the transaction. Its
 * events stay: the event journal is pruned oldest first only, so that a
 * client resuming the stream can tell what it missed.
 */
int dhp_store_delete_op(struct dhp_store *store, uint64_t id, struct dhp_error *err);

/*
 * Event destinations: the API's push subscriptions (src/redfish), kept
 * here so that they outlive a restart. Opaque to the store and the
 * engine: a number the store gives (never given twice), the receiver's
 * URI, and the subscription's settings as the API's own JSON text.
 * Writes join the open transaction, as puts do (the API writes through
 * dhp_core_store_write, core/core.h).
 */
int dhp_store_add_destination(struct dhp_store *store, const char *destination,
			      const char *settings, uint64_t *ret_id, struct dhp_error *err);
/* -ENOENT when there is none (then nothing was written). */
int dhp_store_update_destination(struct dhp_store *store, uint64_t id, const char *settings,
				 struct dhp_error *err);
int dhp_store_delete_destination(struct dhp_store *store, uint64_t id, struct dhp_error *err);
/* Call fn for each destination, by number; a negative return of fn stops
 * the walk and is returned. */
typedef int (*dhp_store_destination_fn)(void *arg, uint64_t id, const char *destination,
					const char *settings);
int dhp_store_destinations(struct dhp_store *store, dhp_store_destination_fn fn, void *arg,
			   struct dhp_error *err);

/* SQLite's PRAGMA integrity_check; -EIO with its first message if not ok. */
int dhp_store_integrity_check(struct dhp_store *store, struct dhp_error *err);

#endif
